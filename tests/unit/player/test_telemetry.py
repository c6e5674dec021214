"""Telemetry events, subscribers, batching to the control plane, and the QoE report."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from typing import Any

import pytest

from player.qoe_report import QoeReport
from player.telemetry import Telemetry, TelemetryConfig
from tests.unit.player.fakes import FakeClock


class Sink:
    def __init__(self, fail: int = 0) -> None:
        self.batches: list[list[dict[str, Any]]] = []
        self.fail = fail

    async def __call__(self, events: Sequence[dict[str, Any]]) -> int:
        if self.fail:
            self.fail -= 1
            raise ConnectionError("control plane down")
        self.batches.append(list(events))
        return len(events)


def test_events_carry_common_fields_and_reach_subscribers_and_the_log(
        caplog: pytest.LogCaptureFixture) -> None:
    clock = FakeClock(10.0)
    t = Telemetry(session_id="s1", title_id="t1", clock=clock, wall_clock=lambda: 1000.0)
    seen: list[dict[str, Any]] = []
    unsubscribe = t.subscribe(seen.append)
    t.subscribe(lambda e: 1 / 0)  # a broken subscriber changes nothing for the others
    clock.advance(0.25)
    with caplog.at_level(logging.INFO, logger="player.telemetry"):
        event = t.emit("first_frame", ttff_ms=250.0)
    assert event == {"type": "first_frame", "session_id": "s1", "title_id": "t1", "seq": 0,
                     "t_ms": 250.0, "at": 1000.0, "ttff_ms": 250.0}
    assert seen == [event] and t.events == [event]
    assert any("first_frame ttff_ms=250.0" in r.getMessage() for r in caplog.records)
    unsubscribe()
    t.emit("pause")
    assert len(seen) == 1 and t.events[-1]["seq"] == 1


def test_batches_post_on_count_and_at_close() -> None:
    async def main() -> Sink:
        sink = Sink()
        t = Telemetry(post=sink, config=TelemetryConfig(flush_interval_s=60, batch_events=3))
        t.start()
        for n in range(3):
            t.emit("x", n=n)
        await asyncio.sleep(0.01)
        assert [len(b) for b in sink.batches] == [3]
        t.emit("x", n=3)
        await asyncio.sleep(0.01)
        assert t.pending == 1
        t.emit("session_end")
        await t.close()
        assert t.posted == 5 and t.pending == 0
        return sink
    sink = asyncio.run(main())
    assert [e["n"] for e in sink.batches[0]] == [0, 1, 2]
    assert [e["type"] for e in sink.batches[1]] == ["x", "session_end"]


def test_a_failing_post_keeps_events_within_the_bound_and_never_raises() -> None:
    async def main() -> tuple[Telemetry, Sink]:
        sink = Sink(fail=2)
        t = Telemetry(post=sink, config=TelemetryConfig(flush_interval_s=60, queue_max=5,
                                                        batch_events=100))
        for n in range(8):
            t.emit("x", n=n)
        assert t.pending == 5 and t.dropped == 3  # the oldest went
        await t.flush()  # fails: requeued
        assert t.pending == 5
        await t.flush()  # fails again
        await t.close()  # works
        return t, sink
    t, sink = asyncio.run(main())
    assert [e["n"] for e in sink.batches[0]] == [3, 4, 5, 6, 7]
    assert t.posted == 5 and len(t.events) == 8


def test_the_periodic_flush_posts_every_interval() -> None:
    async def main() -> Sink:
        sink = Sink()
        t = Telemetry(post=sink, config=TelemetryConfig(flush_interval_s=0.05))
        t.start()
        t.emit("a")
        await asyncio.sleep(0.2)
        t.emit("b")
        await asyncio.sleep(0.2)
        await t.close()
        return sink
    sink = asyncio.run(main())
    assert [[e["type"] for e in b] for b in sink.batches] == [["a"], ["b"]]


def test_close_gives_up_on_a_hanging_post() -> None:
    async def hang(events: Sequence[dict[str, Any]]) -> None:
        await asyncio.sleep(60)

    async def main() -> Telemetry:
        t = Telemetry(post=hang, config=TelemetryConfig(close_timeout_s=0.05))
        t.emit("a")
        await t.close()
        return t
    assert asyncio.run(main()).pending == 1


def _events() -> list[dict[str, Any]]:
    return [
        {"type": "session_start", "title_id": "t1", "session_id": "s1"},
        {"type": "rendition_switch", "from": None, "to": 1, "rendition": "360p"},
        {"type": "rebuffer_end", "cause": "startup", "waited_ms": 80.0},
        {"type": "first_frame", "ttff_ms": 120.0, "edge": "edge-1"},
        {"type": "rendition_switch", "from": 1, "to": 3, "rendition": "720p"},
        {"type": "failover", "cause": "refused", "edge_from": "edge-1", "edge_to": "edge-2",
         "detection_ms": 2.5, "index": 4},
        {"type": "failover", "cause": "url_refresh", "edge_from": "edge-2", "edge_to": "edge-2",
         "detection_ms": 0.0, "index": 5},
        {"type": "rendition_switch", "from": 3, "to": 2, "rendition": "480p"},
        {"type": "rebuffer_end", "cause": "stall", "waited_ms": 1500.0},
        {"type": "rebuffer_end", "cause": "seek", "waited_ms": 300.0},
        {"type": "seek", "from_s": 10.0, "to_s": 30.0},
        {"type": "session_end", "reason": "eof", "position_s": 40.0, "played_s": 30.0,
         "bitrates_bps": [100, 200, 400, 800], "played_by_rung": {"1": 10.0, "3": 20.0},
         "segments_by_edge": {"edge-1": 4, "edge-2": 6}},
    ]


def test_qoe_report_from_events() -> None:
    report = QoeReport.from_events(_events())
    assert report.ttff_ms == 120.0 and report.end_reason == "eof"
    assert (report.rebuffer_count, report.rebuffer_s) == (1, 1.5)  # start-up and seek excluded
    assert (report.switches, report.switches_up, report.switches_down) == (2, 1, 1)
    assert report.average_bitrate_bps == round((10 * 200 + 20 * 800) / 30)
    assert report.renditions_played == {"360p": 10.0, "720p": 20.0}
    assert report.edges_used == ["edge-1", "edge-2"]
    assert report.segments_by_edge == {"edge-1": 4, "edge-2": 6}
    assert [(f.cause, f.edge_from, f.edge_to, f.detection_ms) for f in report.failovers] == [
        ("refused", "edge-1", "edge-2", 2.5)]
    assert report.url_refreshes == 1 and report.seeks == 1
    assert report.to_json()["failovers"][0]["cause"] == "refused"
    text = report.text()
    assert "Time to first frame: 120 ms" in text and "edge-1 → edge-2 (refused" in text


def test_qoe_report_of_a_session_that_never_started() -> None:
    report = QoeReport.from_events([
        {"type": "error", "code": "no_edge", "message": "No streaming server is reachable."},
        {"type": "session_end", "reason": "error", "played_by_rung": {}, "bitrates_bps": []}])
    assert report.ttff_ms is None and report.average_bitrate_bps is None
    assert report.error_code == "no_edge" and "no_edge" in report.text()


def test_edges_used_are_the_edges_that_delivered_not_every_failover_target() -> None:
    """edge-2 and edge-3 were tried (a failover to each) but only edge-1 delivered."""
    report = QoeReport.from_events([
        {"type": "first_frame", "ttff_ms": 90.0, "edge": "edge-2"},
        {"type": "failover", "cause": "http_5xx", "edge_from": "edge-1", "edge_to": "edge-2",
         "detection_ms": 3.0, "index": 1},
        {"type": "failover", "cause": "http_5xx", "edge_from": "edge-2", "edge_to": "edge-3",
         "detection_ms": 1.0, "index": 1},
        {"type": "session_end", "reason": "stopped", "played_by_rung": {"0": 4.0},
         "bitrates_bps": [100], "segments_by_edge": {"edge-1": 3}}])
    assert report.edges_used == ["edge-1"]
    assert report.segments_by_edge == {"edge-1": 3}
    assert "Edges used:         edge-1\n" in report.text()


@pytest.mark.parametrize("bitrates", [[0], [], [0, 0]], ids=["zero", "none", "all-zero"])
def test_an_unknown_average_bitrate_is_none_not_zero(bitrates: list[int]) -> None:
    """A bare media playlist has no BANDWIDTH: its one rung's bitrate is 0, i.e. unknown."""
    report = QoeReport.from_events([
        {"type": "session_end", "reason": "stopped", "played_s": 4.0,
         "played_by_rung": {"0": 4.0}, "bitrates_bps": bitrates}])
    assert report.average_bitrate_bps is None
    assert report.to_json()["average_bitrate_bps"] is None
    assert "Average bitrate:    -" in report.text()


def test_a_rung_of_unknown_bitrate_does_not_pull_the_average_down() -> None:
    report = QoeReport.from_events([
        {"type": "session_end", "reason": "stopped", "played_by_rung": {"0": 4.0, "1": 4.0},
         "bitrates_bps": [0, 800]}])
    assert report.average_bitrate_bps == 800


def test_unknown_ids_are_null_in_json_and_with_error_replaces_the_error() -> None:
    report = QoeReport().with_error("session_ended", "The playback session ended.")
    body = report.to_json()
    assert body["title_id"] is None and body["session_id"] is None and body["ttff_ms"] is None
    assert (body["error_code"], body["end_reason"]) == ("session_ended", "error")
    stopped = QoeReport(end_reason="stopped", error_code="no_edge").with_error("tampered", "x")
    assert (stopped.error_code, stopped.end_reason) == ("tampered", "stopped")
