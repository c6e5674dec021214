"""The edge fleet on loopback, in real time: serving speed and how promptly each fault acts.

``python tests/bench/edge_faults.py [--runs 5] [--json]``

Three real edges (aiohttp on loopback, a 60 ms origin tier) on a background loop, driven with a
synchronous httpx client, as ``tests/integration/test_edge_faults.py`` drives them (that test
checks what each fault does with an injected clock; this script measures the real one). Every
figure is the median of ``--runs``:

* unfaulted: a 4 MiB probe's throughput; a cache hit's and a miss's time to first byte;
  a health check's round trip;
* ``kill``: how soon a connection is refused; how soon a cleared kill answers on the same port;
* ``hang``: how soon clearing it (and stopping the fleet) releases a held request;
* ``latency 300 ms``: the time to first byte; ``slow 2,000 kbit/s``: 500 KB's wall time (2.0 s).

Exits 1 when a figure misses its bound (the bounds the integration test used to assert).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

REPO = Path(__file__).resolve().parents[2]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from controlplane.clock import Clock  # noqa: E402
from controlplane.edge import Edge, EdgeFleet, parse_fault  # noqa: E402
from controlplane.signing import UrlSigner  # noqa: E402
from tests.helpers.fake_catalog import make_fake_catalog  # noqa: E402
from tests.helpers.loop_thread import LoopThread  # noqa: E402

SEGMENT = "360p/seg_00001.ts"
ORIGIN_LATENCY_MS = 60.0
# name: (low, high) in ms; None is unbounded on that side
BOUNDS: dict[str, tuple[float | None, float | None]] = {
    "hit_ttfb_ms": (None, ORIGIN_LATENCY_MS),
    "miss_ttfb_ms": (ORIGIN_LATENCY_MS, None),
    "kill_refused_ms": (None, 200.0),
    "hang_release_ms": (None, 1000.0),
    "stop_releases_hung_ms": (None, 1000.0),
    "latency_300_ttfb_ms": (300.0, 1000.0),
    "slow_500kb_at_2000kbps_ms": (1600.0, 3000.0),
}


class Bench:
    def __init__(self, loop: LoopThread, fleet: EdgeFleet, signer: UrlSigner) -> None:
        self.loop, self.fleet, self.signer = loop, fleet, signer
        self.http = httpx.Client(timeout=10.0)

    def fault(self, edge: Edge, **raw: object) -> None:
        self.loop.run(edge.set_fault(parse_fault(raw)))

    def clear(self, edge: Edge, kind: str | None = None) -> None:
        self.loop.run(edge.clear_faults(kind))

    def url(self, edge: Edge, title_id: str, path: str) -> str:
        return f"{edge.url}/v1/media/{self.signer.token(title_id)}/{title_id}/{path}"

    def ttfb_ms(self, url: str) -> float:
        started = time.perf_counter()
        with self.http.stream("GET", url) as resp:
            ttfb = time.perf_counter() - started
            resp.read()
        return ttfb * 1000

    def timed_ms(self, action: Callable[[], Any]) -> float:
        started = time.perf_counter()
        action()
        return (time.perf_counter() - started) * 1000

    def held_request(self, edge: Edge) -> tuple[threading.Thread, list[BaseException | int]]:
        """A request in a thread, returned once the edge's hang fault holds it."""
        outcome: list[BaseException | int] = []

        def fetch() -> None:
            try:
                with httpx.Client(timeout=10.0) as client:
                    outcome.append(client.get(f"{edge.url}/health").status_code)
            except httpx.HTTPError as exc:
                outcome.append(exc)

        thread = threading.Thread(target=fetch)
        thread.start()
        deadline = time.monotonic() + 5
        while edge.held_requests == 0 and time.monotonic() < deadline:
            time.sleep(0.005)
        return thread, outcome

    def run_once(self, tmp: Path) -> dict[str, float]:
        edges = self.fleet.edges
        hit = next(e for e in edges if e.caches("title0"))
        miss = next(e for e in edges if not e.caches("title0"))
        edge = edges[0]
        out: dict[str, float] = {}
        probe_ms = self.timed_ms(lambda: self.http.get(f"{edge.url}/v1/probe?bytes=4194304"))
        out["probe_mb_per_s"] = 4 * 1.048576 / (probe_ms / 1000)
        out["hit_ttfb_ms"] = self.ttfb_ms(self.url(hit, "title0", SEGMENT))
        out["miss_ttfb_ms"] = self.ttfb_ms(self.url(miss, "title0", SEGMENT))
        out["health_ms"] = self.timed_ms(lambda: self.http.get(f"{edge.url}/health"))

        self.fault(edge, kind="kill")

        def refused() -> None:
            try:
                self.http.get(f"{edge.url}/health")
            except httpx.ConnectError:
                return
            raise AssertionError("a killed edge answered")
        out["kill_refused_ms"] = self.timed_ms(refused)
        out["kill_revive_ms"] = self.timed_ms(lambda: (
            self.clear(edge, "kill"), self.http.get(f"{edge.url}/health").raise_for_status()))

        self.fault(edge, kind="hang")
        thread, _ = self.held_request(edge)
        out["hang_release_ms"] = self.timed_ms(lambda: (self.clear(edge, "hang"), thread.join(5)))

        self.fault(edge, kind="latency", ms=300)
        out["latency_300_ttfb_ms"] = self.ttfb_ms(f"{edge.url}/health")
        self.clear(edge)
        self.fault(edge, kind="slow", rate_kbps=2000)
        out["slow_500kb_at_2000kbps_ms"] = self.timed_ms(
            lambda: self.http.get(f"{edge.url}/v1/probe?bytes=500000"))
        self.clear(edge)

        catalog = make_fake_catalog(tmp / f"one-{len(list(tmp.iterdir()))}", titles=1, segments=1)
        lone = EdgeFleet(catalog, self.signer, Clock(), lambda t: "k", count=1, log_stream=None)
        self.loop.run(lone.start())
        self.loop.run(lone.edges[0].set_fault(parse_fault({"kind": "hang"})))
        thread, _ = self.held_request(lone.edges[0])
        out["stop_releases_hung_ms"] = self.timed_ms(
            lambda: (self.loop.run(lone.stop()), thread.join(5)))
        return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="edgeplay-bench-edges-"))
    catalog = make_fake_catalog(tmp / "catalog")
    clock = Clock()
    signer = UrlSigner(b"edge-bench-secret", clock)
    runs: list[dict[str, float]] = []
    with LoopThread() as loop:
        fleet = EdgeFleet(catalog, signer, clock, lambda t: f"http://cp.test/v1/keys/{t}",
                          log_stream=None, origin_latency_ms=ORIGIN_LATENCY_MS)
        loop.run(fleet.start())
        bench = Bench(loop, fleet, signer)
        try:
            for _ in range(args.runs):
                runs.append(bench.run_once(tmp))
        finally:
            bench.http.close()
            loop.run(fleet.stop())
    result = {name: round(statistics.median(r[name] for r in runs), 2) for name in runs[0]}
    failures = []
    for name, (low, high) in BOUNDS.items():
        value = result[name]
        if (low is not None and value < low) or (high is not None and value >= high):
            failures.append(f"{name} = {value} outside [{low}, {high})")
    if args.json:
        print(json.dumps({"runs": args.runs, "median": result, "ok": not failures}))
    else:
        print(f"edge fleet on loopback, median of {args.runs} runs:")
        for name, value in result.items():
            low, high = BOUNDS.get(name, (None, None))
            bound = "" if low is None and high is None else \
                f"   (bound: {low if low is not None else ''}…{high if high is not None else ''})"
            print(f"  {name:28s} {value:10.2f}{bound}")
        for failure in failures:
            print(f"FAIL: {failure}", file=sys.stderr)
    return 0 if not failures else 1


if __name__ == "__main__":
    sys.exit(main())
