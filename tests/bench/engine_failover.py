"""Failover under a fault mid-stream, per fault kind, with the whole engine and the real libmpv.

    .venv/bin/python tests/bench/engine_failover.py [--reps 3] [--speed 12]

The ``long`` title of tests/bench/engine_media.py (48 s, five rungs) plays at ``speed``× from the
start; once 8 s are played and ≥ 8 s are buffered, the fault goes on the edge that served the
latest segment. Prints per kind: rebuffer seconds (stalls only), rungs stepped down, detection
time of the first failover away from the faulty edge (median over reps).
"""

from __future__ import annotations

import argparse
import asyncio
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
                await asyncio.wait_for(s.wait_ended(), 30)
            finally:
                for name in ("edge-1", "edge-2", "edge-3"):
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


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--speed", type=float, default=12.0)
    args = parser.parse_args()
    cp = start_controlplane(catalog_args("media"))
    try:
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
            time.sleep(0.5)
    finally:
        cp.stop()


if __name__ == "__main__":
    main()
