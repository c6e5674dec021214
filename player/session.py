"""``PlaybackSession``: one title from ``play()`` to ``stop()``, the whole play path tied together.

``await play()`` (ordered for the time to first frame; docs/engine.md, *Session*): the
:class:`~player.bridge.LoopbackBridge` listens while ``POST /v1/playback`` is under way → when
the answer announces the title's timeline (``segment_durations_s``), the bridge's playlist is
built from it and mpv opens the bridge URL at once, while the multivariant playlist (inline in
the answer, or fetched), the :class:`~player.scheduler.Scheduler` (ABR:
:class:`abr.hysteresis.HysteresisPolicy`, the lowest rung first when nothing is measured; start
position from the control plane's resume position unless ``start_over``) reading the start
rung's media playlist (checked against the announced timeline) and the streaming key follow; the
bridge holds mpv's segment request until the scheduler streams the first segment. Without an
announced timeline mpv waits for the manifest and the key. Steering and edge probes run after
the first frame. ``play()`` returns at the first frame (``first_frame`` event with
``ttff_ms``; ``startup_ms`` has the time of every stage) or raises the typed error
(:mod:`player.errors`; a failure after mpv was opened stops it first).

Then: :meth:`pause`, :meth:`resume`, :meth:`seek` (exact; the scheduler follows mpv's requests),
:meth:`set_audio` (mpv ``aid``; both languages are muxed in every segment), :meth:`set_subtitles`
(the WebVTT fetched from the edges and handed to mpv as ``memory://``: never on disk),
:attr:`max_rung`, :meth:`wait_ended` (``eof``, ``stopped``; raises on ``error``), :meth:`stop`
(tears everything down and sends the last telemetry) and :meth:`report` (the QoE report).

**Threads.** Everything runs on one asyncio loop (the caller's). mpv calls back on its own
thread; those callbacks only ``loop.call_soon_threadsafe`` into the loop. Commands to mpv run on
one worker thread of the session's own (a synchronous libmpv command must never block the loop,
which serves mpv's segment requests through the bridge). A Qt UI drives a session from its engine
thread with ``asyncio.run_coroutine_threadsafe``.

**Errors mid-stream.** When the scheduler's stream dies (every edge down after the steering and
manifest reloads, the key refused), the bridge's ``on_error`` stops mpv and :meth:`wait_ended`
raises the scheduler's typed error (``NoEdgeError``…), also sent as an ``error`` event.
"""

from __future__ import annotations

import asyncio
import bisect
import contextlib
import functools
import itertools
import logging
import ssl
import time
import uuid
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from typing import Any, TypeVar

import httpx

from abr.config import HysteresisConfig
from abr.hysteresis import HysteresisPolicy
from abr.interface import AbrPolicy
from player.api import ControlPlaneClient
from player.api.models import Playback
from player.bridge import LoopbackBridge
from player.decrypt import Decryptor, KeyCache
from player.edgepool import EdgePool, EdgePoolConfig
from player.errors import LicenseError, ManifestError, NoEdgeError, NotFoundError, PlayerError
from player.failover import FetchConfig
from player.fetcher import SegmentFetcher
from player.manifest import Multivariant, parse_media_playlist, parse_multivariant
from player.mpv_seam import MpvEvent, MpvLike
from player.qoe_report import QoeReport
from player.scheduler import Scheduler, SchedulerConfig
from player.segments import SegmentSourceError, SegmentStream
from player.sniff import describe_body, looks_like_playlist
from player.steering import SteeringClient
from player.sync.reporter import ProgressSink
from player.telemetry import Telemetry, TelemetryConfig

log = logging.getLogger("player.session")

T = TypeVar("T")


def _starts(durations_s: Sequence[float]) -> list[float]:
    """Where each segment starts, seconds."""
    return list(itertools.accumulate(durations_s, initial=0.0))[:len(durations_s)]


@functools.cache
def tls_context() -> ssl.SSLContext:
    """The TLS context every session's HTTP client shares: building one (the CA bundle) takes
    ~20 ms, which would otherwise land on every time to first frame. Call it early (e.g. when
    the app starts) to take even the first session's cost off the play path."""
    return httpx.create_ssl_context()  # httpx's own default: certifi, or SSL_CERT_FILE/DIR


