"""The segment scheduler: keeps the forward buffer at its target and serves it to the bridge.

``Scheduler`` implements :class:`player.segments.SegmentSource`. After ``await start()`` a loop on
the engine's asyncio loop fetches the first missing position at or after the playhead while the
media from the playhead to that position is under ``buffer.target_s``: the ABR policy picks the
rung (``choose(k, buffer_s, now_s)``), the :class:`~player.fetcher.SegmentFetcher` fetches,
fails over, decrypts and validates, and the plaintext goes into the
:class:`~player.buffer.SegmentBuffer`. An abandoned download is fetched again at the rung the
policy names.

**One fetch at a time**, by default: on one link, two downloads share the bandwidth, so a second
only helps when the first is latency-bound. With ``parallel_fetch`` on, a second position is
fetched alongside when the buffer is under ``parallel_below_s`` *and* the throughput estimate is
at least ``parallel_headroom`` × the current rung's bitrate (both halves of the link still arrive
faster than real time).

**Playhead.** ``on_request(k)`` (mpv asked for position k) moves it. A position that is buffered,
being fetched, or the next one after the buffered run keeps the buffer (segments more than
``back_buffer_s`` behind are evicted); any other position is a seek outside the buffer: the
buffer is flushed, fetches in flight are cancelled and fetching restarts at k.

**Pause** changes nothing in fetching (the buffer still fills to its target); a wait in
``segment()`` while paused is not counted as a rebuffer.

**Events** (``on_event(dict)``, each with ``type`` and ``at_s``): ``rendition_switch`` (from, to,
rendition, reason), ``abandon``, ``failover`` (see :class:`~player.failover.FailoverEvent`),
``rebuffer_start`` / ``rebuffer_end`` (index, waited_s), ``seek`` (index, flushed),
``pause`` / ``resume``, ``end_of_stream``, ``error`` (code, message).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from abr.interface import AbrPolicy, Decision
from player.buffer import BufferConfig, BufferedSegment, LiveSegment, SegmentAborted, SegmentBuffer
from player.errors import ManifestError, PlayerError
from player.failover import FailoverEvent
from player.fetcher import Abandoned, SegmentFetcher
from player.loadlag import LagConfig, LoopLag
from player.segments import SegmentSourceError, SegmentStream, whole

log = logging.getLogger("abr")
edge_log = logging.getLogger("edge")

Event = dict[str, Any]



@dataclass(frozen=True)
class SchedulerConfig:
    buffer: BufferConfig = field(default_factory=BufferConfig)
    """Target, back-buffer and window of the forward buffer."""
    parallel_fetch: bool = False
    """Allow one extra fetch in parallel when the buffer is low (bool). Default False."""
    parallel_below_s: float = 10.0
    """Buffer under which the extra fetch may start (seconds). Default 10.0."""
    parallel_headroom: float = 2.5
    """The estimate must exceed this × the current rung's bitrate for it (factor). Default 2.5."""
    lag: LagConfig = field(default_factory=LagConfig)
    """How the event loop's lateness is sampled and what it adds to the fetch timeouts."""


TIMELINE_TOLERANCE_S = 0.001
"""How far a media playlist's ``EXTINF`` may be from the announced duration (the playlists
print three decimals)."""


