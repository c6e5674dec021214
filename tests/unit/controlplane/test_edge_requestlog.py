"""Request log lines and the ring buffer."""

from __future__ import annotations

import io
import json

from controlplane.edge.requestlog import RequestLog, redact_path


def test_tokens_are_redacted() -> None:
    assert redact_path("/v1/media/1700000000-abcd/t0/360p/seg.ts") == (
        "/v1/media/REDACTED/t0/360p/seg.ts"
    )
    assert redact_path("/v1/probe?bytes=10") == "/v1/probe?bytes=10"


def test_one_json_line_per_entry_and_a_bounded_ring() -> None:
    stream = io.StringIO()
    log = RequestLog(stream, capacity=3)
    for n in range(5):
        log.record({"n": n, "path": "/health"})
    lines = stream.getvalue().splitlines()
    assert [json.loads(line)["n"] for line in lines] == [0, 1, 2, 3, 4]
    assert [e["n"] for e in log.recent()] == [2, 3, 4]
    assert [e["n"] for e in log.recent(2)] == [3, 4]
    assert log.recent(0) == []


def test_a_closed_stream_does_not_break_logging() -> None:
    stream = io.StringIO()
    stream.close()
    log = RequestLog(stream)
    log.record({"n": 1})
    assert log.recent() == [{"n": 1}]
    RequestLog(None).record({"n": 2})
