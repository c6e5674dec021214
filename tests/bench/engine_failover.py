"""Failover under a fault mid-stream, per fault kind, and a slow origin under seeks, with the whole
engine and the real libmpv. Exits 1 when a goal is missed.

    .venv/bin/python tests/bench/engine_failover.py [--reps 3] [--speed 12] [--seeks 20]
    ( while :; do :; done ) & hog=$!; .venv/bin/python tests/bench/engine_failover.py; kill $hog

**Faults.** The ``long`` title of tests/bench/engine_media.py, made ``--segments`` × 4 s long
(default 30: 120 s, twice the player's 60 s buffer, so segments are still being fetched when the
fault comes), plays at ``speed``× from the start; once 8 s are played and ≥ 8 s are buffered, the
fault goes on the edge that served the latest segment. Prints per kind: rebuffer seconds (stalls
only), rungs stepped down, detection time of the first failover away from the faulty edge
(median and max over reps).

**Slow origin.** Every edge answers every request 0.5 s late (a ``latency`` fault on all paths,
from before the start): the title must start, and ``--seeks`` seeks outside the buffer must each
play on with no failover at all. Prints the failovers, rebuffers and the time from each seek to
playing on.

Goals (exit 1 when missed): every fault kind detected in every rep; hang detection ≤ 1.5 s;
the slow origin plays with 0 failovers over the seeks.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from player.mpv_seam import create_mpv
from tests.bench.engine_common import (
    catalog_args,
    median,
    session,
    signed_in,
    start_controlplane,
)

FAULTS = {"kill": {"kind": "kill"}, "hang": {"kind": "hang"},
          "error": {"kind": "error", "rate": 1.0}, "corrupt": {"kind": "corrupt", "bytes": 200},
          "truncate": {"kind": "truncate", "fraction": 0.5}}
EDGES = ("edge-1", "edge-2", "edge-3")
HANG_GOAL_MS = 1500.0
SLOW_ORIGIN_MS = 500.0


async def once(base_url: str, admin_url: str, admin_headers: dict[str, str],
               fault: dict[str, object], speed: float) -> tuple[float, int, float | None, str]:
    cp, profile = await signed_in(base_url)
    mpv = create_mpv()
    try:
        async with session(cp, profile, "long", mpv) as s, \
                httpx.AsyncClient(base_url=admin_url, headers=admin_headers) as admin:
            mpv.set("speed", speed)
            sched = s.scheduler
            assert sched is not None
            while not (s.position_s >= 8.0 and sched.buffer_s >= 8.0):
                await asyncio.sleep(0.02)
            victim, rung = sched.fetched[-1][2], sched.rung or 0
            (await admin.post(f"/admin/edges/{victim}/faults", json=fault)).raise_for_status()
            try:
                await asyncio.wait_for(s.wait_ended(), 60)
            finally:
                for name in EDGES:
                    await admin.delete(f"/admin/edges/{name}/faults")
            lowest = min((e["to"] for e in s.telemetry.events
                          if e["type"] == "rendition_switch" and e["from"] is not None
                          and e["seq"] > 0), default=rung)
        report = s.report()
        away = [f for f in report.failovers if f.edge_from == victim]
        return (report.rebuffer_s, max(0, rung - min(lowest, rung)),
                away[0].detection_ms if away else None, away[0].cause if away else "-")
    finally:
        mpv.terminate()
        await cp.aclose()


async def slow_origin(base_url: str, admin_url: str, admin_headers: dict[str, str],
                      seeks: int, speed: float) -> tuple[int, int, list[float], list[str]]:
    """(failovers, stall rebuffers, seconds from each seek to playing on, failover causes)."""
    async with httpx.AsyncClient(base_url=admin_url, headers=admin_headers) as admin:
        for name in EDGES:
            (await admin.post(f"/admin/edges/{name}/faults",
                              json={"kind": "latency", "ms": SLOW_ORIGIN_MS})).raise_for_status()
        cp, profile = await signed_in(base_url)
        mpv = create_mpv()
        waits: list[float] = []
        try:
            async with session(cp, profile, "long", mpv) as s:
                mpv.set("speed", speed)
                duration = s.duration_s
                for k in range(seeks):
                    # spread over the title, never next to the last target: outside the buffer
                    target = ((k * 37) % 23 + 0.5) / 24 * (duration - 8.0)
                    started = time.monotonic()
                    await s.seek(target)
                    while s.position_s < target + 0.5 and not s.ended:
                        await asyncio.sleep(0.02)
                        if time.monotonic() - started > 30:
                            raise TimeoutError(f"seek {k} to {target:.1f} s never played on")
                    waits.append(time.monotonic() - started)
            report = s.report()
        finally:
            mpv.terminate()
            await cp.aclose()
            for name in EDGES:
                await admin.delete(f"/admin/edges/{name}/faults")
    return (len(report.failovers), report.rebuffer_count, waits,
            sorted({f.cause for f in report.failovers}))


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--speed", type=float, default=12.0)
    parser.add_argument("--segments", type=int, default=30,
                        help="length of the title in 4 s segments (default 30: 120 s)")
    parser.add_argument("--seeks", type=int, default=20)
    args = parser.parse_args()
    misses: list[str] = []
    cp = start_controlplane(catalog_args("media", long_segments=args.segments))
    try:
        print(f"load average {os.getloadavg()[0]:.2f}; title {args.segments * 4} s at "
              f"{args.speed:g}x")
        print(f"{'fault':9} {'cause':13} {'rebuffer s':>10} {'steps down':>10} "
              f"{'detection ms (median, max)':>28}")
        for kind, fault in FAULTS.items():
            runs = [asyncio.run(once(cp.ready.base_url, cp.ready.admin_url, cp.ready.admin_headers,
                                    fault, args.speed))
                    for _ in range(args.reps)]
            detections = [r[2] for r in runs if r[2] is not None]
            det = (f"{median(detections):8.1f}, {max(detections):8.1f}" if detections
                   else "not detected")
            print(f"{kind:9} {runs[0][3]:13} {max(r[0] for r in runs):10.2f} "
                  f"{max(r[1] for r in runs):10d} {det:>28}", flush=True)
            if len(detections) < len(runs):
                misses.append(f"{kind}: not detected in {len(runs) - len(detections)} of "
                              f"{len(runs)} runs")
            if kind == "hang" and detections and max(detections) > HANG_GOAL_MS:
                misses.append(f"hang detected in {max(detections):.0f} ms "
                              f"(goal ≤ {HANG_GOAL_MS:.0f} ms)")
            time.sleep(0.5)
        failovers, rebuffers, waits, causes = asyncio.run(slow_origin(
            cp.ready.base_url, cp.ready.admin_url, cp.ready.admin_headers, args.seeks,
            min(args.speed, 4.0)))
        print(f"slow origin ({SLOW_ORIGIN_MS:.0f} ms to first byte, {args.seeks} seeks): "
              f"{failovers} failovers {causes or ''}, {rebuffers} stall rebuffers, seek to "
              f"playing median {median(waits) * 1000:.0f} ms, max {max(waits) * 1000:.0f} ms",
              flush=True)
        if failovers:
            misses.append(f"slow origin: {failovers} false failovers ({', '.join(causes)})")
    except Exception as exc:  # a run that cannot finish is a miss, said plainly
        misses.append(f"{type(exc).__name__}: {exc}")
    finally:
        cp.stop()
    for miss in misses:
        print(f"MISSED: {miss}", file=sys.stderr)
    return 1 if misses else 0


if __name__ == "__main__":
    sys.exit(main())