@dataclass(frozen=True)
class SessionConfig:
    start_over: bool = False
    """Start at 0 instead of the control plane's resume position. Default False."""
    max_rung: int | None = None
    """Highest rung the ABR may pick (index, 0 = lowest); None: no cap. Default None."""
    initial_estimate_bps: float | None = None
    """Throughput persisted from the last session, bit/s; None: the policy's default."""
    abr: HysteresisConfig = field(default_factory=HysteresisConfig)
    scheduler: SchedulerConfig = field(default_factory=SchedulerConfig)
    fetch: FetchConfig = field(default_factory=FetchConfig)
    edges: EdgePoolConfig = field(default_factory=lambda: EdgePoolConfig(probe_bytes=65536))
    """Edge pool tunables; probes run after the first frame, 64 KiB per edge (3 × 256 KiB
    take over a second of a 5 Mbit/s link)."""
    telemetry: TelemetryConfig = field(default_factory=TelemetryConfig)
    post_telemetry: bool = True
    """Send events to the control plane (``POST /v1/telemetry``). Default True."""
    start_max_rung: int | None = 0
    """Rung of the first segment when the start is blind (the session's own policy and no
    ``initial_estimate_bps``): its whole download is on the time to first frame, so the lowest
    rung by default; the policy (``HysteresisConfig.blind_start_rung``) climbs from the first
    download, which is its probe. None: the policy's default estimate. Default 0."""
    first_frame_timeout_s: float = 20.0
    """play() gives up when mpv shows nothing for this long, seconds. Default 20."""
    steering_check_s: float = 1.0
    """How often the steering task looks at the TTL and ``pool.degraded``, seconds. Default 1."""
    degraded_reload_min_s: float = 3.0
    """Least time between two early steering reloads while the pool is degraded, s. Default 3."""
    progress_interval_s: float | None = 10.0
    """Write the position to the control plane this often while playing (and on pause, seek and
    stop), seconds; None: never. Default 10."""
    hold_readahead_until_first_frame: bool = True
    """Until the first frame, fetch at most one segment past the one mpv is reading, at no more
    than the start rung (when capped): a full-rate read-ahead download would slow mpv's start
    on two cores. The ABR climbs from the first frame on. Default True."""
    warm_edge: bool = True
    """Open the connection to the default pathway's edge (``GET /health``, from the playback
    answer's ``pathways``) while the multivariant playlist is fetched (only when the playback
    answer does not carry it inline: otherwise the timeline's request opens it at once).
    Default True."""
    stop_timeout_s: float = 3.0
    """How long stop() waits for mpv to acknowledge, seconds. Default 3."""


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
        self._pending: int | None = None
        """mpv's last segment request before the scheduler was attached."""
        self._attached: asyncio.Future[None] | None = None

    def announce(self, durations_s: Sequence[float]) -> None:
        """The timeline before the scheduler has one (the playback answer's)."""
        self._announced = tuple(durations_s)

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
        if stream.rung is not None:
            self.rungs[index] = stream.rung
        if self.first is None:
            self.first = (index, stream.rendition_id or "", stream.edge or "")
        return stream


def _is_media_playlist(text: str) -> bool:
    return any(line.startswith(("#EXTINF", "#EXT-X-TARGETDURATION"))
               for line in text.splitlines())


