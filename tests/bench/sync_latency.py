"""Continue-watching sync: end-to-end latency and the outbox's replay rate (docs/sync.md).

``python tests/bench/sync_latency.py [--runs 30] [--items 5000] [--json]``

* **Latency**: device A (its own outbox and replayer) pauses → the reporter commits the event to
  A's outbox and wakes the replayer → ``POST /v1/progress/batch`` → device B polls
  ``GET /v1/profiles/{p}/progress`` every ``--poll-ms`` (default 20) → the time until B sees
  A's new position; median and p90 over ``--runs`` pauses, loopback, the real control plane.
* **Replay rate**: ``--items`` events queued while the control plane "was down" (distinct rows:
  outbox keys differ by account so nothing coalesces; every item is a valid write), then one
  drain: items per second, the SQLite marking included.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from player.api import ControlPlaneClient  # noqa: E402
from player.sync import Outbox, ProgressEvent, ProgressReporter, ProgressSync  # noqa: E402
from player.tokens import MemoryStore  # noqa: E402
from tests.bench.engine_common import start_controlplane  # noqa: E402
from tests.helpers.fake_catalog import make_fake_catalog  # noqa: E402


def p90(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.9 * (len(ordered) - 1)))]


async def bench(base_url: str, runs: int, items: int, poll_ms: float) -> dict[str, Any]:
    tmp = Path(tempfile.mkdtemp(prefix="edgeplay-bench-sync-"))
    email = f"bench-{time.time_ns()}@edgeplay.test"
    async with ControlPlaneClient(base_url, store=MemoryStore()) as a_cp, \
            ControlPlaneClient(base_url, store=MemoryStore()) as b_cp:
        await a_cp.register_device(email, "bench-pw", "A", create_account=True)
        await b_cp.register_device(email, "bench-pw", "B")
        profile = str((await a_cp.profiles())[0]["id"])
        first = (await a_cp.titles(profile))[0]
        title, duration = str(first["id"]), float(first["duration_s"])
        outbox = Outbox(tmp / "A")
        sync = ProgressSync(outbox, a_cp)
        task = asyncio.ensure_future(sync.run())
        creds = a_cp.credentials
        assert creds is not None
        reporter = ProgressReporter(outbox, profile_id=profile, title_id=title,
                                    device_id=creds.device_id, on_write=lambda _: sync.wake())
        latencies: list[float] = []
        for run in range(runs):
            position = round(duration * (0.05 + 0.8 * run / max(1, runs)), 3)
            started = time.perf_counter()
            reporter.report(position, duration, "pause")
            while time.perf_counter() - started < 10:
                listed = await b_cp.progress_list(profile)
                if any(i["title_id"] == title and i["position_s"] == position for i in listed):
                    break
                await asyncio.sleep(poll_ms / 1000)
            latencies.append((time.perf_counter() - started) * 1000)
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)

        box = Outbox(tmp / "replay")
        base = int(time.time() * 1000)
        for i in range(items):
            position = round(duration * (i % 80) / 100, 3) + 0.1
            box.put(ProgressEvent(profile_id=profile, title_id=title, position_s=position,
                                  event_time_ms=base + i, device_id=creds.device_id,
                                  account_id=f"bench{i}"))
        replay = ProgressSync(box, a_cp)
        started = time.perf_counter()
        assert await replay.drain()
        replay_s = time.perf_counter() - started
        assert box.pending_count() == 0
    return {"runs": runs, "poll_ms": poll_ms,
            "latency_ms": {"median": round(statistics.median(latencies), 1),
                           "p90": round(p90(latencies), 1), "min": round(min(latencies), 1),
                           "max": round(max(latencies), 1)},
            "replay": {"items": items, "seconds": round(replay_s, 3),
                       "items_per_s": round(items / replay_s)}}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--items", type=int, default=5000)
    parser.add_argument("--poll-ms", type=float, default=20.0)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    catalog = Path(tempfile.mkdtemp(prefix="edgeplay-bench-catalog-"))
    make_fake_catalog(catalog, titles=2)
    cp = start_controlplane(["--catalog-dir", str(catalog), "--edges", "1"])
    try:
        result = asyncio.run(bench(cp.ready.base_url, args.runs, args.items, args.poll_ms))
    finally:
        cp.stop()
    if args.json:
        print(json.dumps(result))
    else:
        lat, rep = result["latency_ms"], result["replay"]
        print(f"A pauses → B sees it: median {lat['median']} ms, p90 {lat['p90']} ms "
              f"(min {lat['min']}, max {lat['max']}; {result['runs']} runs, B polls every "
              f"{result['poll_ms']:.0f} ms)")
        print(f"outbox replay: {rep['items']} items in {rep['seconds']} s = "
              f"{rep['items_per_s']} items/s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
