"""The progress reporter's schedule and watched rule, with fake clocks; the session's calls."""

from __future__ import annotations

import asyncio
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from player.sync.outbox import Outbox, ProgressEvent
from player.sync.reporter import ProgressReporter, ReporterConfig, mark_watched
from tests.unit.player.fakes import FakeClock


def make(tmp_path: Path, clock: FakeClock, **kw: Any) -> tuple[ProgressReporter, list[Any]]:
    written: list[ProgressEvent] = []
    reporter = ProgressReporter(Outbox(tmp_path), profile_id="p", title_id="t",
                                device_id="dev", account_id="acc", clock=clock,
                                wall=lambda: 1_700_000_000 + clock.now,
                                on_write=written.append, **kw)
    return reporter, written


def test_periodic_every_interval_and_every_event(tmp_path: Path) -> None:
    clock = FakeClock(0.0)
    reporter, written = make(tmp_path, clock)
    # The session's loop: a periodic call every 10 s while playing.
    for _ in range(3):
        clock.advance(10)
        assert reporter.report(clock.now, 100, "periodic")
    clock.advance(2)
    assert reporter.report(31.5, 100, "pause")
    clock.advance(3)  # the loop's next tick comes soon after the pause: skipped
    assert not reporter.report(31.5, 100, "periodic")
    clock.advance(4)
    assert reporter.report(60.0, 100, "seek")
    assert reporter.report(61.0, 100, "stop")
    assert [e.position_s for e in written] == [10, 20, 30, 31.5, 60, 61]
    assert written[0].event_time_ms == (1_700_000_000 + 10) * 1000
    assert [e.event_time_ms for e in written] == sorted(e.event_time_ms for e in written)
    stored = reporter.outbox.get("p", "t")
    assert stored is not None and stored.position_s == 61 and stored.device_id == "dev"


def test_watched_at_95_percent_and_at_the_end(tmp_path: Path) -> None:
    clock = FakeClock(0.0)
    reporter, written = make(tmp_path, clock)
    reporter.report(94.0, 100, "stop")
    reporter.report(95.0, 100, "stop")
    reporter.report(40.0, 100, "end")
    assert [(e.position_s, e.watched) for e in written] == [(94, False), (95, True), (100, True)]
    strict, _ = make(tmp_path / "b", clock, config=ReporterConfig(watched_fraction=0.5))
    strict.report(50, 100, "stop")
    assert strict.last is not None and strict.last.watched


def test_nothing_at_zero_and_unknown_events_refused(tmp_path: Path) -> None:
    reporter, written = make(tmp_path, FakeClock())
    assert not reporter.report(0.0, 100, "pause")
    with pytest.raises(ValueError):
        reporter.report(1.0, 100, "jump")
    assert written == []


def test_mark_watched_and_unwatched_go_through_the_outbox(tmp_path: Path) -> None:
    box = Outbox(tmp_path)
    mark_watched(box, profile_id="p", title_id="t", watched=True, device_id="d",
                 wall=lambda: 5.0)
    mark_watched(box, profile_id="p", title_id="t", watched=False, device_id="d",
                 wall=lambda: 6.0)
    [event] = box.pending()
    assert event.kind == "watched" and not event.watched and event.event_time_ms == 6000
    assert event.wire()["watched"] is False and "position_s" not in event.wire()


class _Sink:
    def __init__(self) -> None:
        self.calls: list[tuple[float, str]] = []

    def report(self, position_s: float, duration_s: float | None, event: str) -> bool:
        self.calls.append((round(position_s, 1), event))
        return True


def test_the_session_reports_pause_seek_and_stop_to_its_sink() -> None:
    """The session's hooks, without mpv: the events the reporter sees."""
    from player.session import PlaybackSession
    sink = _Sink()
    session = PlaybackSession.__new__(PlaybackSession)
    session.progress = sink
    session.playback = SimpleNamespace(duration_s=100.0)  # type: ignore[assignment]
    session.position_s = 42.0
    session.scheduler = None
    session.config = None  # type: ignore[assignment]

    async def main() -> None:
        await session._save_progress("pause")
        await session._save_progress()
    asyncio.run(main())
    assert sink.calls == [(42.0, "pause"), (42.0, "periodic")]
    assert session.duration_s == 100.0
