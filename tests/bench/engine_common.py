"""Shared plumbing of the engine benchmarks: a control plane, a signed-in client, a session."""

from __future__ import annotations

import itertools
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from player.api import ControlPlaneClient  # noqa: E402
from player.bundled import BundledControlPlane, ReadyInfo  # noqa: E402
from player.mpv_seam import MpvLike  # noqa: E402
from player.session import PlaybackSession, SessionConfig  # noqa: E402
from player.telemetry import TelemetryConfig  # noqa: E402

_accounts = itertools.count()


def catalog_args(catalog: str, long_segments: int = 12) -> list[str]:
    """``test``: the generated test catalog; ``media``: tests/bench/engine_media.py's (its
    ``long`` title ``long_segments`` × 4 s)."""
    if catalog == "media":
        from tests.bench.engine_media import make_media_catalog
        root = Path(tempfile.mkdtemp(prefix="edgeplay-bench-media-"))
        make_media_catalog(root, long_segments=long_segments)
        return ["--catalog-dir", str(root)]
    cache = Path.home() / ".cache" / "edgeplay" / "controlplane"
    return ["--catalog", catalog, "--cache-dir", str(cache)]


def start_controlplane(args: Sequence[str]) -> BundledControlPlane:
    state = tempfile.mkdtemp(prefix="edgeplay-bench-state-")
    cp = BundledControlPlane([*args, "--state-dir", state, "--request-log", os.devnull],
                             cwd=REPO, env={**os.environ, "PYTHONPATH": str(REPO)})
    cp.start()
    return cp


def start_controlplane_in(netns: str, host: str, args: Sequence[str]) -> tuple[
        subprocess.Popen[str], ReadyInfo]:
    """The control plane inside network namespace ``netns``, listening on ``host``."""
    state = tempfile.mkdtemp(prefix="edgeplay-bench-state-")
    proc = subprocess.Popen(
        ["ip", "netns", "exec", netns, sys.executable, "-m", "controlplane", *args,
         "--host", host, "--state-dir", state, "--request-log", os.devnull],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)})
    assert proc.stdout is not None
    line = proc.stdout.readline()
    return proc, ReadyInfo.parse(line)


async def signed_in(base_url: str) -> tuple[ControlPlaneClient, str]:
    cp = ControlPlaneClient(base_url)
    n = next(_accounts)
    await cp.register_device(f"bench{n}-{time.time_ns()}@edgeplay.test", "edgeplay-pw",
                             "bench", create_account=True)
    return cp, str((await cp.profiles())[0]["id"])


@asynccontextmanager
async def session(cp: ControlPlaneClient, profile: str, title: str, mpv: MpvLike,
                  **config: Any) -> AsyncIterator[PlaybackSession]:
    cfg = SessionConfig(start_over=True, progress_interval_s=None,
                        telemetry=TelemetryConfig(flush_interval_s=5.0), **config)
    s = PlaybackSession(cp, title, profile, mpv, config=cfg)
    try:
        await s.play()
        yield s
    finally:
        await s.stop()


def summary(values_ms: Sequence[float]) -> str:
    ordered = sorted(values_ms)
    p90 = ordered[min(len(ordered) - 1, round(0.9 * (len(ordered) - 1)))]
    return f"median {statistics.median(ordered):7.1f} ms   p90 {p90:7.1f} ms"


def median(values: Sequence[float]) -> float:
    return float(statistics.median(values))


def dump(obj: Any) -> str:
    return json.dumps(obj, indent=2, default=str)
