"""The fuzzers of the suite, run for longer: executions per second and findings.

    scripts/in-test-session.sh \\
        .venv/bin/python -m tests.bench.fuzz [--seconds 300] [--seed 1]
        [--only controlplane|playlist|mpd]

*controlplane*: a bundled control plane on the fake catalog (its own temporary state, one edge);
every JSON-bodied endpoint (docs/protocol.md) fed mutated bodies over HTTP by
``tests/integration/test_controlplane_fuzz.py``'s target: no 500, no traceback in an answer or in
the server's log, every error the JSON shape, the server's RSS growth reported. *playlist*:
``tests/unit/player/test_manifest_fuzz.py``'s target in this process: a parsed playlist or a
ManifestError, nothing else. *mpd*: ``tests/unit/player/test_dash_fuzz.py``'s target: a DASH
MPD read into the model or a ManifestError.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from player.bundled import BundledControlPlane  # noqa: E402
from tests.helpers.fake_catalog import make_fake_catalog  # noqa: E402
from tests.helpers.fuzz import Mutator, Stats, run  # noqa: E402


def report(name: str, stats: Stats, extra: str = "") -> None:
    print(f"{name:13} {stats.executions:9d} executions in {stats.seconds:6.1f} s = "
          f"{stats.per_second:8.0f}/s; findings {len(stats.findings)}{extra}", flush=True)
    for finding in stats.findings[:10]:
        print("   ", finding[:400])


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=300.0, help="per fuzzer (default 300)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--only", choices=("controlplane", "playlist", "mpd"))
    args = parser.parse_args()
    failed = False
    if args.only in (None, "playlist"):
        from tests.unit.player.test_manifest_fuzz import SEEDS, parse_both
        stats = run(parse_both, Mutator(args.seed), SEEDS, seconds=args.seconds)
        report("playlist", stats)
        failed |= bool(stats.findings)
    if args.only in (None, "mpd"):
        from tests.unit.player.test_dash_fuzz import SEEDS as MPD_SEEDS
        from tests.unit.player.test_dash_fuzz import read
        stats = run(read, Mutator(args.seed), MPD_SEEDS, seconds=args.seconds)
        report("mpd", stats)
        failed |= bool(stats.findings)
    if args.only in (None, "controlplane"):
        from tests.integration.test_controlplane_fuzz import fuzz_controlplane
        with tempfile.TemporaryDirectory() as tmp:
            root = Path(tmp)
            make_fake_catalog(root / "catalog", titles=4)
            cp = BundledControlPlane(
                ["--catalog-dir", str(root / "catalog"), "--state-dir", str(root / "state"),
                 "--edges", "1", "--request-log", str(root / "requests.jsonl")],
                cwd=REPO, env={**os.environ, "PYTHONPATH": str(REPO)})
            cp.start()
            try:
                stats, grown = fuzz_controlplane(cp, root / "catalog", seconds=args.seconds,
                                                 seed=args.seed)
                logged = "\n".join(cp.output)
                traces = logged.count("Traceback")
            finally:
                cp.stop()
            report("controlplane", stats, f"; server RSS grew {grown} KiB; "
                   f"tracebacks in its log {traces}")
            failed |= bool(stats.findings) or traces > 0
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
