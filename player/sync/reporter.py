"""``ProgressReporter``: what a :class:`player.session.PlaybackSession` calls with its position.

The session calls :meth:`ProgressReporter.report` every ``progress_interval_s`` (10 s) while
playing (``"periodic"``) and on ``"pause"``, ``"seek"`` (the position after the seek),
``"stop"`` (also app close) and ``"end"``. Each call is one event in the durable
:class:`~player.sync.outbox.Outbox`, stamped with the wall clock (``event_time_ms``, the
last-write-wins key) and this device's id, then ``on_write`` wakes the replayer. At or past
``watched_fraction`` (95 %) of the duration, or at the end of the title, the event says watched
(the server decides the same from the position) and the title leaves Continue Watching.
"""

from __future__ import annotations

import logging
import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from player.sync.outbox import Outbox, ProgressEvent

log = logging.getLogger("sync")

EVENTS = frozenset({"periodic", "pause", "seek", "stop", "end"})


@dataclass(frozen=True)
class ReporterConfig:
    watched_fraction: float = 0.95
    """Position fraction of the duration that counts as watched (0..1). Default 0.95, as the
    control plane's ``watched_fraction`` policy."""
    min_periodic_gap_s: float = 5.0
    """A periodic write within this long of the last write (a pause or seek just wrote) is
    skipped, seconds. Default 5."""


class ProgressReporter:
    """``ProgressReporter(outbox, profile_id=…, title_id=…, device_id=…)``; ``wall`` (Unix s) and
    ``clock`` (monotonic s) are injectable for tests."""

    def __init__(self, outbox: Outbox, *, profile_id: str, title_id: str, device_id: str,
                 account_id: str = "", device_name: str = "",
                 config: ReporterConfig | None = None,
                 on_write: Callable[[ProgressEvent], None] | None = None,
                 wall: Callable[[], float] = time.time,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.outbox = outbox
        self.profile_id = profile_id
        self.title_id = title_id
        self.device_id = device_id
        self.account_id = account_id
        self.device_name = device_name
        self.config = config or ReporterConfig()
        self.on_write = on_write
        self._wall = wall
        self._clock = clock
        self._last_write_s: float | None = None
        self.last: ProgressEvent | None = None
        """The last event written."""

    def report(self, position_s: float, duration_s: float | None, event: str) -> bool:
        """Record the position at ``event`` (one of :data:`EVENTS`); False when skipped."""
        if event not in EVENTS:
            raise ValueError(f"unknown progress event {event!r}")
        now = self._clock()
        if event == "periodic" and self._last_write_s is not None and \
                now - self._last_write_s < self.config.min_periodic_gap_s:
            return False
        if position_s <= 0 and event != "end":
            return False
        duration = duration_s if duration_s and duration_s > 0 else None
        if event == "end" and duration is not None:
            position_s = duration
        watched = duration is not None and position_s >= self.config.watched_fraction * duration
        if duration is not None:
            position_s = min(position_s, duration)
        record = ProgressEvent(
            profile_id=self.profile_id, title_id=self.title_id, position_s=round(position_s, 3),
            event_time_ms=int(self._wall() * 1000), device_id=self.device_id,
            duration_s=duration, watched=watched, account_id=self.account_id,
            device_name=self.device_name)
        try:
            self.outbox.put(record)
        except sqlite3.Error as exc:  # a full disk must not stop playback
            log.warning("progress %s of %s not recorded: %s", event, self.title_id, exc)
            return False
        self._last_write_s = now
        self.last = record
        log.info("progress %s: %s at %.1f s%s (pending)", event, self.title_id, position_s,
                 " watched" if watched else "")
        if self.on_write is not None:
            self.on_write(record)
        return True


def mark_watched(outbox: Outbox, *, profile_id: str, title_id: str, watched: bool,
                 device_id: str, account_id: str = "", device_name: str = "",
                 wall: Callable[[], float] = time.time) -> ProgressEvent:
    """Queue "mark as watched" (or unwatched: the position resets to 0) as an outbox event."""
    record = ProgressEvent(profile_id=profile_id, title_id=title_id, position_s=0.0,
                           event_time_ms=int(wall() * 1000), device_id=device_id,
                           kind="watched", watched=watched, account_id=account_id,
                           device_name=device_name)
    outbox.put(record)
    log.info("progress mark %s: %s (pending)", "watched" if watched else "unwatched", title_id)
    return record


class ProgressSink(Protocol):
    """What a playback session calls (``ProgressReporter`` is one)."""

    def report(self, position_s: float, duration_s: float | None, event: str) -> bool: ...
