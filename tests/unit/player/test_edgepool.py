"""EdgePool ranking, health reports and probing over httpx.MockTransport."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from player.circuit import CircuitConfig, State
from player.edgepool import EdgePool, EdgePoolConfig, edges_of
from player.errors import NoEdgeError
from player.manifest import parse_multivariant
from tests.unit.player.fakes import FakeClock

EDGES = {"edge-1": "http://e1.test", "edge-2": "http://e2.test", "edge-3": "http://e3.test"}
CONFIG = EdgePoolConfig(circuit=CircuitConfig(failure_threshold=2, cooldown_s=5.0))


def pool(handler: object = None, clock: FakeClock | None = None) -> EdgePool:
    transport = httpx.MockTransport(handler or (lambda r: httpx.Response(200)))  # type: ignore[arg-type]
    return EdgePool(EDGES, httpx.AsyncClient(transport=transport), config=CONFIG,
                    clock=clock or FakeClock())


def names(p: EdgePool) -> list[str]:
    return [e.name for e in p.ordered()]


def test_edges_come_from_the_pathways() -> None:
    text = ("#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1,PATHWAY-ID=\"b\"\nhttp://h2:82/x/360p/i.m3u8\n"
            "#EXT-X-STREAM-INF:BANDWIDTH=1,PATHWAY-ID=\"a\"\nhttps://h1/x/360p/i.m3u8\n")
    assert edges_of(parse_multivariant(text, "http://cp/m.m3u8")) == \
        {"b": "http://h2:82", "a": "https://h1"}


def test_steering_orders_comparable_edges() -> None:
    p = pool()
    assert names(p) == ["edge-1", "edge-2", "edge-3"]  # playlist order before steering
    p.apply_steering(["edge-3", "edge-1", "unknown"])
    assert names(p) == ["edge-3", "edge-1", "edge-2"]
    assert p.best().name == "edge-3"


def test_small_rtt_differences_do_not_override_steering_but_large_ones_do() -> None:
    p = pool()
    p.apply_steering(["edge-2", "edge-1", "edge-3"])
    p._edges["edge-2"].rtt_s = 0.004
    p._edges["edge-1"].rtt_s = 0.003
    p._edges["edge-3"].rtt_s = 0.001
    assert names(p) == ["edge-2", "edge-1", "edge-3"]
    p._edges["edge-2"].rtt_s = 0.120
    assert names(p) == ["edge-1", "edge-3", "edge-2"]


def test_only_clearly_slow_edges_are_demoted_for_throughput() -> None:
    p = pool()
    p.apply_steering(["edge-1", "edge-2", "edge-3"])
    p._edges["edge-1"].throughput_bps = 60e6   # half the best but plenty: not demoted
    p._edges["edge-2"].throughput_bps = 200e6
    p._edges["edge-3"].throughput_bps = 150e6
    assert names(p) == ["edge-1", "edge-2", "edge-3"]
    p._edges["edge-1"].throughput_bps = 5e6
    assert names(p) == ["edge-2", "edge-3", "edge-1"]


def test_failures_open_circuits_and_best_skips_them() -> None:
    clock = FakeClock()
    p = pool(clock=clock)
    p.report_failure("edge-1", "ConnectError", hard=True)
    assert names(p)[-1] == "edge-1" and p.status("edge-1").state is State.OPEN
    assert p.best().name == "edge-2" and p.best(exclude=["edge-2"]).name == "edge-3"
    p.report_failure("edge-2", "503")
    assert p.status("edge-2").state is State.CLOSED and not p.degraded
    p.report_failure("edge-2", "503")
    assert p.status("edge-2").state is State.OPEN and p.degraded
    p.report_failure("edge-3", "timeout", hard=True)
    with pytest.raises(NoEdgeError) as info:
        p.best()
    assert info.value.failures == {"edge-1": "ConnectError", "edge-2": "503",
                                   "edge-3": "timeout"}
    assert "edge-1: ConnectError" in info.value.message
    clock.advance(5.0)                                   # cool-down over: half-open
    trial = p.best()
    assert trial.name == "edge-1" and trial.state is State.HALF_OPEN
    assert p.best().name == "edge-2"                     # edge-1's one trial is taken
    p.report_success("edge-1", 1_000_000, 0.1)
    assert p.status("edge-1").state is State.CLOSED
    assert p.status("edge-1").throughput_bps == pytest.approx(80e6)


def test_report_success_averages_throughput() -> None:
    p = pool()
    p.report_success("edge-1", 1_000_000, 1.0)
    p.report_success("edge-1", 2_000_000, 1.0)
    assert p.status("edge-1").throughput_bps == pytest.approx(0.3 * 16e6 + 0.7 * 8e6)


def test_set_edges_keeps_health_by_name() -> None:
    p = pool()
    p.report_failure("edge-1", "refused", hard=True)
    p.set_edges({"edge-1": "http://e1.test", "edge-4": "http://e4.test"})
    assert p.names == ("edge-1", "edge-4") and p.status("edge-1").state is State.OPEN


def test_probe_measures_and_feeds_health() -> None:
    clock = FakeClock()

    def handler(request: httpx.Request) -> httpx.Response:
        clock.advance(0.002)
        host = request.url.host
        if host == "e1.test":
            raise httpx.ConnectError("Connection refused")
        if host == "e3.test" and request.url.path == "/health":
            return httpx.Response(503, json={"error": "injected_fault"})
        if request.url.path == "/v1/probe":
            assert request.url.params["bytes"] == str(256 * 1024)
            return httpx.Response(200, content=b"x" * 1000)
        return httpx.Response(200, json={"status": "ok"})

    p = pool(handler, clock)
    results = {r.name: r for r in asyncio.run(p.probe())}
    assert results["edge-1"].error is not None and "ConnectError" in results["edge-1"].error
    assert results["edge-2"].error is None and results["edge-2"].rtt_s == pytest.approx(0.002)
    assert results["edge-2"].throughput_bps is not None
    assert results["edge-3"].error == "health answered 503"
    assert p.status("edge-1").state is State.OPEN
    assert p.status("edge-3").state is State.CLOSED      # one soft failure
    assert names(p) == ["edge-2", "edge-3", "edge-1"]    # edge-3's RTT is comparable
    assert p.status("edge-1").last_error == "probe: ConnectError: Connection refused"


def test_probe_timeout_is_a_hard_failure() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.host == "e2.test":
            raise httpx.ReadTimeout("timed out")
        return httpx.Response(200, content=b"x")

    p = pool(handler)
    asyncio.run(p.probe(k=2))
    assert p.status("edge-2").state is State.OPEN and p.status("edge-3").rtt_s is None
