"""Parsing and validating admin fault JSON, and the exact semantics of each fault's numbers."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from controlplane.edge.faults import (
    CorruptFault,
    ErrorFault,
    FaultError,
    HangFault,
    KillFault,
    LatencyFault,
    SlowFault,
    TruncateFault,
    fault_to_json,
    parse_fault,
)
from controlplane.edge.trace import TraceSegment


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ({"kind": "kill"}, KillFault()),
        ({"kind": "hang", "paths": "segments"}, HangFault(paths="segments")),
        ({"kind": "slow", "rate_kbps": 2000}, SlowFault(rate_kbps=2000.0)),
        ({"kind": "error"}, ErrorFault(rate=1.0, status=503)),
        ({"kind": "error", "rate": 0.5, "status": 500}, ErrorFault(rate=0.5, status=500)),
        ({"kind": "truncate", "after_bytes": 10}, TruncateFault(after_bytes=10)),
        ({"kind": "truncate", "fraction": 0.5}, TruncateFault(fraction=0.5)),
        ({"kind": "corrupt"}, CorruptFault(bytes=8)),
        ({"kind": "corrupt", "bytes": 3, "paths": "all"}, CorruptFault(bytes=3)),
        ({"kind": "latency", "ms": 300}, LatencyFault(ms=300.0)),
    ],
)
def test_valid_faults_parse(raw: dict[str, object], expected: object) -> None:
    assert parse_fault(raw) == expected


def test_inline_trace_parses() -> None:
    fault = parse_fault(
        {"kind": "slow", "trace": [{"duration_ms": 1000, "bandwidth_kbps": 500, "latency_ms": 80}]}
    )
    assert isinstance(fault, SlowFault)
    assert fault.trace == (TraceSegment(1000.0, 500.0, 80.0),)
    assert fault_to_json(fault) == {
        "kind": "slow", "trace_segments": 1, "trace_period_ms": 1000.0, "paths": "all"
    }


def test_trace_file_parses(tmp_path: Path) -> None:
    path = tmp_path / "t.json"
    path.write_text(json.dumps([{"duration_ms": 5, "bandwidth_kbps": 1, "latency_ms": 2}] * 3))
    fault = parse_fault({"kind": "slow", "trace_file": str(path)})
    assert isinstance(fault, SlowFault) and len(fault.trace) == 3
    assert fault_to_json(fault)["trace_file"] == str(path)


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("kill", "JSON object"),
        ({}, "kind must be one of"),
        ({"kind": "explode"}, "kind must be one of"),
        ({"kind": "kill", "paths": "segments"}, "paths must be"),
        ({"kind": "hang", "paths": "some"}, "paths must be"),
        ({"kind": "hang", "ms": 3}, "unknown field(s) for hang: ms"),
        ({"kind": "slow"}, "exactly one of"),
        ({"kind": "slow", "rate_kbps": 0}, "rate_kbps must be > 0"),
        ({"kind": "slow", "rate_kbps": "fast"}, "must be a number"),
        ({"kind": "slow", "rate_kbps": 1, "trace": []}, "exactly one of"),
        ({"kind": "slow", "trace": []}, "non-empty"),
        ({"kind": "slow", "trace": [{"duration_ms": 0, "bandwidth_kbps": 1}]}, "> 0"),
        ({"kind": "slow", "trace": [{"duration_ms": 10, "bandwidth_kbps": 0}]}, "some bandwidth"),
        ({"kind": "slow", "trace": [{"duration_ms": 10}]}, "no bandwidth_kbps"),
        ({"kind": "slow", "trace": [{"duration_ms": 1, "bandwidth_kbps": 1, "x": 1}]}, "unknown"),
        ({"kind": "slow", "trace_file": "/nonexistent/trace.json"}, "no trace file"),
        ({"kind": "error", "rate": 1.5}, "rate must be >= 0 and <= 1"),
        ({"kind": "error", "rate": True}, "must be a number"),
        ({"kind": "error", "status": 404}, "status must be"),
        ({"kind": "error", "status": 503.5}, "whole number"),
        ({"kind": "truncate"}, "exactly one of"),
        ({"kind": "truncate", "after_bytes": 1, "fraction": 0.5}, "exactly one of"),
        ({"kind": "truncate", "fraction": 1}, "fraction must be < 1"),
        ({"kind": "truncate", "after_bytes": -1}, ">= 0"),
        ({"kind": "corrupt", "bytes": 0}, ">= 1"),
        ({"kind": "latency"}, "latency needs ms"),
        ({"kind": "latency", "ms": float("nan")}, "must be a number"),
        ({"kind": "latency", "ms": -5}, ">= 0"),
    ],
)
def test_invalid_faults_say_why(raw: object, message: str) -> None:
    with pytest.raises(FaultError) as info:
        parse_fault(raw)
    assert message in str(info.value)


@pytest.mark.parametrize(
    ("rate", "failures"), [(0.0, 0), (0.25, 25), (0.5, 50), (0.3, 30), (1, 100)]
)
def test_error_sequence_is_exact_over_any_prefix(rate: float, failures: int) -> None:
    fault = ErrorFault(rate=rate)
    hits = [fault.hits(n) for n in range(100)]
    assert sum(hits) == failures
    for k in range(1, 101):
        assert sum(hits[:k]) == int(k * rate + 1e-9)


def test_error_half_fails_every_second_request() -> None:
    assert [ErrorFault(rate=0.5).hits(n) for n in range(6)] == [False, True] * 3


def test_truncate_cut_points() -> None:
    assert TruncateFault(after_bytes=1000).cut_at(37600) == 1000
    assert TruncateFault(after_bytes=0).cut_at(10) == 0
    assert TruncateFault(after_bytes=50).cut_at(50) is None  # short bodies pass whole
    assert TruncateFault(fraction=0.5).cut_at(37600) == 18800
    assert TruncateFault(fraction=0.0).cut_at(10) == 0


def test_corrupt_positions_are_evenly_spread_midpoints() -> None:
    assert CorruptFault(bytes=4).positions(37600) == (4700, 14100, 23500, 32900)
    assert CorruptFault(bytes=1).positions(10) == (5,)
    assert CorruptFault(bytes=50).positions(3) == (0, 1, 2)
    assert CorruptFault(bytes=3).positions(0) == ()
