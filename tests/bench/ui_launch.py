"""Benchmark: launch to interactive home, warm (the real app as a child process).

    scripts/in-test-session.sh .venv/bin/python tests/bench/ui_launch.py \
        [--runs 5] [--catalog test] [--tv]

Starts ``python -m ui.cli -v --screenshot FILE --catalog test`` (the bundled control plane, the
catalog already generated) once to warm the art cache and the page cache, then ``--runs`` times
more with the same data directory, and measures from the child's start to its "home ready" log
line (the home rows on screen). The child then saves its screenshot and exits; one that does
not within ``--timeout`` is killed. Prints every run, the median, and PASS/FAIL against the
target (1.5 s); exits 1 on FAIL.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
TARGET_S = 1.5


def launch(data_dir: Path, catalog: str, tv: bool, timeout_s: float) -> float | None:
    """Seconds from the child's start to "home ready", or None if it never came."""
    shot = data_dir / "launch.png"
    cmd = [sys.executable, "-m", "ui.cli", "-v", "--screenshot", str(shot), "--catalog", catalog,
           "--data-dir", str(data_dir), *(["--tv"] if tv else [])]
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    ready: list[float] = []
    tail: list[str] = []
    start = time.perf_counter()
    child = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                             stderr=subprocess.PIPE, text=True)

    def read() -> None:
        assert child.stderr is not None
        for line in child.stderr:
            if not ready and "home ready" in line:
                ready.append(time.perf_counter() - start)
            tail[:] = [*tail[-19:], line.rstrip()]

    reader = threading.Thread(target=read, name="launch-stderr")
    reader.start()
    try:
        child.wait(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        print(f"  the app did not exit within {timeout_s:.0f} s: killed", file=sys.stderr)
        child.kill()
        child.wait()
    finally:
        reader.join()
    if not ready:
        print("  no \"home ready\" line; the app's last lines:\n    " + "\n    ".join(tail),
              file=sys.stderr)
        return None
    return ready[0]


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--catalog", default="test", choices=("test", "default"))
    parser.add_argument("--tv", action="store_true", help="start in TV mode")
    parser.add_argument("--timeout", type=float, default=120.0)
    args = parser.parse_args()
    if args.runs < 1:
        parser.error("--runs must be ≥ 1")
    if not os.environ.get("DISPLAY") and not os.environ.get("WAYLAND_DISPLAY"):
        print("no display: run this inside scripts/in-test-session.sh", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="edgeplay-launch-") as tmp:
        data_dir = Path(tmp)
        warm = launch(data_dir, args.catalog, args.tv, args.timeout)
        if warm is None:
            return 1
        print(f"warm-up (fills the art cache): {warm * 1000:.0f} ms")
        times = []
        for i in range(args.runs):
            took = launch(data_dir, args.catalog, args.tv, args.timeout)
            if took is None:
                return 1
            times.append(took)
            print(f"run {i + 1}: {took * 1000:.0f} ms")
    median = statistics.median(times)
    ok = median <= TARGET_S
    print(f"launch to home ready ({args.catalog} catalog{', TV' if args.tv else ''}): median "
          f"{median * 1000:.0f} ms of {len(times)}, min {min(times) * 1000:.0f}, max "
          f"{max(times) * 1000:.0f}  (target ≤ {TARGET_S:g} s) {'PASS' if ok else 'FAIL'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