def _check_timeline(durations_s: Sequence[float], media_sequence: int,
                    expected_s: Sequence[float], rendition: str) -> None:
    """The media playlist's timeline is the announced one, or :class:`ManifestError`."""
    problem = None
    if media_sequence != 0:
        problem = f"it starts at media sequence {media_sequence}, not 0"
    elif len(durations_s) != len(expected_s):
        problem = f"it has {len(durations_s)} segments, not {len(expected_s)}"
    else:
        for k, (got, want) in enumerate(zip(durations_s, expected_s, strict=True)):
            if abs(got - want) > TIMELINE_TOLERANCE_S:
                problem = f"segment {k} lasts {got:.3f} s, not {want:.3f} s"
                break
    if problem is not None:
        raise ManifestError(f"The {rendition} playlist does not match the title's timeline "
                            f"from the playback answer: {problem}.")


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
        self._on_event = on_event
        self._clock = clock
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
        self._live: dict[int, LiveSegment] = {}
        """Segments being fetched, readable as their plaintext arrives (:meth:`stream`)."""
        self._changed = asyncio.Event()
        """Set (and replaced) whenever a segment is stored or a live one changes."""
        self._tasks: set[asyncio.Task[None]] = set()
        self._loop_task: asyncio.Task[None] | None = None
        self._wake = asyncio.Event()
        self._rung: int | None = None
        self._paused = False
        self._stopped = False
        self._ended = False
        self.error: BaseException | None = None
        """What ended the stream (``NoEdgeError``, ``LicenseError``…), None while healthy."""
        self.rebuffers: list[tuple[int, float]] = []
        """(position, seconds waited) for every rebuffer."""
        self.fetched: list[tuple[int, int, str]] = []
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
        ``TIMELINE_TOLERANCE_S``, media sequence 0), else :class:`ManifestError`."""
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
            _check_timeline(self._durations_s, timeline.media_sequence, expected_durations_s,
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
        cap = self._first_max_rung
        saved = self.policy.max_rung
        if cap is not None:
            self.policy.max_rung = cap if saved is None else min(saved, cap)
        try:
            return self.policy.choose(index, buffer_s, self._clock())
        finally:
            self.policy.max_rung = saved

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
        self._poke()

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

    @contextlib.contextmanager
    def _rebuffering(self, index: int) -> Iterator[None]:
        """Account a wait for segment ``index`` as a rebuffer (unless paused, or the stream has
        already failed: mpv's requests after that are answered with the error at once)."""
        if self._paused or self.buffer.error is not None:
            yield
            return
        start = self._clock()
        self._emit({"type": "rebuffer_start", "index": index, "buffer_s": self.buffer.buffer_s})
        # Before anything was served this is the start-up wait (mpv opened the stream while
        # the first segment was still coming): expected, not a stall.
        log.log(logging.INFO if not self.fetched else logging.WARNING,
                "rebuffering: segment %d is not buffered", index)
        try:
            yield
        finally:
            waited = self._clock() - start
            self.rebuffers.append((index, waited))
            self._emit({"type": "rebuffer_end", "index": index, "waited_s": waited})
            log.info("rebuffer of segment %d ended after %.0f ms", index, waited * 1000)

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
            while True:
                ready = buffer.get(index)
                if ready is not None:
                    return self._whole(ready)
                if buffer.error is not None:
                    raise buffer.error
                live = self._live.get(index)
                if live is not None and live.streamable and live.length is not None:
                    return SegmentStream(live.length, live.chunks(), live.rung,
                                         live.rendition_id, live.edge)
                await self._changed.wait()

    def _whole(self, ready: BufferedSegment) -> SegmentStream:
        edge = next((e for k, _, e in reversed(self.fetched) if k == ready.index), None)
        return SegmentStream(len(ready.data), whole(ready.data), ready.rung, ready.rendition_id,
                             edge)

    def _poke(self) -> None:
        changed, self._changed = self._changed, asyncio.Event()
        changed.set()

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
        buffer = self.buffer
        return index in self._inflight or (
            buffer.playhead <= index
            and buffer.seconds_between(buffer.playhead, index) < self.config.buffer.target_s)

    def _parallel_ok(self) -> bool:
        c = self.config
        estimate = self.policy.estimate_bps
        if not c.parallel_fetch or estimate is None or self.buffer_s >= c.parallel_below_s:
            return False
        bitrates = self.fetcher.playlists.bitrates_bps
        rung = min(self._rung or 0, len(bitrates) - 1)
        return estimate >= c.parallel_headroom * bitrates[rung]

    def _schedule(self) -> None:
        if self.error is not None or self._stopped:
            return
        buffer = self.buffer
        while len(self._inflight) < (2 if self._parallel_ok() else 1):
            k = buffer.contiguous_end()
            while k < buffer.count and (k in buffer or k in self._inflight):
                k += 1
            if k >= buffer.count:
                if not self._inflight and not self._ended:
                    self._ended = True
                    self._emit({"type": "end_of_stream", "index": buffer.playhead})
                    log.info("end of stream: everything up to the last segment is buffered")
                return
            if buffer.seconds_between(buffer.playhead, k) >= self.config.buffer.target_s:
                return
            if self._held and k > buffer.playhead + 1:
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
        live = LiveSegment(index, on_change=self._poke)
        live.rung, live.rendition_id = rung, self.fetcher.playlists.ladder[rung]
        self._live[index] = live
        try:
            while True:
                result = await self.fetcher.fetch(index, rung, sink=live)
                if not isinstance(result, Abandoned):
                    break
                self._emit({"type": "abandon", "index": index, "rung": rung,
                            "lower": result.lower, "bytes": result.bytes_so_far,
                            "edge": result.edge})
                rung = result.lower
                live.reset()
                live.rung, live.rendition_id = rung, self.fetcher.playlists.ladder[rung]
                self._decided(index, rung, "abandoned a download that would drain the buffer")
        except asyncio.CancelledError:
            live.fail(SegmentAborted(f"segment {index}: download dropped"))
            raise
        except BaseException as exc:
            error = SegmentSourceError(str(exc))
            error.__cause__ = exc
            live.fail(error)
            raise
        finally:
            if self._live.get(index) is live:
                del self._live[index]
            self._poke()
        if self._stopped or not buffer.within_window(index) or index in buffer:
            return
        buffer.put(BufferedSegment(index, result.data, result.rendition_id, rung,
                                   buffer.durations_s[index]))
        self.fetched.append((index, rung, result.edge))
        self._poke()

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
        if isinstance(exc, PlayerError):
            code, message = exc.code, exc.message
            edge_log.error("stream failed: %s", exc)
        else:
            code, message = "internal", f"{type(exc).__name__}: {exc}"
            edge_log.error("stream failed on an unexpected error", exc_info=exc)
        for task in self._inflight.values():
            task.cancel()
        error = SegmentSourceError(message)
        error.__cause__ = exc
        self.buffer.fail(error)
        for live in self._live.values():
            live.fail(error)
        self._poke()
        self._emit({"type": "error", "code": code, "message": message})

    def _failover(self, event: FailoverEvent) -> None:
        self._emit(event.as_dict())

    def _emit(self, event: Event) -> None:
        event.setdefault("at_s", self._clock())
        if self._on_event is None:
            return
        try:
            self._on_event(event)
        except Exception:
            edge_log.exception("event subscriber failed on %s", event.get("type"))

