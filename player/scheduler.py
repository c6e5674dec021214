"""The segment scheduler: keeps the forward buffer at its target and serves it to the bridge.

``Scheduler`` implements :class:`player.segments.SegmentSource`. After ``await start()`` a loop on
the engine's asyncio loop fetches the first missing position at or after the playhead while the
media from the playhead to that position is under ``buffer.target_s``: the ABR policy picks the
rung (``choose(k, buffer_s, now_s)``), the :class:`~player.fetcher.SegmentFetcher` fetches,
fails over, decrypts and validates, and the plaintext goes into the
:class:`~player.buffer.SegmentBuffer`. An abandoned download is fetched again at the rung the
policy names.

**One fetch at a time**, by default (a second only with ``parallel_fetch``; see
:mod:`player.scheduler_plan`). The pieces: :mod:`player.scheduler_config` (tunables, timeline
check), :mod:`player.scheduler_plan` (what to fetch next), :mod:`player.scheduler_fetch` (one
position's fetch and abandon), :mod:`player.scheduler_record` (events, rebuffers, stored list).

**Playhead.** ``on_request(k)`` (mpv asked for position k) moves it. A position that is buffered,
being fetched, or the next one after the buffered run keeps the buffer (segments more than
``back_buffer_s`` behind are evicted); any other position is a seek outside the buffer: the
buffer is flushed, fetches in flight are cancelled and fetching restarts at k.

**Pause** changes nothing in fetching (the buffer still fills to its target); a wait in
``segment()`` while paused is not counted as a rebuffer.

**Events** (``on_event(dict)``): listed in :mod:`player.scheduler_record`.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import time
from collections.abc import Callable, Sequence

from abr.interface import AbrPolicy, Decision
from player.buffer import BufferedSegment, SegmentBuffer
from player.failover import FailoverEvent
from player.fetchbase import Abandoned
from player.fetcher import SegmentFetcher
from player.loadlag import LoopLag
from player.scheduler_config import SchedulerConfig, check_timeline
from player.scheduler_fetch import LiveSegments, failure, fetch_position
from player.scheduler_plan import capped_choice, next_position, parallel_ok, will_fetch
from player.scheduler_record import Event, ScheduleRecord
from player.segments import SegmentSourceError, SegmentStream, whole

log = logging.getLogger("abr")


class Scheduler:
    """``Scheduler(fetcher, policy, start_index=k, on_event=cb)``; ``await start()``;
    ``await stop()``."""

    def __init__(self, fetcher: SegmentFetcher, policy: AbrPolicy, *,
                 config: SchedulerConfig | None = None, start_index: int = 0,
                 on_event: Callable[[Event], None] | None = None,
                 clock: Callable[[], float] = time.monotonic,
                 first_max_rung: int | None = None, hold_until_released: bool = False,
                 lag: LoopLag | None = None) -> None:
        """``first_max_rung``: cap on the first segment's rung (a fast start: its download is
        on the time to first frame); None: the policy alone decides.
        ``hold_until_released``: until :meth:`release` (the session calls it at the first
        frame) fetch no further than one segment past the position mpv is reading, at no more
        than ``first_max_rung``, so big read-ahead downloads do not compete with mpv's start
        for the link and the CPU while one segment of margin is still buffered.
        ``lag``: the CPU-load signal (default: a :class:`~player.loadlag.LoopLag` on the
        loop's own clock), started by :meth:`start` and stopped by :meth:`stop`."""
        self.config = config or SchedulerConfig()
        self.fetcher = fetcher
        self.policy = policy
        self._clock = clock
        self._record = ScheduleRecord(on_event, clock)
        self._start_index = start_index
        self._first_max_rung = first_max_rung
        self._first: Decision | None = None
        self._held = hold_until_released
        self._buffer: SegmentBuffer | None = None
        self._durations_s: tuple[float, ...] = ()
        self.container = "ts"
        """The timeline playlist's :attr:`~player.presentation.MediaPlaylist.container`."""
        self.timeline_rung = 0
        """The rung whose media playlist gave the timeline."""
        self._inflight: dict[int, asyncio.Task[None]] = {}
        self._live = LiveSegments()
        """Segments being fetched, readable as their plaintext arrives (:meth:`stream`)."""
        self._tasks: set[asyncio.Task[None]] = set()
        self._loop_task: asyncio.Task[None] | None = None
        self._wake = asyncio.Event()
        self._rung: int | None = None
        self._paused = False
        self._stopped = False
        self._ended = False
        self.error: BaseException | None = None
        """What ended the stream (``NoEdgeError``, ``LicenseError``…), None while healthy."""
        self.rebuffers = self._record.rebuffers
        """(position, seconds waited) for every rebuffer."""
        self.fetched = self._record.fetched
        """(position, rung, edge) of every stored segment, in order."""
        self.lag = lag or LoopLag(self.config.lag)
        fetcher.subscribe(self._failover)
        fetcher.load_allowance_s = fetcher.pool.load_allowance_s = self._load_allowance_s

    # --- lifecycle -----------------------------------------------------------------------------

    async def start(self, *, segment_duration_s: float | None = None,
                    expected_durations_s: Sequence[float] | None = None) -> None:
        """Read the timeline (one media playlist), start the ABR session and the fetch loop.

        With ``segment_duration_s`` (the nominal segment duration, e.g. from the playback
        answer) the ABR session starts first and the first segment's rung is decided before the
        timeline, whose playlist is then that rung's: its segment URIs are known as soon as the
        timeline is, with no second playlist round trip. Without it the timeline is the lowest
        rung's playlist and ``policy.start`` gets its target duration. The policy is told the
        title's segment count when it is known (from the announced timeline, or the playlist).

        ``expected_durations_s``: the timeline announced beforehand (the playback answer's
        ``segment_durations_s``, which mpv's playlist was already built from); the media
        playlist must agree with it (same count, durations within
        :data:`~player.scheduler_config.TIMELINE_TOLERANCE_S`, media sequence 0), else
        :class:`ManifestError`."""
        bitrates = self.fetcher.playlists.bitrates_bps
        rung = 0
        if not self._stopped:
            self.lag.start()
        if segment_duration_s:
            count = len(expected_durations_s) if expected_durations_s else None
            self.policy.start(bitrates, segment_duration_s, count,
                              max_buffer_s=self.config.buffer.target_s)
            self._first = self._capped_decision(self._start_index, 0.0)
            rung = self._clamp(self._first.rung)
        try:
            timeline = await self.fetcher.timeline(rung)
        except BaseException:
            await self.lag.stop()
            raise
        self._durations_s = tuple(s.duration_s for s in timeline.segments)
        self.container = timeline.container
        self.timeline_rung = rung
        if expected_durations_s is not None:
            check_timeline(self._durations_s, timeline.media_sequence, expected_durations_s,
                           self.fetcher.playlists.ladder[rung])
        self._buffer = SegmentBuffer(self._durations_s, self.config.buffer)
        self._buffer.set_playhead(max(0, min(self._start_index, len(self._durations_s) - 1)))
        self.fetcher.buffer_level = lambda: self.buffer_s
        if not segment_duration_s:
            self.policy.start(bitrates, timeline.target_duration_s, len(timeline.segments),
                              max_buffer_s=self.config.buffer.target_s)
        self._loop_task = asyncio.create_task(self._run(), name="scheduler")

    def _load_allowance_s(self) -> float:
        return self.lag.allowance_s

    def _clamp(self, rung: int) -> int:
        return max(0, min(rung, len(self.fetcher.playlists.ladder) - 1))

    def _capped_decision(self, index: int, buffer_s: float) -> Decision:
        """The policy's choice under ``first_max_rung`` (the first segment, and the start-up
        hold)."""
        return capped_choice(self.policy, self._first_max_rung, index, buffer_s, self._clock())

    async def stop(self) -> None:
        """Cancel the loop and every fetch; waiters in ``segment()`` get SegmentSourceError."""
        if self._stopped:
            return
        self._stopped = True
        tasks = [*self._tasks]
        if self._loop_task is not None:
            tasks.append(self._loop_task)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await self.fetcher.aclose()
        await self.lag.stop()
        self._inflight.clear()
        if self._buffer is not None and self._buffer.error is None:
            self._buffer.fail(SegmentSourceError("playback stopped"))
        self._live.poke()

    @property
    def buffer(self) -> SegmentBuffer:
        if self._buffer is None:
            raise RuntimeError("Scheduler.start() has not run")
        return self._buffer

    # --- SegmentSource -------------------------------------------------------------------------

    @property
    def segment_count(self) -> int:
        return len(self._durations_s)

    @property
    def segment_durations_s(self) -> Sequence[float]:
        return self._durations_s

    async def segment(self, index: int) -> bytes:
        buffer = self.buffer
        if not 0 <= index < buffer.count:
            raise IndexError(index)
        ready = buffer.get(index)
        if ready is not None:
            return ready.data
        if not self._will_fetch(index):
            self.on_request(index)
        with self._rebuffering(index):
            return (await buffer.wait_for(index)).data

    def _rebuffering(self, index: int) -> contextlib.AbstractContextManager[None]:
        """Account a wait for segment ``index`` as a rebuffer (unless paused, or the stream has
        already failed: mpv's requests after that are answered with the error at once)."""
        if self._paused or self.buffer.error is not None:
            return contextlib.nullcontext()
        return self._record.rebuffering(index, self.buffer.buffer_s)

    async def stream(self, index: int) -> SegmentStream:
        """Position ``index`` progressively: the whole segment if buffered, else the download
        under way as its validated plaintext arrives (once its length is known). The wait for
        it is a rebuffer like :meth:`segment`'s; it ends when the bytes start to flow. A
        segment whose streamed bytes turned out wrong (tainted) is only served whole."""
        buffer = self.buffer
        if not 0 <= index < buffer.count:
            raise IndexError(index)
        ready = buffer.get(index)
        if ready is not None:
            return self._whole(ready)
        if not self._will_fetch(index):
            self.on_request(index)
        with self._rebuffering(index):
            got = await self._live.when_readable(buffer, index)
        if isinstance(got, BufferedSegment):
            return self._whole(got)
        assert got.length is not None
        return SegmentStream(got.length, got.chunks(), got.rung, got.rendition_id, got.edge)

    def _whole(self, ready: BufferedSegment) -> SegmentStream:
        return SegmentStream(len(ready.data), whole(ready.data), ready.rung, ready.rendition_id,
                             self._record.edge_of(ready.index))

    def on_request(self, index: int) -> None:
        buffer = self.buffer
        if not 0 <= index < buffer.count:
            return
        old = buffer.playhead
        keep = (index in buffer or index in self._inflight
                or old <= index <= buffer.contiguous_end())
        if keep:
            buffer.set_playhead(index)
        else:
            for k, task in list(self._inflight.items()):
                task.cancel()
                del self._inflight[k]
            dropped = len(buffer)
            buffer.flush()
            buffer.set_playhead(index)
            self._ended = False
            log.info("seek to %d outside the buffer: %d segments flushed", index, dropped)
        if not keep or abs(index - old) > 1:
            self._emit({"type": "seek", "index": index, "from": old, "flushed": not keep})
        for k, task in list(self._inflight.items()):
            if not buffer.within_window(k):
                task.cancel()
                del self._inflight[k]
        self._wake.set()

    # --- controls ------------------------------------------------------------------------------

    @property
    def buffer_s(self) -> float:
        return self._buffer.buffer_s if self._buffer is not None else 0.0

    @property
    def paused(self) -> bool:
        return self._paused

    def release(self) -> None:
        """End the start-up hold: fill the buffer to its target from now on."""
        if self._held:
            self._held = False
            self._wake.set()

    def pause(self) -> None:
        if not self._paused:
            self._paused = True
            self._emit({"type": "pause"})

    def resume(self) -> None:
        if self._paused:
            self._paused = False
            self._emit({"type": "resume"})

    @property
    def max_rung(self) -> int | None:
        return self.policy.max_rung

    @max_rung.setter
    def max_rung(self, rung: int | None) -> None:
        self.policy.max_rung = rung
        log.info("max rung %s", "none" if rung is None else rung)

    @property
    def rung(self) -> int | None:
        """The rung of the last decision."""
        return self._rung

    @property
    def ended(self) -> bool:
        """Every position from the playhead to the end is buffered."""
        return self._ended

    # --- the loop ------------------------------------------------------------------------------

    async def _run(self) -> None:
        while True:
            self._wake.clear()
            self._schedule()
            await self._wake.wait()

    def _will_fetch(self, index: int) -> bool:
        return will_fetch(self.buffer, self._inflight, index,
                          target_s=self.config.buffer.target_s)

    def _parallel_ok(self) -> bool:
        return parallel_ok(self.config, self.policy.estimate_bps,
                           self.fetcher.playlists.bitrates_bps, self._rung, self.buffer_s)

    def _schedule(self) -> None:
        if self.error is not None or self._stopped:
            return
        buffer = self.buffer
        while len(self._inflight) < (2 if self._parallel_ok() else 1):
            k = next_position(buffer, self._inflight, target_s=self.config.buffer.target_s,
                              held=self._held)
            if k is None:
                return
            if k >= buffer.count:
                if not self._inflight and not self._ended:
                    self._ended = True
                    self._emit({"type": "end_of_stream", "index": buffer.playhead})
                    log.info("end of stream: everything up to the last segment is buffered")
                return
            task = asyncio.create_task(self._fetch(k), name=f"fetch-{k}")
            self._inflight[k] = task
            self._tasks.add(task)
            task.add_done_callback(functools.partial(self._fetch_done, k))

    def _fetch_done(self, index: int, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        if self._inflight.get(index) is task:
            del self._inflight[index]
        if task.cancelled():
            return
        exc = task.exception()
        if exc is not None:
            self._fail(exc)
        self._wake.set()

    async def _fetch(self, index: int) -> None:
        buffer = self.buffer
        if self._rung is None:  # the first decision of the session
            decision = self._first or self._capped_decision(index, buffer.buffer_s)
        elif self._held:
            decision = self._capped_decision(index, buffer.buffer_s)
        else:
            decision = self.policy.choose(index, buffer.buffer_s, self._clock())
        self._first = None
        rung = self._clamp(decision.rung)
        self._decided(index, rung, decision.reason)
        live = self._live.start(index, rung, self.fetcher.playlists.ladder[rung])
        try:
            result, rung = await fetch_position(
                self.fetcher, index, rung, live,
                on_abandon=functools.partial(self._abandoned, index))
        finally:
            self._live.end(index, live)
        if self._stopped or not buffer.within_window(index) or index in buffer:
            return
        buffer.put(BufferedSegment(index, result.data, result.rendition_id, rung,
                                   buffer.durations_s[index]))
        self.fetched.append((index, rung, result.edge))
        self._live.poke()

    def _abandoned(self, index: int, result: Abandoned, rung: int) -> None:
        self._emit({"type": "abandon", "index": index, "rung": rung, "lower": result.lower,
                    "bytes": result.bytes_so_far, "edge": result.edge})
        self._decided(index, result.lower, "abandoned a download that would drain the buffer")

    def _decided(self, index: int, rung: int, reason: str) -> None:
        ladder = self.fetcher.playlists.ladder
        log.info("segment %d: rung %d (%s), %s, buffer %.1f s", index, rung, ladder[rung],
                 reason, self.buffer_s)
        if rung != self._rung:
            self._emit({"type": "rendition_switch", "index": index, "from": self._rung,
                        "to": rung, "rendition": ladder[rung], "reason": reason})
        self._rung = rung

    def _fail(self, exc: BaseException) -> None:
        if self.error is not None or self._stopped:
            return
        self.error = exc
        code, message = failure(exc)
        for task in self._inflight.values():
            task.cancel()
        error = SegmentSourceError(message)
        error.__cause__ = exc
        self.buffer.fail(error)
        self._live.fail(error)
        self._live.poke()
        self._emit({"type": "error", "code": code, "message": message})

    def _failover(self, event: FailoverEvent) -> None:
        self._emit(event.as_dict())

    def _emit(self, event: Event) -> None:
        self._record.emit(event)

