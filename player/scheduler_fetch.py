"""The fetch of one position: again one rung lower after an abandon; its live readers told the end.

:func:`fetch_position` drives :meth:`~player.fetcher.SegmentFetcher.fetch` into a
:class:`~player.buffer.LiveSegment` (what the bridge streams to mpv while it arrives);
:func:`failure` is what a fetch error means for the stream (the ``error`` event's code and
message).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from player.buffer import BufferedSegment, LiveSegment, SegmentAborted, SegmentBuffer
from player.errors import PlayerError
from player.fetchbase import Abandoned, Fetched
from player.fetcher import SegmentFetcher
from player.segments import SegmentSourceError

edge_log = logging.getLogger("edge")


async def fetch_position(fetcher: SegmentFetcher, index: int, rung: int, live: LiveSegment, *,
                         on_abandon: Callable[[Abandoned, int], None]) -> tuple[Fetched, int]:
    """Fetch position ``index`` at ``rung`` into ``live``; the result and the rung it came at.

    An abandoned download (it would drain the buffer) calls ``on_abandon(result, rung)`` and is
    fetched again at ``result.lower``. A cancelled fetch fails ``live`` with
    :class:`SegmentAborted`, a failed one with :class:`SegmentSourceError`; both re-raise."""
    try:
        while True:
            result = await fetcher.fetch(index, rung, sink=live)
            if not isinstance(result, Abandoned):
                return result, rung
            on_abandon(result, rung)
            rung = result.lower
            live.reset()
            live.rung, live.rendition_id = rung, fetcher.playlists.ladder[rung]
    except asyncio.CancelledError:
        live.fail(SegmentAborted(f"segment {index}: download dropped"))
        raise
    except BaseException as exc:
        error = SegmentSourceError(str(exc))
        error.__cause__ = exc
        live.fail(error)
        raise


def failure(exc: BaseException) -> tuple[str, str]:
    """The code and message of a stream that ``exc`` ended (logged once): a
    :class:`PlayerError`'s own, else ``internal`` with the type and text."""
    if isinstance(exc, PlayerError):
        edge_log.error("stream failed: %s", exc)
        return exc.code, exc.message
    edge_log.error("stream failed on an unexpected error", exc_info=exc)
    return "internal", f"{type(exc).__name__}: {exc}"


class LiveSegments:
    """The segments being fetched, by position, readable as their plaintext arrives; one event
    wakes every reader on any change (a segment stored, a live one grown, reset or failed)."""

    def __init__(self) -> None:
        self._by_index: dict[int, LiveSegment] = {}
        self._changed = asyncio.Event()

    def start(self, index: int, rung: int, rendition_id: str) -> LiveSegment:
        """A new live segment for position ``index`` at ``rung``."""
        live = LiveSegment(index, on_change=self.poke)
        live.rung, live.rendition_id = rung, rendition_id
        self._by_index[index] = live
        return live

    def end(self, index: int, live: LiveSegment) -> None:
        """``live``'s fetch is over (a newer one for ``index`` stays)."""
        if self._by_index.get(index) is live:
            del self._by_index[index]
        self.poke()

    def fail(self, error: BaseException) -> None:
        for live in self._by_index.values():
            live.fail(error)

    def poke(self) -> None:
        changed, self._changed = self._changed, asyncio.Event()
        changed.set()

    async def when_readable(self, buffer: SegmentBuffer, index: int
                            ) -> BufferedSegment | LiveSegment:
        """Position ``index`` once it is buffered, or streamable with a known length; the
        buffer's error once it has one."""
        while True:
            ready = buffer.get(index)
            if ready is not None:
                return ready
            if buffer.error is not None:
                raise buffer.error
            live = self._by_index.get(index)
            if live is not None and live.streamable and live.length is not None:
                return live
            await self._changed.wait()