class PlaybackSession:
    """``PlaybackSession(cp, title_id, profile_id, mpv)``; ``await play()``; controls;
    ``await stop()``; ``report()``. ``mpv`` belongs to the caller (created early, reused).

    ``PlaybackSession.from_url(url, mpv)`` (or ``cp=None, url=…``): a plain HLS VOD URL (a
    multivariant or a media playlist) with no control plane: no ``POST /v1/playback``, no
    progress, no telemetry POST; playlists and keys (each EXT-X-KEY URI) are fetched with the
    session's HTTP client, without a bearer token."""

    def __init__(self, cp: ControlPlaneClient | None, title_id: str, profile_id: str,
                 mpv: MpvLike, *,
                 config: SessionConfig | None = None, http: httpx.AsyncClient | None = None,
                 policy: AbrPolicy | None = None,
                 clock: Callable[[], float] = time.monotonic,
                 progress: ProgressSink | None = None, url: str | None = None,
                 playback: Playback | Callable[[], Awaitable[Playback]] | None = None,
                 keys: Callable[[str], Awaitable[bytes]] | None = None) -> None:
        if isinstance(playback, Playback) and url is None:
            url = playback.manifest_url
        if (cp is None) == (url is None):
            raise ValueError("give either a control plane or a URL")
        self._prepared = playback
        """A start prepared elsewhere (an offline download's local playback), or the coroutine
        that prepares it when play() runs, used instead of ``POST /v1/playback``; None: the
        control plane's, or the plain URL's stand-in."""
        self._keys = keys
        """Where EXT-X-KEY keys come from instead of the license URL or each key URI (an
        offline download's unwrapped content key); None: the usual way."""
        self.config = config or SessionConfig()
        self.url = url
        """The plain HLS URL this session plays without a control plane; None: ``cp``'s."""
        self.progress = progress
        """Where positions go (``periodic``, ``pause``, ``seek``, ``stop``, ``end``): the
        durable outbox of :mod:`player.sync`; None: a best-effort ``PUT`` to the control plane."""
        self.cp = cp
        self.title_id = title_id
        self.profile_id = profile_id
        self.mpv = mpv
        self._http = http
        self._own_http = http is None
        self._own_policy = policy is None
        if policy is None:
            # the policy scales its thresholds to the cap the scheduler really fetches to (the
            # scheduler also passes it to policy.start) and owns the blind first-segment rule
            abr = replace(self.config.abr, max_buffer_s=self.config.scheduler.buffer.target_s,
                          blind_start_rung=self.config.start_max_rung)
            policy = HysteresisPolicy(abr, initial_estimate_bps=self.config.initial_estimate_bps)
        self.policy: AbrPolicy = policy
        self._clock = clock
        self.telemetry = Telemetry(
            title_id=title_id, config=self.config.telemetry, clock=clock,
            post=cp.post_telemetry if cp is not None and self.config.post_telemetry else None)
        self.playback: Playback | None = None
        self.multivariant: Multivariant | None = None
        self.pool: EdgePool | None = None
        self.steering: SteeringClient | None = None
        self.scheduler: Scheduler | None = None
        self.bridge: LoopbackBridge | None = None
        self._served: _Served | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._executor = ThreadPoolExecutor(1, thread_name_prefix="mpv-cmd")
        self._unsubscribe: list[Callable[[], None]] = []
        self._tasks: set[asyncio.Task[Any]] = set()
        self._done: asyncio.Future[str] | None = None
        self._first_frame: asyncio.Future[None] | None = None
        self._file_started = False
        self._playing = False
        self._seeking = False
        self._stopping = False
        self._closed = False
        self._ended_emitted = False
        self._last_steering_s = -1e9
        self._starts: list[float] = []
        self._t0 = 0.0
        self._session_started = False
        self._loadfile_sent = False
        self._steering_start: asyncio.Task[None] | None = None
        self._callbacks: asyncio.Future[None] | None = None
        self._start_index = 0
        self._start_resume_s = 0.0
        self.startup_ms: dict[str, float] = {}
        """Start-up stage → ms since ``play()`` was called (the first time each stage happened);
        see docs/engine.md, *Session*. Logged at debug on ``player.session``."""
        self.error: PlayerError | None = None
        """Why the session ended in error, None otherwise."""
        self.position_s = 0.0
        """The last position mpv reported (seconds)."""
        self.played_s = 0.0
        """Media seconds played so far (seeks skip; pauses do not count)."""
        self._played_by_rung: dict[int, float] = {}
        self.paused = False
        self._resume_s = 0.0

    @classmethod
    def from_url(cls, url: str, mpv: MpvLike, **kwargs: Any) -> PlaybackSession:
        """A session that plays ``url`` (http(s), HLS VOD) with no control plane."""
        return cls(None, url, "", mpv, url=url, **kwargs)

    # --- start ---------------------------------------------------------------------------------

    async def play(self) -> None:
        """Start playback; returns at the first frame. Raises :class:`PlayerError` subclasses
        (``AuthError``, ``EntitlementError``, ``ManifestError``, ``LicenseError``,
        ``NoEdgeError``, ``PlayerError(code="playback")``)."""
        self._loop = asyncio.get_running_loop()
        self._done = self._loop.create_future()
        self._first_frame = self._loop.create_future()
        started = self._t0 = self._clock()
        self.telemetry.start()
        try:
            await self._open()
            await self._wait_first_frame()
        except BaseException as exc:
            error = self._typed(exc)
            if not isinstance(exc, asyncio.CancelledError):
                self._finish("error", error)
            if self._loadfile_sent:  # mpv may still be opening the bridge: stop it first
                with contextlib.suppress(Exception):
                    await self._mpv_call(self.mpv.command, "stop")
            await self.stop()
            if error is exc or isinstance(exc, asyncio.CancelledError):
                raise
            raise error from exc
        ttff_ms = (self._clock() - started) * 1000
        self._mark("first_frame")
        log.debug("start-up stages (ms): %s", self.startup_ms)
        first = self._served.first if self._served else None
        self.telemetry.emit("first_frame", ttff_ms=round(ttff_ms, 1),
                            rendition=first[1] if first else None,
                            edge=first[2] if first else None)
        log.info("first frame after %.0f ms", ttff_ms)
        if self.scheduler is not None:
            self.scheduler.release()
        if self.pool is not None and self.cp is not None:
            # (A plain HLS server has no /health nor /v1/probe: its one origin is not probed.)
            # Probes rank the edges for later segments; before the first frame they would only
            # share the link (and the CPU) with the first segment, so they start now.
            self._spawn(self.pool.probe(), "probe")
        if self.steering is not None and self.pool is not None:
            # Steering only reorders the edges for later segments (the default pathway leads
            # until it answers): its round trip and the control plane's work wait too.
            self._start_steering(self.steering, self.pool)
        self._spawn(self._steering_loop(), "steering")
        if self.config.progress_interval_s and (self.cp is not None
                                                or self.progress is not None):
            self._spawn(self._progress_loop(self.config.progress_interval_s), "progress")

    async def _open(self) -> None:
        """The start-up path, ordered by what the first frame waits for (docs/engine.md,
        *Session*): the bridge listens and mpv's callbacks are registered while
        ``POST /v1/playback`` is under way → with an announced timeline, mpv's playlist is
        served from it and mpv is loaded at once; the multivariant playlist is parsed, the
        scheduler reads the start rung's media playlist (which must match the announced
        timeline) and fetches the first segment, and the key is fetched, while mpv opens the
        bridge (its segment request is held until the scheduler has its timeline). Without
        one: key and multivariant playlist first, mpv once both are good, the bridge's playlist
        once the scheduler's timeline is read. Steering and probes wait for the first frame."""
        assert self._loop is not None
        if self._http is None:
            # One client (HTTP/1.1 keep-alive, a pool per edge) for the whole session.
            self._http = httpx.AsyncClient(timeout=httpx.Timeout(10.0, connect=3.0),
                                           headers={"User-Agent": "Edgeplay/0.1"},
                                           verify=tls_context())
        http = self._http
        served = self._served = _Served()
        served.on_first_request = lambda: self._mark("mpv_segment")
        bridge = self.bridge = LoopbackBridge(served, on_error=self._on_bridge_error,
                                              on_served=self._on_served)
        listening = self._startup(bridge.start(deferred=True), "bridge")
        callbacks = self._callbacks = asyncio.ensure_future(self._mpv_call(self._subscribe_mpv))
        playback = await self._start_playback()
        self._mark("playback")
        self.playback = playback
        self.telemetry.session_id = playback.session_id
        resume_s = 0.0 if self.config.start_over else playback.resume_position_s
        if playback.duration_s and resume_s >= playback.duration_s - 1.0:
            resume_s = 0.0
        self.position_s = self._resume_s = resume_s
        keys = KeyCache(self._keys or (self.cp.streaming_key if self.cp is not None
                                       else self._fetch_key))
        key: asyncio.Future[bytes] | None = None
        announced = playback.segment_durations_s
        segment_s = playback.segment_duration_s or (max(announced) if announced else 0.0)
        loadfile: asyncio.Future[None] | None = None
        if announced:
            # The title's timeline is known: mpv's playlist is served from it at once and mpv
            # opens the bridge now, while the engine reads the start rung's media playlist and
            # fetches the key and the first segment (the bridge holds mpv's segment request).
            served.announce(announced)
            bridge.timeline_ready()
            self._starts = _starts(announced)
            start_index = max(0, bisect.bisect_right(self._starts, resume_s) - 1)
            loadfile = self._startup(self._load_mpv(listening, callbacks), "loadfile")
        else:
            # mpv can get nothing before the scheduler's timeline: it waits for the key too
            # (a refused key or a bad manifest then fails before mpv is touched).
            start_index = int(resume_s // segment_s) if segment_s > 0 else 0
            if playback.license_url:  # else each EXT-X-KEY URI, when its segment is fetched
                key = self._startup(keys.get(playback.license_url), "key")
        try:
            if playback.multivariant_playlist is not None:  # inline: parse it now
                mv = parse_multivariant(playback.multivariant_playlist, playback.manifest_url)
                self._mark("multivariant")
            else:
                if playback.pathways and self.config.warm_edge:
                    self._spawn(self._warm(http, playback.pathways[0][1]), "warm")
                mv = await self._startup(self._fetch_multivariant(playback.manifest_url),
                                         "multivariant")
            self.multivariant = mv
            if loadfile is None:
                loadfile = self._startup(self._load_mpv(listening, callbacks, key), "loadfile")
            pool = EdgePool.from_multivariant(mv, http, config=self.config.edges,
                                              clock=self._clock)
            if mv.default_pathway != mv.pathways[0].id:  # until steering answers (HLS §7.2)
                pool.apply_steering([mv.default_pathway])
            self.pool = pool
            steering_uri = mv.steering_uri or playback.steering_url
            if steering_uri:  # its first reload waits for the first frame (play())
                self.steering = SteeringClient(steering_uri, self._fetch_json,
                                               clock=self._clock)
            if self.config.max_rung is not None:
                self.policy.max_rung = self.config.max_rung
            fetcher = SegmentFetcher(
                http, pool, mv, Decryptor(keys), self.policy,
                refresh_urls=self._refresh_urls,
                reload_steering=self._steering_hook if self.steering else None,
                reload_manifest=self._reload_manifest, config=self.config.fetch,
                clock=self._clock)
            fetcher.on_stage = self._on_fetch_stage
            # the policy owns the first-segment rule (blind_start_rung); the scheduler's cap only
            # keeps the read-ahead before the first frame at the start rung (the hold)
            blind = self._own_policy and self.config.initial_estimate_bps is None
            scheduler = Scheduler(fetcher, self.policy, config=self.config.scheduler,
                                  start_index=start_index, on_event=self._on_scheduler_event,
                                  clock=self._clock,
                                  first_max_rung=self.config.start_max_rung if blind else None,
                                  hold_until_released=self.config.hold_readahead_until_first_frame)
            self.scheduler = scheduler
            self._start_index, self._start_resume_s = start_index, resume_s
            timeline = self._startup(self._start_scheduler(scheduler, segment_s, announced),
                                     "timeline")
            if key is None and playback.license_url:  # after the timeline's request
                key = self._startup(keys.get(playback.license_url), "key")
            if key is not None:
                await key
            await timeline
        except BaseException as exc:
            served.fail(exc)
            bridge.abort(ConnectionAbortedError("start-up failed"))
            if loadfile is not None:
                await asyncio.wait({loadfile})
            raise
        self._emit_session_start()
        await loadfile

    async def _start_scheduler(self, scheduler: Scheduler, segment_s: float,
                               announced: Sequence[float] | None) -> None:
        """The scheduler reads its timeline (checked against the announced one) and starts;
        mpv's held segment request goes to it at once."""
        try:
            await scheduler.start(segment_duration_s=segment_s or None,
                                  expected_durations_s=announced)
        except NoEdgeError as exc:
            # A plain URL's one origin served a playlist the engine cannot play (live, fMP4,
            # SAMPLE-AES): that is the manifest's fault, not the server's.
            causes = set(exc.failures.values())
            cause = next(iter(causes), "")
            if self.cp is None and len(causes) == 1 and cause.startswith("playlist: "):
                raise ManifestError(cause.removeprefix("playlist: ")) from exc
            raise
        assert self._served is not None and self.bridge is not None
        self._starts = _starts(scheduler.segment_durations_s)
        self._served.attach(scheduler)
        if not announced:
            self.bridge.timeline_ready()

    async def _warm(self, http: httpx.AsyncClient, edge_url: str) -> None:
        """Open the keep-alive connection to the edge the first segment comes from while the
        control plane answers (a failure here is harmless: the fetch will find it)."""
        with contextlib.suppress(httpx.HTTPError, TimeoutError):
            async with asyncio.timeout(self.config.edges.health_timeout_s):
                await http.get(edge_url.rstrip("/") + "/health")
        self._mark("warm")

    def _startup(self, coro: Awaitable[T], stage: str) -> asyncio.Future[T]:
        """A start-up step running concurrently; its stage is marked when it succeeds."""
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)

        def done(t: asyncio.Future[T]) -> None:
            self._tasks.discard(t)
            if not t.cancelled() and t.exception() is None:
                self._mark(stage)
        task.add_done_callback(done)
        return task

    def _start_steering(self, steering: SteeringClient, pool: EdgePool) -> None:
        self._last_steering_s = self._clock()
        self._steering_start = self._spawn(self._initial_steering(steering, pool),
                                           "steering-start")

    async def _initial_steering(self, steering: SteeringClient, pool: EdgePool) -> None:
        """The first steering reload, right after the first frame (the timeline and the first
        segment come from the default pathway until it answers, or if it fails)."""
        try:
            manifest = await steering.reload(None, self.policy.estimate_bps)
        except (PlayerError, httpx.HTTPError) as exc:
            log.info("steering at start failed (%s): the default pathway leads", exc)
            return
        pool.apply_steering(manifest.pathway_priority)
        self.telemetry.emit("steering", priority=list(manifest.pathway_priority),
                            reason="start")
        self._mark("steering")

    def _subscribe_mpv(self) -> None:
        """Register mpv's callbacks (on the mpv thread, before anything is loaded)."""
        assert self._loop is not None
        loop = self._loop

        def on_event(event: MpvEvent) -> None:
            with contextlib.suppress(RuntimeError):  # the loop is gone: nothing to tell
                loop.call_soon_threadsafe(self._on_mpv_event, event)

        def on_time(_name: str, value: Any) -> None:
            if isinstance(value, int | float):
                with contextlib.suppress(RuntimeError):
                    loop.call_soon_threadsafe(self._on_time, float(value))

        self._unsubscribe.append(self.mpv.on_event(on_event))
        self._unsubscribe.append(self.mpv.observe("time-pos", on_time))

    async def _load_mpv(self, listening: Awaitable[str], callbacks: Awaitable[None],
                        key: Awaitable[bytes] | None = None) -> None:
        """``start`` and ``loadfile`` of the bridge URL, in one trip to the mpv thread, once
        the bridge listens, mpv's callbacks are registered (and the key is good, if given)."""
        url = await listening
        await callbacks
        if key is not None:
            await key
        start = f"{self._resume_s:.3f}" if self._resume_s > 0 else "none"

        def load() -> None:
            self.mpv.set("start", start)
            self.mpv.play(url)

        self._loadfile_sent = True
        await self._mpv_call(load)

    async def _wait_first_frame(self) -> None:
        assert self._first_frame is not None
        try:
            async with asyncio.timeout(self.config.first_frame_timeout_s):
                await asyncio.shield(self._first_frame)
        except TimeoutError:
            raise PlayerError(f"Playback did not start within "
                              f"{self.config.first_frame_timeout_s:.0f} s.",
                              code="playback") from None

    def _emit_session_start(self) -> None:
        """``session_start``, once: before the scheduler's first event, else after start-up."""
        if self._session_started or self.scheduler is None or self.pool is None:
            return
        self._session_started = True
        playlists = self.scheduler.fetcher.playlists
        self.telemetry.emit("session_start", start_index=self._start_index,
                            resume_position_s=self._start_resume_s,
                            renditions=list(playlists.ladder),
                            bitrates_bps=list(playlists.bitrates_bps),
                            edges=[s.name for s in self.pool.ordered()])

    def _on_fetch_stage(self, stage: str, index: int) -> None:
        if index == self._start_index:
            self._mark(stage)

    def _on_served(self, what: str, status: int) -> None:
        if what == "media.m3u8":
            self._mark("mpv_playlist")
        elif what.startswith("seg/") and status < 300:
            self._mark("seg_served")

    def _mark(self, stage: str) -> None:
        if stage not in self.startup_ms:
            ms = round((self._clock() - self._t0) * 1000, 1)
            self.startup_ms[stage] = ms
            log.debug("start-up: %s at %.1f ms", stage, ms)

    async def _start_playback(self) -> Playback:
        """``POST /v1/playback``, or the plain URL's stand-in."""
        if isinstance(self._prepared, Playback):
            return self._prepared
        if self._prepared is not None:
            return await self._prepared()
        if self.cp is not None:
            return await self.cp.start_playback(self.title_id, self.profile_id)
        assert self.url is not None
        return Playback.plain(self.url, session_id=f"local-{uuid.uuid4().hex[:12]}")

    async def _fetch_multivariant(self, url: str) -> Multivariant:
        text = await self._fetch_text(url)
        if self.cp is None and _is_media_playlist(text):  # a bare media playlist URL
            return Multivariant.single(url)
        return parse_multivariant(text, url)

    async def _get(self, url: str, what: str) -> httpx.Response:
        """GET ``url`` with the session's client, no bearer token (the plain URL's path)."""
        assert self._http is not None
        try:
            response = await self._http.get(url)
        except httpx.HTTPError as exc:
            raise ManifestError(f"The {what} could not be fetched from {url} "
                                f"({type(exc).__name__}).") from exc
        if response.status_code >= 400:
            raise ManifestError(f"The {what} at {url} answered HTTP {response.status_code}.")
        return response

    async def _fetch_text(self, url: str) -> str:
        if self.cp is not None:
            return await self.cp.fetch_text(url)
        response = await self._get(url, "playlist")
        if not looks_like_playlist(response.content):  # say what it is, from its bytes
            raise ManifestError(f"{url} is not an HLS playlist: the server sent "
                                f"{describe_body(response.content)}.")
        return response.text

    async def _fetch_json(self, url: str) -> Any:
        if self.cp is not None:
            return await self.cp.fetch_json(url)
        response = await self._get(url, "steering manifest")
        try:
            return response.json()
        except ValueError as exc:
            raise ManifestError(f"The steering manifest at {url} is not JSON.") from exc

    async def _fetch_key(self, url: str) -> bytes:
        """The key at an EXT-X-KEY URI (plain URL: no license server, no bearer token)."""
        try:
            return (await self._get(url, "decryption key")).content
        except ManifestError as exc:
            raise LicenseError(exc.message) from exc

    # --- hooks for the fetcher -----------------------------------------------------------------

    async def _refresh_urls(self) -> Multivariant:
        assert self.playback is not None
        try:
            mv = await self._fetch_multivariant(self.playback.manifest_url)
        except NotFoundError as exc:
            if exc.server_code != "unknown_session":
                raise
            raise PlayerError("The playback session ended on the server (it expired or was "
                              "closed); start playback again.", code="session_ended",
                              server_code=exc.server_code, status=exc.status,
                              request=exc.request) from exc
        self.multivariant = mv
        return mv

    async def _steering_hook(self) -> Sequence[str] | None:
        return await self._reload_steering("failover")

    async def _reload_steering(self, reason: str) -> tuple[str, ...] | None:
        if self.steering is None or self.pool is None:
            return None
        self._last_steering_s = self._clock()
        edge = None
        with contextlib.suppress(PlayerError):
            edge = self.pool.best().name if reason != "start" else None
        manifest = await self.steering.reload(edge, self.policy.estimate_bps)
        self.pool.apply_steering(manifest.pathway_priority)
        self.telemetry.emit("steering", priority=list(manifest.pathway_priority), reason=reason)
        return manifest.pathway_priority

    async def _reload_manifest(self) -> Multivariant:
        if self.cp is None:  # no control plane: the same URL again
            return await self._refresh_urls()
        playback = await self.cp.start_playback(self.title_id, self.profile_id)
        self.playback = playback
        mv = await self._fetch_multivariant(playback.manifest_url)
        self.multivariant = mv
        if mv.steering_uri:
            self.steering = SteeringClient(mv.steering_uri, self._fetch_json,
                                           clock=self._clock)
        log.info("playback manifest reloaded: session %s", playback.session_id)
        return mv

    async def _steering_loop(self) -> None:
        if self._steering_start is not None:  # the start-up reload may still be under way
            await asyncio.wait({self._steering_start})
        while self.steering is not None and not self._stopping:
            steering, pool = self.steering, self.pool
            wait = steering.seconds_until_reload()
            if wait is None or pool is None:
                return
            await asyncio.sleep(min(max(wait, 0.05), self.config.steering_check_s))
            reason = None
            if steering.reload_due():
                reason = "ttl"
            elif pool.degraded and (self._clock() - self._last_steering_s
                                    >= self.config.degraded_reload_min_s):
                reason = "degraded"
            if reason is not None:
                try:
                    await self._reload_steering(reason)
                except (PlayerError, httpx.HTTPError) as exc:
                    log.info("steering reload (%s) failed: %s", reason, exc)

    async def _progress_loop(self, interval_s: float) -> None:
        while not self._stopping:
            await asyncio.sleep(interval_s)
            if not self.paused:
                await self._save_progress()

    async def _save_progress(self, event: str = "periodic") -> None:
        playback = self.playback
        if playback is None or self.position_s <= 0:
            return
        if self.progress is not None:  # the outbox (player/sync) sends it, now or later
            self.progress.report(self.position_s, self.duration_s or None, event)
            return
        if self.cp is None:  # a plain URL: no control plane to tell
            return
        try:
            async with asyncio.timeout(2.0):
                await self.cp.put_progress(
                    self.profile_id, self.title_id, position_s=round(self.position_s, 3),
                    duration_s=playback.duration_s or None,
                    event_time_ms=int(time.time() * 1000))
        except (PlayerError, httpx.HTTPError, TimeoutError) as exc:
            log.info("progress not saved: %s", exc)

    # --- events --------------------------------------------------------------------------------

    def _on_scheduler_event(self, event: dict[str, Any]) -> None:
        self._emit_session_start()
        kind = event.get("type")
        if kind == "rendition_switch":
            to = int(event["to"])
            bitrates = self.scheduler.fetcher.playlists.bitrates_bps if self.scheduler else ()
            self.telemetry.emit("rendition_switch", index=event.get("index"),
                                **{"from": event.get("from"), "to": to},
                                rendition=event.get("rendition"),
                                bitrate_bps=bitrates[to] if to < len(bitrates) else None,
                                reason=event.get("reason"))
        elif kind == "failover":
            self.telemetry.emit(
                "failover", index=event.get("index"), cause=event.get("cause"),
                edge_from=event.get("from"), edge_to=event.get("to"),
                detection_ms=round(float(event.get("detection_s", 0.0)) * 1000, 1),
                resume_from_byte=event.get("resume_from_byte"), detail=event.get("detail"))
        elif kind in ("rebuffer_start", "rebuffer_end"):
            cause = ("startup" if not self._playing else "seek" if self._seeking else "stall")
            fields: dict[str, Any] = {"index": event.get("index"), "cause": cause}
            if kind == "rebuffer_end":
                fields["waited_ms"] = round(float(event.get("waited_s", 0.0)) * 1000, 1)
            self.telemetry.emit(kind, **fields)
        elif kind == "abandon":
            self.telemetry.emit("abandon", index=event.get("index"), rung=event.get("rung"),
                                lower=event.get("lower"), edge=event.get("edge"))
        elif kind == "error":
            self.telemetry.emit("error", code=event.get("code"), message=event.get("message"))
        else:
            log.debug("scheduler: %s", event)

    def _on_bridge_error(self, exc: BaseException) -> None:
        error = self._typed(exc)
        log.warning("stream ended in error: %s", error)
        if self.error is None:
            self.error = error
        if not self._closed:
            self._spawn(self._mpv_call(self.mpv.command, "stop"), "mpv-stop")

    def _on_mpv_event(self, event: MpvEvent) -> None:
        if event.name == "start-file":
            self._file_started = True
        elif event.name == "playback-restart":
            self._seeking = False
            if self._first_frame is not None and not self._first_frame.done():
                self._playing = True
                self._first_frame.set_result(None)
        elif event.name == "end-file" and self._file_started:
            if event.reason == "eof" and self.error is None:
                self._finish("eof")
            elif event.reason == "error" or self.error is not None:
                error = self.error or PlayerError(
                    f"The video could not be played ({event.error or 'decoder error'}).",
                    code="playback")
                self._finish("error", error)
            else:
                self._finish("stopped")
        elif event.name == "shutdown":
            self._finish("stopped" if self.error is None else "error", self.error)

    def _on_time(self, position_s: float) -> None:
        delta = position_s - self.position_s
        self.position_s = position_s
        if not self._playing or self._seeking or not 0 < delta <= 2.0 or not self._starts:
            return
        index = max(0, bisect.bisect_right(self._starts, position_s) - 1)
        rung = self._rung_at(index)
        self.played_s += delta
        self._played_by_rung[rung] = self._played_by_rung.get(rung, 0.0) + delta

    def _rung_at(self, index: int) -> int:
        """The rung position ``index`` was served at (else buffered at, else the current one)."""
        if self._served is not None and index in self._served.rungs:
            return self._served.rungs[index]
        scheduler = self.scheduler
        buffered = scheduler.buffer.get(index) if scheduler is not None else None
        if buffered is not None:
            return buffered.rung
        rung = scheduler.rung if scheduler is not None else None
        return -1 if rung is None else rung

    def _finish(self, reason: str, error: PlayerError | None = None) -> None:
        if self._done is None or self._done.done():
            return
        if error is not None:
            self.error = error
            if not any(e["type"] == "error" for e in self.telemetry.events):
                self.telemetry.emit("error", code=error.code, message=error.message)
        if self._first_frame is not None and not self._first_frame.done():
            self._first_frame.set_exception(error or PlayerError(
                "Playback ended before the first frame.", code="playback"))
            self._first_frame.exception()  # retrieved: no warning if nobody waits
        log.info("session ended: %s", reason)
        self._done.set_result(reason)

    def _typed(self, exc: BaseException) -> PlayerError:
        """The error to show: the scheduler's typed cause beats mpv's or the bridge's view."""
        scheduler_error = self.scheduler.error if self.scheduler else None
        for candidate in (scheduler_error, exc.__cause__ if isinstance(
                exc, SegmentSourceError) else None, exc):
            if isinstance(candidate, PlayerError):
                return candidate
        if isinstance(exc, httpx.HTTPError):
            return PlayerError(f"A network error stopped playback ({type(exc).__name__}).",
                               code="network")
        return PlayerError(f"Playback failed: {type(exc).__name__}: {exc}", code="playback")

    # --- controls ------------------------------------------------------------------------------

    @property
    def ended(self) -> bool:
        return self._done is not None and self._done.done()

    @property
    def duration_s(self) -> float:
        if self.scheduler is not None and self.scheduler.segment_count:
            return float(sum(self.scheduler.segment_durations_s))
        return self.playback.duration_s if self.playback else 0.0

    @property
    def max_rung(self) -> int | None:
        return self.policy.max_rung

    @max_rung.setter
    def max_rung(self, rung: int | None) -> None:
        if self.scheduler is not None:
            self.scheduler.max_rung = rung
        else:
            self.policy.max_rung = rung

    async def pause(self) -> None:
        if self.paused:
            return
        self.paused = True
        if self.scheduler:
            self.scheduler.pause()
        await self._mpv_call(self.mpv.set, "pause", True)
        self.telemetry.emit("pause", position_s=round(self.position_s, 3))
        await self._save_progress("pause")

    async def resume(self) -> None:
        if not self.paused:
            return
        self.paused = False
        if self.scheduler:
            self.scheduler.resume()
        await self._mpv_call(self.mpv.set, "pause", False)
        self.telemetry.emit("resume", position_s=round(self.position_s, 3))

    async def seek(self, position_s: float) -> None:
        """Exact seek to ``position_s`` (clamped to the title); the scheduler follows mpv."""
        target = max(0.0, min(position_s, max(0.0, self.duration_s - 0.1)))
        self.telemetry.emit("seek", from_s=round(self.position_s, 3), to_s=round(target, 3))
        self._seeking = True
        self.position_s = target
        await self._mpv_call(self.mpv.seek, target, exact=True)
        self._spawn(self._save_progress("seek"), "progress")

    @property
    def audio_languages(self) -> list[str]:
        """Audio languages in the order they are muxed (the playback answer's ``audio``)."""
        raw = self.playback.raw.get("audio") if self.playback else None
        return [str(a.get("language")) for a in raw or () if isinstance(a, dict)]

    async def set_audio(self, language: str) -> None:
        """Switch the audio track to ``language`` (``"en"``; mpv ``aid``, no new download)."""
        languages = self.audio_languages
        if language not in languages:
            raise ValueError(f"no audio track in {language!r} (have {languages})")
        position = languages.index(language)
        tracks = await self._mpv_call(self.mpv.get, "track-list") or []
        audio = [t for t in tracks if isinstance(t, dict) and t.get("type") == "audio"]
        aid = audio[position]["id"] if position < len(audio) else position + 1
        await self._mpv_call(self.mpv.set, "aid", aid)
        self.telemetry.emit("audio", language=language, aid=aid)

    @property
    def subtitle_languages(self) -> list[str]:
        raw = self.playback.raw.get("subtitles") if self.playback else None
        return [str(s.get("language")) for s in raw or () if isinstance(s, dict)]

    async def set_subtitles(self, language: str | None) -> None:
        """Show subtitles in ``language`` (None: off). The WebVTT comes from the edges (best
        first) and goes to mpv from memory."""
        if language is None:
            await self._mpv_call(self.mpv.set, "sid", "no")
            self.telemetry.emit("subtitles", language=None)
            return
        text = await self.fetch_subtitles(language)
        # The bridge's playlist is opened with demuxer-lavf-format=hls, a per-file option that
        # applies to an added subtitle too; the main stream is open already: say it is WebVTT.
        await self._mpv_call(self.mpv.set, "demuxer-lavf-format", "webvtt")
        await self._mpv_call(self.mpv.command, "sub-add", "memory://" + text, "select",
                             language, language)
        self.telemetry.emit("subtitles", language=language, bytes=len(text))

    async def fetch_subtitles(self, language: str) -> str:
        """The WebVTT text for ``language`` from the best edge that serves it."""
        mv, pool, http = self.multivariant, self.pool, self._http
        if mv is None or pool is None or http is None:
            raise RuntimeError("play() has not run")
        failures: dict[str, str] = {}
        for status in pool.ordered():
            try:
                group = mv.pathway(status.name).variants[0].subtitles_group
            except KeyError:
                continue
            rendition = next((s for s in mv.subtitles.get(group or "", ())
                              if s.language == language and s.uri), None)
            if rendition is None or rendition.uri is None:
                continue
            try:
                playlist = parse_media_playlist(await self._fetch_text(rendition.uri),
                                                rendition.uri)
                parts = []
                for segment in playlist.segments:
                    response = await http.get(segment.uri)
                    response.raise_for_status()
                    parts.append(response.text)
                return "\n".join(parts)
            except (PlayerError, httpx.HTTPError) as exc:
                failures[status.name] = f"{type(exc).__name__}: {exc}"
                pool.report_failure(status.name, f"subtitles: {type(exc).__name__}")
        if not failures:
            raise ManifestError(f"There are no {language!r} subtitles for this title.")
        raise PlayerError(f"The {language!r} subtitles could not be loaded "
                          f"({'; '.join(f'{k}: {v}' for k, v in failures.items())}).",
                          code="subtitles")

    async def wait_ended(self) -> str:
        """Wait for the end: ``"eof"`` or ``"stopped"``; raises the typed error on ``error``."""
        if self._done is None:
            raise RuntimeError("play() has not run")
        reason = await asyncio.shield(self._done)
        if reason == "error" and self.error is not None:
            raise self.error
        return reason

    async def stop(self) -> None:
        """Stop playback (if still going), tear everything down and post the last telemetry.
        Safe to call more than once and after the end."""
        if self._closed:
            return
        self._closed = True
        self._stopping = True
        if self._done is not None and not self._done.done() and self._file_started:
            with contextlib.suppress(Exception):
                await self._mpv_call(self.mpv.command, "stop")
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self.config.stop_timeout_s):
                    await asyncio.shield(self._done)
        if self._done is not None and not self._done.done():
            self._finish("stopped")
        if self._callbacks is not None:  # registered on the mpv thread: let it finish first
            await asyncio.wait({self._callbacks})
            if not self._callbacks.cancelled() and self._callbacks.exception() is not None:
                log.warning("mpv callbacks were not registered: %s", self._callbacks.exception())
        for unsubscribe in self._unsubscribe:
            with contextlib.suppress(Exception):
                unsubscribe()
        self._unsubscribe.clear()
        if self.position_s > 0 and self._playing:
            eof = self._done is not None and self._done.done() and self._done.result() == "eof"
            await self._save_progress("end" if eof else "stop")
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        if self.scheduler is not None:
            await self.scheduler.stop()
        if self.bridge is not None:
            await self.bridge.close()
        self._emit_end()
        await self.telemetry.close()
        if self._own_http and self._http is not None:
            await self._http.aclose()
        # The mpv thread is joined, not abandoned; off the loop, and bounded (a hung libmpv call
        # is logged and left to the process's exit).
        try:
            await asyncio.wait_for(asyncio.to_thread(self._executor.shutdown, True), 10.0)
        except TimeoutError:
            log.warning("an mpv command did not return within 10 s of stop")

    def _emit_end(self) -> None:
        if self._ended_emitted:
            return
        self._ended_emitted = True
        reason = (self._done.result() if self._done is not None and self._done.done()
                  else "stopped")
        bitrates = list(self.scheduler.fetcher.playlists.bitrates_bps) if self.scheduler else []
        self.telemetry.emit(
            "session_end", reason=reason, position_s=round(self.position_s, 3),
            played_s=round(self.played_s, 3), bitrates_bps=bitrates,
            played_by_rung={str(k): round(v, 3) for k, v in self._played_by_rung.items()
                            if k >= 0},
            rebuffers=len(self.scheduler.rebuffers) if self.scheduler else 0,
            segments_by_edge=self._segments_by_edge())

    def _segments_by_edge(self) -> dict[str, int]:
        """Edge → segments it delivered whole (the successful request's edge), in the order
        the edges first delivered: edges that only failed are not in it."""
        counts: dict[str, int] = {}
        for _, _, edge in self.scheduler.fetched if self.scheduler is not None else ():
            counts[edge] = counts.get(edge, 0) + 1
        return counts

    def report(self) -> QoeReport:
        """The QoE report from the events so far (complete after :meth:`stop`)."""
        return QoeReport.from_events(self.telemetry.events)

    # --- plumbing ------------------------------------------------------------------------------

    async def _mpv_call(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run a (synchronous, possibly blocking) mpv call on the session's mpv thread."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, lambda: fn(*args, **kwargs))

    def _spawn(self, coro: Coroutine[Any, Any, T], name: str) -> asyncio.Task[T]:
        """A background task owned by the session: stop() cancels and awaits it; a failure is
        retrieved and logged when it happens (never "Task exception was never retrieved")."""
        task = asyncio.ensure_future(coro)
        task.set_name(name)
        self._tasks.add(task)

        def done(t: asyncio.Task[Any]) -> None:
            self._tasks.discard(t)
            if not t.cancelled() and t.exception() is not None:
                log.warning("%s task failed: %s", name, t.exception())
        task.add_done_callback(done)
        return task

