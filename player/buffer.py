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
import logging
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass

log = logging.getLogger("edge")


@dataclass(frozen=True)
class BufferConfig:
    target_s: float = 60.0
    """Media to keep buffered ahead of the playhead (seconds); the ABR policy is told it as its
    buffer cap. Default 60.0: the buffer the hysteresis policy was measured with (docs/abr.md);
    with 30 s its reservoir + cushion (28 s) is barely reached and it loses to BOLA in every
    trace class of the bench (``--max-buffer-s 30``)."""
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


class SegmentAborted(Exception):
    """Bytes of a segment already handed to a reader turned out not to be the segment's (the
    edge corrupted them, or the download changed rendition), or the download was dropped: the
    reader must hang up (the bridge closes mpv's connection)."""


class LiveSegment:
    """A segment while it is being fetched, readable as its validated plaintext arrives.

    The fetcher writes: :meth:`set_length` (the plaintext length, from the edge's
    ``Content-Length``), :meth:`append` (validated plaintext, in order), :meth:`restart` (the
    download starts over from byte 0, e.g. on another edge after corruption: what comes next is
    compared with what is already here, and only the confirmed prefix stays readable),
    :meth:`seal` (the end). The scheduler: :meth:`reset` (a lower rung after an abandonment),
    :meth:`fail`. Readers: :meth:`chunks` from the start, while :attr:`streamable`.

    Bytes once handed out cannot be taken back. A restarted download's bytes that differ from
    bytes a reader already has replace them for what the reader has not read yet
    (:attr:`differed_at`; the length and the packet boundaries are the same, so the reader goes
    on with valid bytes). If the length or the rendition changes after some bytes were handed
    out, the segment is *tainted*: every reader's :meth:`chunks` raises :class:`SegmentAborted`
    (the bridge cuts mpv's request) and new readers wait for the whole validated segment in the
    buffer. Nothing here does I/O.
    """

    def __init__(self, index: int, on_change: Callable[[], None] | None = None) -> None:
        self.index = index
        self.rung = -1
        self.rendition_id = ""
        self.edge = ""
        """The edge of the current attempt."""
        self.length: int | None = None
        """Plaintext bytes of the whole segment, once known."""
        self.data = bytearray()
        self.handed_out = 0
        """The most bytes any reader has taken."""
        self.tainted = False
        self.differed_at: int | None = None
        """Where bytes already handed out first differed from the validated segment (an edge
        corrupted them without breaking the TS framing; found when another edge's copy was
        compared), or None."""
        self._confirmed = 0
        """Readable bytes (``len(data)`` except while a restarted download re-checks them)."""
        self._error: BaseException | None = None
        self._epoch = 0
        self._waiters: list[asyncio.Future[None]] = []
        self._on_change = on_change

    @property
    def received(self) -> int:
        """Plaintext bytes of the current download so far."""
        return self._confirmed

    @property
    def streamable(self) -> bool:
        """Can a reader start now (the length is known, nothing went wrong)?"""
        return self.length is not None and not self.tainted and self._error is None

    # --- the writer ----------------------------------------------------------------------------

    def set_length(self, length: int) -> None:
        if self.length is not None and self.length != length and self.handed_out:
            self._taint()
        self.length = length
        self._notify()

    def append(self, chunk: bytes) -> None:
        if not chunk:
            return
        pos = self._confirmed
        overlap = min(len(chunk), len(self.data) - pos)
        if overlap > 0 and self.data[pos:pos + overlap] != chunk[:overlap]:
            old = self.data[pos:pos + overlap]
            first = next(i for i in range(overlap) if old[i] != chunk[i])
            if self.handed_out > pos + first and self.differed_at is None:
                # Same segment, same length, so the framing is intact: the reader goes on with
                # the right bytes from here. Cutting it off would make ffmpeg skip the rest of
                # the segment (it does not ask again); see docs/engine.md.
                self.differed_at = pos + first
                log.warning("segment %d: bytes already handed to mpv differ from the valid "
                            "segment from byte %d on (%d handed out); the rest is right",
                            self.index, pos + first, self.handed_out)
            del self.data[pos + first:]
            overlap = first
        if overlap < len(chunk):
            self.data += chunk[overlap:]
        self._confirmed = pos + len(chunk)
        self._notify()

    def restart(self) -> None:
        """The download starts over from byte 0: re-check what is here against it."""
        self._confirmed = 0

    def seal(self) -> bytes:
        """The download is complete and valid: drop unconfirmed bytes, return the segment."""
        if len(self.data) > self._confirmed:
            if self.handed_out > self._confirmed:
                self._taint()
            del self.data[self._confirmed:]
        if self.length != len(self.data):
            if self.handed_out:
                self._taint()
            self.length = len(self.data)
        self._notify()
        return bytes(self.data)

    def reset(self) -> None:
        """Another rendition will be fetched instead: forget everything."""
        if self.handed_out:
            self._taint()
        self.data.clear()
        self._confirmed = 0
        self.length = None
        self._notify()

    def fail(self, error: BaseException) -> None:
        """The download ended without a segment: readers get ``error``."""
        if self._error is None:
            self._error = error
        self._notify()

    def _taint(self) -> None:
        self.tainted = True
        self._epoch += 1

    def _notify(self) -> None:
        waiters, self._waiters = self._waiters, []
        for waiter in waiters:
            if not waiter.done():
                waiter.set_result(None)
        if self._on_change is not None:
            self._on_change()

    # --- readers -------------------------------------------------------------------------------

    async def chunks(self) -> AsyncIterator[bytes]:
        """The segment from its first byte, each chunk as soon as it is validated. Raises
        :class:`SegmentAborted` when the segment is tainted, or the :meth:`fail` error."""
        epoch, pos = self._epoch, 0
        if self.length is None:
            raise SegmentAborted(f"segment {self.index}: length unknown")
        length = self.length
        while pos < length:
            while True:
                if epoch != self._epoch or self.length != length:
                    raise SegmentAborted(f"segment {self.index}: bytes already sent changed")
                if self._error is not None:
                    raise self._error
                if self._confirmed > pos:
                    break
                waiter = asyncio.get_running_loop().create_future()
                self._waiters.append(waiter)
                await waiter
            chunk = bytes(self.data[pos:min(self._confirmed, length)])
            pos += len(chunk)
            self.handed_out = max(self.handed_out, pos)
            yield chunk
