"""Engine CPU during steady playback, and the headless player's peak RSS.

    .venv/bin/python tests/bench/engine_resources.py [--seconds 20]

**CPU.** The ``long`` title (tests/bench/engine_media.py) plays at 1× real time in this process,
vo/ao null, twice: through the engine (session, scheduler, bridge) and with mpv alone opening
the same top rendition straight from an edge. Per-thread CPU comes from
``/proc/self/task/*/stat`` (utime + stime) over the same window after the first 4 s: the engine
is the asyncio loop thread (MainThread here) plus the session's ``mpv-cmd`` thread; mpv's own
threads (demux, decoders, vo/ao) are reported apart. The mpv-alone run shows what decoding costs
without the engine (its demuxer then also does HTTP and AES itself).

**RSS.** ``edgeplay play long --headless --duration S --control-plane URL`` runs as a child;
its peak RSS is ``resource.getrusage(RUSAGE_CHILDREN).ru_maxrss`` read in a fresh wrapper
process whose only child is the player.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from player.manifest import parse_multivariant
from player.mpv_seam import create_mpv, wait_for_first_frame
from tests.bench.engine_common import (
    REPO,
    catalog_args,
    session,
    signed_in,
    start_controlplane,
)

TICK = os.sysconf("SC_CLK_TCK")


def thread_cpu() -> dict[str, float]:
    """CPU seconds per thread name (threads of the same name summed)."""
    out: dict[str, float] = {}
    names = {t.native_id: t.name for t in threading.enumerate()}
    for task in Path("/proc/self/task").iterdir():
        try:
            stat = (task / "stat").read_text()
        except OSError:
            continue
        comm = stat[stat.index("(") + 1: stat.rindex(")")]
        fields = stat[stat.rindex(")") + 2:].split()
        seconds = (int(fields[11]) + int(fields[12])) / TICK
        name = names.get(int(task.name), comm)
        out[name] = out.get(name, 0.0) + seconds
    return out


def delta(a: dict[str, float], b: dict[str, float]) -> dict[str, float]:
    return {k: b[k] - a.get(k, 0.0) for k in b}


async def engine_run(base_url: str, seconds: float) -> dict[str, float]:
    cp, profile = await signed_in(base_url)
    mpv = create_mpv()
    try:
        async with session(cp, profile, "long", mpv, max_rung=4) as s:
            await asyncio.sleep(4)
            before = thread_cpu()
            await asyncio.sleep(seconds)
            after = thread_cpu()
            print(f"  engine run: rung {s.scheduler.rung if s.scheduler else '?'}, "
                  f"position {s.position_s:.1f} s")
    finally:
        mpv.terminate()
        await cp.aclose()
    return delta(before, after)


async def plain_run(base_url: str, seconds: float) -> dict[str, float]:
    cp, profile = await signed_in(base_url)
    token = cp.credentials.access_token if cp.credentials else ""
    playback = await cp.start_playback("long", profile)
    mv = parse_multivariant(await cp.fetch_text(playback.manifest_url), playback.manifest_url)
    url = mv.pathway(mv.default_pathway).variants[-1].uri
    mpv = create_mpv(file_options=None, http_header_fields=f"Authorization: Bearer {token}")
    try:
        wait_for_first_frame(mpv, url, 20)
        await asyncio.sleep(4)
        before = thread_cpu()
        await asyncio.sleep(seconds)
        after = thread_cpu()
    finally:
        mpv.terminate()
        await cp.aclose()
    return delta(before, after)


def show(label: str, cpu: dict[str, float], seconds: float) -> None:
    engine = cpu.get("MainThread", 0.0) + sum(v for k, v in cpu.items() if "mpv-cmd" in k)
    total = sum(cpu.values())
    print(f"[{label}] over {seconds:.0f} s: process {100 * total / seconds:5.1f} % of a core; "
          f"engine threads {100 * engine / seconds:5.1f} %; "
          f"mpv threads {100 * (total - engine) / seconds:5.1f} %")
    top = sorted(cpu.items(), key=lambda kv: -kv[1])[:6]
    print("    " + ", ".join(f"{k} {100 * v / seconds:.1f}%" for k, v in top))


def peak_rss(base_url: str, seconds: float) -> None:
    wrapper = (
        "import resource, subprocess, sys\n"
        "r = subprocess.run(sys.argv[1:], capture_output=True, text=True)\n"
        "print(r.returncode, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n")
    cmd = [sys.executable, "-c", wrapper, sys.executable, "-m", "ui.cli", "play", "long",
           "--headless", "--json", "--duration", str(seconds), "--control-plane", base_url,
           "--start-over", "--max-rung", "4"]
    out = subprocess.run(cmd, capture_output=True, text=True, cwd=REPO,
                         env={**os.environ, "PYTHONPATH": str(REPO)}, timeout=120)
    code, rss_kib = out.stdout.split()
    print(f"[rss] headless player, {seconds:.0f} s of the 1080p rung: exit {code}, "
          f"peak RSS {int(rss_kib) / 1024:.1f} MiB")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=20.0)
    args = parser.parse_args()
    cp = start_controlplane(catalog_args("media"))
    try:
        show("engine + mpv", asyncio.run(engine_run(cp.ready.base_url, args.seconds)),
             args.seconds)
        show("mpv alone", asyncio.run(plain_run(cp.ready.base_url, args.seconds)), args.seconds)
        peak_rss(cp.ready.base_url, args.seconds)
    finally:
        cp.stop()
    time.sleep(0)


if __name__ == "__main__":
    main()
