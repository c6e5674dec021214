"""The forward buffer: plaintext segments by position, ahead of the playhead.

Positions are segment indices on the title's timeline (aligned across renditions). The
**playhead** is the position mpv last asked for. ``buffer_s`` is the media, in seconds, of the
contiguous run of buffered positions starting at the playhead (the playhead's own segment
included: it has not been handed over yet, or mpv is reading it). Moving the playhead evicts
everything more than ``back_buffer_s`` behind it (a short back-buffer makes small backward seeks
and mpv's re-reads free) and anything beyond ``max_ahead_s`` past it.

Waiters: :meth:`SegmentBuffer.wait_for` resolves when a position is stored, and raises the
error given to :meth:`SegmentBuffer.fail` when the stream ended in error. Nothing here does I/O.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class BufferConfig:
    target_s: float = 30.0
    """Media to keep buffered ahead of the playhead (seconds). Default 30.0."""
    back_buffer_s: float = 8.0
    """Media kept behind the playhead for small backward seeks (seconds). Default 8.0."""
    max_ahead_s: float = 90.0
    """Buffered media further than this past the playhead is evicted on a seek (seconds).
    Default 90.0."""


@dataclass(frozen=True)
class BufferedSegment:
    index: int
    data: bytes
    """Plaintext MPEG-TS."""
    rendition_id: str
    rung: int
    duration_s: float


class SegmentBuffer:
    def __init__(self, durations_s: Sequence[float], config: BufferConfig | None = None) -> None:
        self.config = config or BufferConfig()
        self.durations_s = tuple(float(d) for d in durations_s)
        self._starts_s: list[float] = []
        t = 0.0
        for d in self.durations_s:
            self._starts_s.append(t)
            t += d
        self._segments: dict[int, BufferedSegment] = {}
        self._waiters: dict[int, list[asyncio.Future[BufferedSegment]]] = {}
        self._error: BaseException | None = None
        self.playhead = 0
        self.bytes_ = 0
        """Plaintext bytes held now."""
        self.bytes_stored = 0
        """Plaintext bytes stored since creation (evicted ones included)."""

    @property
    def count(self) -> int:
        return len(self.durations_s)

    def __contains__(self, index: object) -> bool:
        return index in self._segments

    def __len__(self) -> int:
        return len(self._segments)

    @property
    def indices(self) -> list[int]:
        return sorted(self._segments)

    @property
    def error(self) -> BaseException | None:
        return self._error

    def get(self, index: int) -> BufferedSegment | None:
        return self._segments.get(index)

    # --- levels --------------------------------------------------------------------------------

    def contiguous_end(self, start: int | None = None) -> int:
        """The first position at or after ``start`` (default: the playhead) not buffered."""
        k = self.playhead if start is None else start
        while k in self._segments:
            k += 1
        return k

    @property
    def buffer_s(self) -> float:
        """Seconds of media buffered contiguously from the playhead."""
        return sum(self.durations_s[self.playhead:self.contiguous_end()])

    @property
    def level_bytes(self) -> int:
        """Bytes of the contiguous run from the playhead."""
        return sum(len(self._segments[k].data)
                   for k in range(self.playhead, self.contiguous_end()))

    def seconds_between(self, start: int, stop: int) -> float:
        return sum(self.durations_s[max(start, 0):max(stop, 0)])

    def within_window(self, index: int) -> bool:
        """Is ``index`` in the kept window around the playhead (back-buffer to max-ahead)?"""
        if not 0 <= index < self.count:
            return False
        here = self._starts_s[self.playhead] if self.playhead < self.count else sum(
            self.durations_s)
        start = self._starts_s[index]
        end = start + self.durations_s[index]
        return end > here - self.config.back_buffer_s and start < here + self.config.max_ahead_s

    # --- changes -------------------------------------------------------------------------------

    def put(self, segment: BufferedSegment) -> None:
        old = self._segments.get(segment.index)
        if old is not None:
            self.bytes_ -= len(old.data)
        self._segments[segment.index] = segment
        self.bytes_ += len(segment.data)
        self.bytes_stored += len(segment.data)
        for waiter in self._waiters.pop(segment.index, ()):
            if not waiter.done():
                waiter.set_result(segment)

    def set_playhead(self, index: int) -> list[int]:
        """Move the playhead; returns the positions evicted (outside the kept window)."""
        self.playhead = max(0, min(index, self.count))
        gone = [k for k in self._segments if not self.within_window(k)]
        for k in gone:
            self.bytes_ -= len(self._segments.pop(k).data)
        return sorted(gone)

    def flush(self) -> None:
        """Drop every segment (the playhead stays)."""
        self._segments.clear()
        self.bytes_ = 0

    def fail(self, error: BaseException) -> None:
        """The stream ended in error: current and future waits on missing positions raise it."""
        self._error = error
        for waiters in self._waiters.values():
            for waiter in waiters:
                if not waiter.done():
                    waiter.set_exception(error)
                    waiter.exception()
        self._waiters.clear()

    def clear_error(self) -> None:
        self._error = None

    async def wait_for(self, index: int) -> BufferedSegment:
        """The segment at ``index`` once it is stored; raises the :meth:`fail` error."""
        segment = self._segments.get(index)
        if segment is not None:
            return segment
        if self._error is not None:
            raise self._error
        waiter: asyncio.Future[BufferedSegment] = asyncio.get_running_loop().create_future()
        self._waiters.setdefault(index, []).append(waiter)
        try:
            return await waiter
        finally:
            waiters = self._waiters.get(index)
            if waiters is not None and waiter in waiters:
                waiters.remove(waiter)
                if not waiters:
                    del self._waiters[index]
