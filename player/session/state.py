"""The state of a :class:`~player.session.PlaybackSession` and its shared plumbing."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections.abc import Awaitable, Callable, Coroutine
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from typing import Any, TypeVar

import httpx

from abr.hysteresis import HysteresisPolicy
from abr.interface import AbrPolicy
from player.api import ControlPlaneClient
from player.api.models import Playback
from player.audio import AudioRoutes
from player.bounded import BoundedResponse, check_segment_count, get_bounded
from player.bridge import LoopbackBridge
from player.dash import index_fetcher, load_mpd, looks_like_mpd
from player.edgepool import EdgePool
from player.errors import LicenseError, ManifestError, PlayerError
from player.manifest import parse_multivariant
from player.mpv_seam import MpvLike
from player.prefetched import PrefetchedStart, ReplayTransport
from player.presentation import Multivariant
from player.scheduler import Scheduler
from player.segments import SegmentSourceError
from player.session.config import SessionConfig
from player.session.served import _Served
from player.sniff import describe_body, looks_like_playlist
from player.steering import SteeringClient
from player.sync.reporter import ProgressSink
from player.telemetry import Telemetry

log = logging.getLogger("player.session")

T = TypeVar("T")


def _is_media_playlist(text: str) -> bool:
    return any(line.startswith(("#EXTINF", "#EXT-X-TARGETDURATION"))
               for line in text.splitlines())


class SessionState:
    """A session's state and the plumbing every part of it shares: the mpv command thread,
    the tasks it owns, the start-up marks, the HTTP fetches (playlists, steering, keys), the
    end (``_finish``) and the typed error. :class:`~player.session.PlaybackSession` is built
    on it (docs/engine.md, *Session*)."""

    def __init__(self, cp: ControlPlaneClient | None, title_id: str, profile_id: str,
                 mpv: MpvLike, *,
                 config: SessionConfig | None = None, http: httpx.AsyncClient | None = None,
                 policy: AbrPolicy | None = None,
                 clock: Callable[[], float] = time.monotonic,
                 progress: ProgressSink | None = None, url: str | None = None,
                 playback: (Playback | Callable[[], Awaitable[Playback]] | PrefetchedStart
                            | None) = None,
                 keys: Callable[[str], Awaitable[bytes]] | None = None) -> None:
        if isinstance(playback, Playback) and url is None:
            url = playback.manifest_url
        self.prefetched: PrefetchedStart | None = None
        """A start fetched ahead (:mod:`player.prefetch`): adopted at play() when it is for
        this title (or URL) and fresh, else dropped for a cold start."""
        self._replay: ReplayTransport | None = None
        """The adopted prefetch's answers (what was served from it: ``replayed``)."""
        if isinstance(playback, PrefetchedStart):
            self.prefetched, playback = playback, None
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
        self.manifest_format = "hls"
        """``dash`` once the manifest read was an MPD, else ``hls`` (telemetry, stats)."""
        self.pool: EdgePool | None = None
        self.steering: SteeringClient | None = None
        self.scheduler: Scheduler | None = None
        self.bridge: LoopbackBridge | None = None
        self._served: _Served | None = None
        self._audio: AudioRoutes | None = None
        self._audio_urls: list[str] = []
        """The bridge URLs of the separate audio renditions (mpv loads the first; set_audio
        adds another with ``audio-add`` the first time it is picked)."""
        """The separate audio renditions served to mpv (None: the audio is muxed)."""
        self._loop: asyncio.AbstractEventLoop | None = None
        self._executor = ThreadPoolExecutor(1, thread_name_prefix="mpv-cmd")
        self._unsubscribe: list[Callable[[], None]] = []
        self._tasks: set[asyncio.Task[Any]] = set()
        self._done: asyncio.Future[str] | None = None
        self._first_frame: asyncio.Future[None] | None = None
        self._file_started = False
        self._playing = False
        self._seeking = False
        self._jumping = False
        """mpv announced a seek (``seek`` event) and has not restarted playback yet."""
        self._speed = 1.0
        """mpv's ``speed``, as last reported."""
        self._time_wall = time.monotonic()
        """When the last ``time-pos`` arrived (monotonic)."""
        self._rebuffer_causes: dict[int, str] = {}
        """The cause of each wait under way, by segment index, as it was when the wait began
        (a wait that began before the first frame is start-up, however long it lasts)."""
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

    @property
    def ended(self) -> bool:
        return self._done is not None and self._done.done()

    @property
    def duration_s(self) -> float:
        if self.scheduler is not None and self.scheduler.segment_count:
            return float(sum(self.scheduler.segment_durations_s))
        return self.playback.duration_s if self.playback else 0.0

    def _mark(self, stage: str) -> None:
        if stage not in self.startup_ms:
            ms = round((self._clock() - self._t0) * 1000, 1)
            self.startup_ms[stage] = ms
            log.debug("start-up: %s at %.1f ms", stage, ms)

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

    def _on_bridge_error(self, exc: BaseException) -> None:
        error = self._typed(exc)
        log.warning("stream ended in error: %s", error)
        if self.error is None:
            self.error = error
        if self._closed:
            return
        if self._playing:
            self._spawn(self._play_out_then_stop(), "mpv-stop")
        else:
            self._spawn(self._mpv_call(self.mpv.command, "stop"), "mpv-stop")

    async def _play_out_then_stop(self) -> None:
        """The stream died mid-play: the bridge answers every later position with 503, so
        ffmpeg skips to the end and mpv plays out what it already holds (its read-ahead, the
        rest of the segment under way) and ends by itself (``eof`` with the error set, which
        ends the session in ``error``). Stopped after ``error_play_out_s`` if it has not ended
        (paused, or thousands of positions to skip)."""
        assert self._done is not None
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(self.config.error_play_out_s):
                await asyncio.shield(self._done)
        if not self._done.done() and not self._closed:
            await self._mpv_call(self.mpv.command, "stop")

    async def _start_playback(self) -> Playback:
        """``POST /v1/playback``, or the plain URL's stand-in (or the adopted prefetch's)."""
        if self._replay is not None and self.prefetched is not None:
            return self.prefetched.playback
        if isinstance(self._prepared, Playback):
            return self._prepared
        if self._prepared is not None:
            return await self._prepared()
        if self.cp is not None:
            return await self.cp.start_playback(self.title_id, self.profile_id,
                                              self.config.stream_format)
        assert self.url is not None
        return Playback.plain(self.url, session_id=f"local-{uuid.uuid4().hex[:12]}")

    def _adopt_prefetched(self) -> httpx.AsyncBaseTransport | None:
        """The prefetch's transport when it may be adopted (the session's client is its own),
        else None (a stale or foreign prefetch is dropped: a cold start, not an error)."""
        prefetched = self.prefetched
        if prefetched is None:
            return None
        why = prefetched.usable_for(self.title_id, self.profile_id,
                                    self.url if self.cp is None else None)
        if why is None and self._http is not None:
            why = "the session was given its own HTTP client"
        if why is not None:
            log.info("prefetch not used (cold start): %s", why)
            self._spawn(prefetched.aclose(), "prefetch-drop")
            return None
        self._replay = prefetched.adopt()
        self._mark("prefetched")
        return self._replay

    async def _fetch_multivariant(self, url: str) -> Multivariant:
        """The manifest at ``url`` as the one model: HLS or DASH, decided by content (the
        only place that decides; docs/engine.md, *DASH*)."""
        if self.cp is not None:
            return await self._manifest_of(await self.cp.fetch_text(url), url)
        # A URL typed or pasted by a user may redirect (http → https, a short link): what it
        # names resolves against where the manifest really is.
        response = await self._get(url, "manifest", follow_redirects=True)
        base = response.url or url
        if looks_like_mpd(response.content, response.headers.get("Content-Type")):
            return await self._load_dash(response.content, base)
        text = self._playlist_text(response, url)
        if _is_media_playlist(text):  # a bare media playlist URL
            return Multivariant.single(base)
        return parse_multivariant(text, base)

    def _prefetched_multivariant(self, playback: Playback) -> Multivariant | None:
        """The adopted prefetch's reading of this answer's manifest (a control-plane title's:
        the same text, read the same way), else None: read it here."""
        prefetched = self.prefetched if self._replay is not None else None
        if (prefetched is None or prefetched.multivariant is None or self.cp is None
                or playback.multivariant_playlist is None):
            return None
        if looks_like_mpd(playback.multivariant_playlist):
            self.manifest_format = "dash"
        return prefetched.multivariant

    async def _manifest_of(self, text: str, url: str) -> Multivariant:
        """The control plane's manifest (fetched, or inline in the playback answer) as the
        model: HLS or DASH by content."""
        if looks_like_mpd(text):
            return await self._load_dash(text, url)
        return parse_multivariant(text, url)

    async def _load_dash(self, body: str | bytes, url: str) -> Multivariant:
        """A DASH MPD mapped into the model (a SegmentBase's index fetched with the session's
        client, bounded like a playlist)."""
        assert self._http is not None
        limits = self.config.fetch
        fetch = index_fetcher(self._http, max_bytes=limits.max_playlist_bytes,
                              deadline_s=limits.playlist_deadline_s)
        # An encrypted MPD plays when the engine has its keys (CENC in the engine: the init's
        # protection names the KIDs); without them the first segment fails with LicenseError.
        mv = await load_mpd(body, url, fetch, max_segments=limits.max_playlist_segments,
                            allow_protected=True)
        self.manifest_format = "dash"
        log.info("DASH manifest %s: %d pathways, %d video renditions, %d audio", url,
                 len(mv.pathways), len(mv.pathways[0].variants),
                 len(mv.audio_renditions()))
        return mv

    async def _get(self, url: str, what: str, *,
                   follow_redirects: bool = False) -> BoundedResponse:
        """GET ``url`` with the session's client, no bearer token (the plain URL's path); the
        body bounded by the fetch config's playlist limits."""
        assert self._http is not None
        limits = self.config.fetch
        try:
            response = await get_bounded(self._http, url, max_bytes=limits.max_playlist_bytes,
                                         deadline_s=limits.playlist_deadline_s, what=what,
                                         follow_redirects=follow_redirects)
        except httpx.HTTPError as exc:
            raise ManifestError(f"The {what} could not be fetched from {url} "
                                f"({type(exc).__name__}).") from exc
        except TimeoutError:
            raise ManifestError(f"The {what} at {url} did not answer within "
                                f"{limits.playlist_deadline_s:g} s.") from None
        if response.status_code >= 400:
            raise ManifestError(f"The {what} at {url} answered HTTP {response.status_code}.")
        return response

    async def _fetch_text(self, url: str) -> str:
        if self.cp is not None:
            return await self.cp.fetch_text(url)
        return self._playlist_text(await self._get(url, "playlist"), url)

    def _playlist_text(self, response: BoundedResponse, url: str) -> str:
        if not looks_like_playlist(response.content):  # say what it is, from its bytes
            raise ManifestError(f"{url} is not an HLS playlist or a DASH manifest: the server "
                                f"sent {describe_body(response.content)}.")
        text = response.text
        if _is_media_playlist(text):
            check_segment_count(text, url, self.config.fetch.max_playlist_segments)
        return text

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
