"""What the scheduler tells the outside: events, the rebuffers it counted, the segments stored.

:class:`ScheduleRecord` stamps every event with ``at_s`` (the injected clock) and hands it to
the subscriber (whose failure is logged, never raised); it keeps ``rebuffers`` (position,
seconds waited) and ``fetched`` (position, rung, edge), both in order.

**Events** (each a dict with ``type`` and ``at_s``): ``rendition_switch`` (from, to, rendition,
reason), ``abandon``, ``failover`` (see :class:`~player.failover.FailoverEvent`),
``rebuffer_start`` / ``rebuffer_end`` (index, waited_s), ``seek`` (index, flushed),
``pause`` / ``resume``, ``end_of_stream``, ``error`` (code, message).
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Iterator
from typing import Any

log = logging.getLogger("abr")
edge_log = logging.getLogger("edge")

Event = dict[str, Any]


class ScheduleRecord:
    def __init__(self, on_event: Callable[[Event], None] | None,
                 clock: Callable[[], float]) -> None:
        self._on_event = on_event
        self._clock = clock
        self.rebuffers: list[tuple[int, float]] = []
        """(position, seconds waited) for every rebuffer."""
        self.fetched: list[tuple[int, int, str]] = []
        """(position, rung, edge) of every stored segment, in order."""

    def emit(self, event: Event) -> None:
        event.setdefault("at_s", self._clock())
        if self._on_event is None:
            return
        try:
            self._on_event(event)
        except Exception:
            edge_log.exception("event subscriber failed on %s", event.get("type"))

    def edge_of(self, index: int) -> str | None:
        """The edge that served the last stored copy of position ``index``."""
        return next((e for k, _, e in reversed(self.fetched) if k == index), None)

    @contextlib.contextmanager
    def rebuffering(self, index: int, buffer_s: float) -> Iterator[None]:
        """Account the wait inside the block for segment ``index`` as a rebuffer, with events
        ``rebuffer_start`` (``buffer_s`` then) and ``rebuffer_end`` (``waited_s``)."""
        start = self._clock()
        self.emit({"type": "rebuffer_start", "index": index, "buffer_s": buffer_s})
        # Before anything was served this is the start-up wait (mpv opened the stream while
        # the first segment was still coming): expected, not a stall.
        log.log(logging.INFO if not self.fetched else logging.WARNING,
                "rebuffering: segment %d is not buffered", index)
        try:
            yield
        finally:
            waited = self._clock() - start
            self.rebuffers.append((index, waited))
            self.emit({"type": "rebuffer_end", "index": index, "waited_s": waited})
            log.info("rebuffer of segment %d ended after %.0f ms", index, waited * 1000)
