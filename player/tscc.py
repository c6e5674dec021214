"""MPEG-TS continuity counters stitched across rendition switches.

mpv reads the segments the bridge serves as one transport stream. Every TS packet carries a
4-bit continuity counter per PID that goes up by one with each packet that has a payload; a
packager continues it from one segment to the next *of the same rendition*, but two renditions
count on their own. At a switch the counter jumps, and FFmpeg's TS demuxer marks the PES packet
it was reading as corrupt ("Packet corrupt (stream = 0, dts = …)"), which the decoder may drop.

:class:`ContinuityStitcher` rewrites the counters of the segments handed to mpv, in the order it
reads them, so that each PID's counter runs on from the previous segment whatever rendition that
was: a 4-bit field rewritten in place, the segment's length and everything else unchanged. A
segment that does not follow the last one served (a seek, mpv reading again) starts afresh with
its own counters, as a demuxer does after a seek. Packets without a payload keep the counter of
the packet before them (the standard's rule); the null PID is left alone.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

PACKET = 188
SYNC = 0x47
NULL_PID = 0x1FFF


class _Rewrite:
    """One segment's packets rewritten as its bytes pass, whole packets at a time."""

    def __init__(self, counters: dict[int, int]) -> None:
        self.counters = counters
        self._rest = bytearray()

    def feed(self, data: bytes) -> bytes:
        buf = self._rest + data
        whole = len(buf) - len(buf) % PACKET
        out = bytearray(buf[:whole])
        self._rest = bytearray(buf[whole:])
        counters = self.counters
        for at in range(0, whole, PACKET):
            if out[at] != SYNC:  # not TS as expected: hand it on untouched
                continue
            pid = ((out[at + 1] & 0x1F) << 8) | out[at + 2]
            if pid == NULL_PID:
                continue
            flags = out[at + 3]
            cc = flags & 0x0F
            last = counters.get(pid)
            if flags & 0x10:  # a payload: the counter goes up by one
                cc = cc if last is None else (last + 1) & 0x0F
            elif last is not None:
                cc = last
            counters[pid] = cc
            out[at + 3] = (flags & 0xF0) | cc
        return bytes(out)

    def finish(self) -> bytes:
        rest, self._rest = bytes(self._rest), bytearray()
        return rest  # a segment that is not a whole number of packets: its tail untouched


class ContinuityStitcher:
    """``stitch(index, data)`` or ``stitch_stream(index, chunks)`` for each TS segment served
    to mpv, in the order served."""

    def __init__(self) -> None:
        self._next: int | None = None
        """The index that continues the last segment served."""
        self._counters: dict[int, int] = {}
        self._before: tuple[int, dict[int, int]] | None = None
        """(index, counters before it) of the segment served last: serving it again (mpv read
        it a second time) starts from the same counters."""

    def _begin(self, index: int) -> _Rewrite:
        if self._before is not None and self._before[0] == index:
            counters = dict(self._before[1])
        elif index == self._next:
            counters = dict(self._counters)
        else:
            counters = {}  # a seek: the demuxer starts afresh, so do we
        self._before = (index, dict(counters))
        self._next = index + 1
        self._counters = counters
        return _Rewrite(counters)

    def stitch(self, index: int, data: bytes) -> bytes:
        rewrite = self._begin(index)
        return rewrite.feed(data) + rewrite.finish()

    async def stitch_stream(self, index: int,
                            chunks: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
        rewrite = self._begin(index)
        async for chunk in chunks:
            out = rewrite.feed(chunk)
            if out:
                yield out
        tail = rewrite.finish()
        if tail:
            yield tail
