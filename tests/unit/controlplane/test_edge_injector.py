"""Run-time fault state of one edge: scopes, sequences, replacement and release."""

from __future__ import annotations

import asyncio

from controlplane.edge.faults import parse_fault
from controlplane.edge.injector import FaultInjector


async def _no_sleep(seconds: float) -> None:
    return None


def _injector() -> FaultInjector:
    return FaultInjector(lambda: 0.0, _no_sleep)


def test_segment_scope_spares_other_responses() -> None:
    faults = _injector()
    scoped = ({"kind": "latency", "ms": 5}, {"kind": "error"}, {"kind": "truncate", "fraction": 0})
    for raw in scoped:
        faults.set(parse_fault({**raw, "paths": "segments"}))
    assert faults.latency_ms(False) == 0 and faults.latency_ms(True) == 5
    assert faults.error_status(False) is None and faults.error_status(True) == 503
    assert faults.cut_at(False, 10) is None and faults.cut_at(True, 10) == 0


def test_setting_a_kind_again_replaces_it_and_restarts_the_sequence() -> None:
    faults = _injector()
    faults.set(parse_fault({"kind": "error", "rate": 0.5}))
    assert [faults.error_status(True) for _ in range(3)] == [None, 503, None]
    faults.set(parse_fault({"kind": "error", "rate": 0.5, "status": 500}))
    assert [faults.error_status(True) for _ in range(2)] == [None, 500]
    assert len(faults.active) == 1


def test_corruption_only_touches_ts_bodies() -> None:
    faults = _injector()
    faults.set(parse_fault({"kind": "corrupt", "bytes": 2}))
    assert faults.corrupt_positions(False, 100) == ()
    assert faults.corrupt_positions(True, 100) == (25, 75)


def test_hang_release_and_clear() -> None:
    async def scenario() -> None:
        faults = _injector()
        faults.set(parse_fault({"kind": "hang"}))
        first = faults.hang_gate(True)
        assert first is not None and not first.is_set()
        faults.release_hung()  # e.g. the edge stopped: hung requests go, the fault stays
        assert first.is_set()
        second = faults.hang_gate(False)
        assert second is not None and not second.is_set()
        faults.clear("hang")
        assert second.is_set() and faults.hang_gate(True) is None
        faults.clear("hang")  # clearing what is not set is a no-op

    asyncio.run(scenario())


def test_slow_gives_a_shared_pacer_until_cleared() -> None:
    faults = _injector()
    faults.set(parse_fault({"kind": "slow", "rate_kbps": 100}))
    pacer = faults.pacer(True)
    assert pacer is not None and faults.pacer(False) is pacer
    faults.clear()
    assert faults.pacer(True) is None and faults.active == ()
