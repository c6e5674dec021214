"""``_Served``: the scheduler as the bridge sees it (it may serve before the scheduler exists)."""

from __future__ import annotations

import asyncio
import dataclasses
import itertools
from collections.abc import Callable, Sequence

from player.scheduler import Scheduler
from player.segments import SegmentSourceError, SegmentStream
from player.tscc import ContinuityStitcher


def _starts(durations_s: Sequence[float]) -> list[float]:
    """Where each segment starts, seconds."""
    return list(itertools.accumulate(durations_s, initial=0.0))[:len(durations_s)]


class _Served:
    """The scheduler as the bridge sees it, remembering which rung each position was served at.

    The bridge may listen, and serve mpv's playlist (from the timeline the playback answer
    announced), before the scheduler exists or has read its timeline: mpv's segment requests
    are then held until :meth:`attach` (or fail as the start-up did, :meth:`fail`)."""

    def __init__(self) -> None:
        self.scheduler: Scheduler | None = None
        """Set once the scheduler has read its timeline (:meth:`attach`)."""
        self.rungs: dict[int, int] = {}
        self.first: tuple[int, str, str] | None = None
        """(index, rendition, edge) of the first segment handed to mpv."""
        self.on_first_request: Callable[[], None] | None = None
        self._announced: tuple[float, ...] = ()
        self.announced_container = "ts"
        """The container the announced timeline's segments are in (mpv's playlist is built
        before the scheduler has read a media playlist)."""
        self._pending: int | None = None
        """mpv's last segment request before the scheduler was attached."""
        self._attached: asyncio.Future[None] | None = None
        self._continuity = ContinuityStitcher()
        """MPEG-TS: each PID's counter runs on across rendition switches (:mod:`player.tscc`)."""

    def announce(self, durations_s: Sequence[float], container: str = "ts") -> None:
        """The timeline before the scheduler has one (the playback answer's)."""
        self._announced = tuple(durations_s)
        self.announced_container = container

    def attach(self, scheduler: Scheduler) -> None:
        """The scheduler has its timeline: serve from it (and pass on mpv's held request)."""
        self.scheduler = scheduler
        if self._pending is not None:
            scheduler.on_request(self._pending)
            self._pending = None
        if self._attached is not None and not self._attached.done():
            self._attached.set_result(None)

    def fail(self, exc: BaseException) -> None:
        """The scheduler will never come: held and later segment requests fail with ``exc``."""
        if self.scheduler is not None:
            return
        if isinstance(exc, asyncio.CancelledError):  # not an error a request can carry
            exc = ConnectionAbortedError("start-up cancelled")
        if self._attached is None:
            self._attached = asyncio.get_running_loop().create_future()
        if not self._attached.done():
            self._attached.set_exception(exc)
            self._attached.exception()  # retrieved: no warning when nobody was waiting

    async def _scheduler(self) -> Scheduler:
        if self.scheduler is not None:
            return self.scheduler
        if self._attached is None:
            self._attached = asyncio.get_running_loop().create_future()
        try:
            await asyncio.shield(self._attached)
        except asyncio.CancelledError:
            raise
        except BaseException as exc:
            error = SegmentSourceError(f"the stream did not start: {exc}")
            error.__cause__ = exc
            raise error from exc
        assert self.scheduler is not None
        return self.scheduler

    @property
    def container(self) -> str:
        """The timeline's container (``ts``, ``fmp4``, ``packed``)."""
        return self.scheduler.container if self.scheduler else self.announced_container

    async def init_segment(self) -> bytes:
        """The init segment of the rendition the scheduler started with (fragmented MP4)."""
        scheduler = await self._scheduler()
        rung = scheduler.rung if scheduler.rung is not None else scheduler.timeline_rung
        return await scheduler.fetcher.init_for(scheduler.fetcher.playlists.ladder[rung])

    @property
    def segment_count(self) -> int:
        return self.scheduler.segment_count if self.scheduler else len(self._announced)

    @property
    def segment_durations_s(self) -> Sequence[float]:
        return self.scheduler.segment_durations_s if self.scheduler else self._announced

    def on_request(self, index: int) -> None:
        if self.on_first_request is not None:
            self.on_first_request()
            self.on_first_request = None
        if self.scheduler is not None:
            self.scheduler.on_request(index)
        else:
            self._pending = index

    async def segment(self, index: int) -> bytes:
        scheduler = await self._scheduler()
        data = await scheduler.segment(index)
        if self.container == "ts":
            data = self._continuity.stitch(index, data)
        buffered = scheduler.buffer.get(index)
        if buffered is not None:
            self.rungs[index] = buffered.rung
            if self.first is None:
                edge = next((e for k, _, e in reversed(scheduler.fetched) if k == index), "")
                self.first = (index, buffered.rendition_id, edge)
        return data

    async def stream(self, index: int) -> SegmentStream:
        """The scheduler's progressive delivery (the bridge prefers it)."""
        scheduler = await self._scheduler()
        stream = await scheduler.stream(index)
        if self.container == "ts":
            stream = dataclasses.replace(
                stream, chunks=self._continuity.stitch_stream(index, stream.chunks))
        if stream.rung is not None:
            self.rungs[index] = stream.rung
        if self.first is None:
            self.first = (index, stream.rendition_id or "", stream.edge or "")
        return stream
