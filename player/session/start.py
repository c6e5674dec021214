"""A session's start-up path: ``POST /v1/playback``, the multivariant playlist, the
scheduler, the key and mpv opening the bridge, up to the first frame."""

from __future__ import annotations

import asyncio
import bisect
import contextlib
import logging
from collections.abc import Awaitable, Sequence
from typing import Any

import httpx

from player.bridge import LoopbackBridge
from player.decrypt import Decryptor, KeyCache
from player.edgepool import EdgePool
from player.errors import ManifestError, NoEdgeError, PlayerError
from player.fetcher import SegmentFetcher
from player.keysource import CencKeys, Post, licence_poster
from player.scheduler import Scheduler
from player.session.config import tls_context
from player.session.mpv import SessionMpv
from player.session.served import _Served, _starts
from player.steering import SteeringClient

log = logging.getLogger("player.session")


class SessionStart(SessionMpv):
    """The start-up path behind ``play()``, ordered for the time to first frame
    (docs/engine.md, *Session*), and the scheduler's events as telemetry."""

    async def _open(self) -> None:
        """The start-up path, ordered by what the first frame waits for (docs/engine.md,
        *Session*): the bridge listens and mpv's callbacks are registered while
        ``POST /v1/playback`` is under way → the multivariant playlist is parsed (inline in
        the answer, fetched, or adopted from a prefetch) and its separate audio renditions
        mounted → with an announced timeline (or a prefetched start), mpv's playlist is
        served from it and mpv is loaded before anything else runs; the scheduler then reads
        the start rung's media playlist (which must match the announced timeline) and fetches
        the first segment, and the key and licence are fetched, while mpv opens the bridge
        (its segment request is held until the scheduler has its timeline). Without one: key
        and multivariant playlist first, mpv once both are good, the bridge's playlist once
        the scheduler's timeline is read. Steering and probes wait for the first frame."""
        assert self._loop is not None
        transport = self._adopt_prefetched()
        if self._http is None:
            # One client (HTTP/1.1 keep-alive, a pool per edge) for the whole session; an
            # adopted prefetch's answers and warm connections behind it.
            self._http = httpx.AsyncClient(timeout=httpx.Timeout(10.0, connect=3.0),
                                           headers={"User-Agent": "Edgeplay/0.1"},
                                           verify=tls_context(), transport=transport)
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
        fetch_key = self._keys or (self.cp.streaming_key if self.cp is not None
                                   else self._fetch_key)
        if self._replay is not None and self.prefetched is not None:
            fetch_key = self.prefetched.key_source(fetch_key)
        keys = KeyCache(fetch_key)
        key: asyncio.Future[bytes] | None = None
        announced = playback.segment_durations_s
        segment_s = playback.segment_duration_s or (max(announced) if announced else 0.0)
        loadfile: asyncio.Future[None] | None = None
        loading = self._loop.create_future()
        """Done once mpv's loadfile is on its way to the mpv thread."""
        if announced:
            # The title's timeline is known: mpv's playlist is served from it at once and mpv
            # opens the bridge now, while the engine reads the start rung's media playlist and
            # fetches the key and the first segment (the bridge holds mpv's segment request).
            container = playback.raw.get("segment_container")
            served.announce(announced, container if container in ("ts", "fmp4") else "ts")
            bridge.timeline_ready()
            self._starts = _starts(announced)
            start_index = max(0, bisect.bisect_right(self._starts, resume_s) - 1)
        else:
            # mpv can get nothing before the scheduler's timeline (the bridge holds its playlist
            # request). A key named by the answer is good before mpv is touched; else (a plain
            # URL) mpv's own opening, ~3 ms before its first request, overlaps the engine's
            # reading of the manifest, and the separate audio renditions are given to mpv
            # (audio-files, read once the bridge's playlist is open) before the timeline.
            start_index = int(resume_s // segment_s) if segment_s > 0 else 0
            if playback.license_url and playback.drm != "clearkey":  # else per EXT-X-KEY
                key = self._startup(keys.get(playback.license_url), "key")
            elif self._replay is None:
                loadfile = self._startup(self._load_mpv(listening, callbacks, None, loading),
                                         "loadfile")
        try:
            adopted = self._prefetched_multivariant(playback)
            if adopted is not None:  # read by the prefetch, from this very answer
                mv = adopted
                self._mark("multivariant")
            elif playback.multivariant_playlist is not None:  # inline: parse it now
                mv = await self._manifest_of(playback.multivariant_playlist,
                                             playback.manifest_url)
                self._mark("multivariant")
            else:
                if playback.pathways and self.config.warm_edge and self._replay is None:
                    self._spawn(self._warm(http, playback.pathways[0][1]), "warm")
                mv = await self._startup(self._fetch_multivariant(playback.manifest_url),
                                         "multivariant")
            self.multivariant = mv
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
            cenc = CencKeys(dict(self.config.clear_keys), self._licence_post(http))
            fetcher = SegmentFetcher(
                http, pool, mv,
                Decryptor(keys, cenc, verifier=self._verify_key_with_audio,
                          licence_url=mv.licence_url),
                self.policy,
                refresh_urls=self._refresh_urls,
                reload_steering=self._steering_hook if self.steering else None,
                reload_manifest=self._reload_manifest, config=self.config.fetch,
                clock=self._clock)
            fetcher.on_stage = self._on_fetch_stage
            # mpv's audio-files are the separate audio renditions: mounted before mpv loads.
            self._mount_audio(mv, fetcher, bridge)
            if loadfile is not None:  # loaded before the manifest was read
                if self._audio is not None:
                    await asyncio.wait({loading, loadfile}, return_when=asyncio.FIRST_COMPLETED)
                    await self._mpv_call(self._set_audio_files, bridge.url)
            else:
                loadfile = self._startup(self._load_mpv(listening, callbacks, key, loading),
                                         "loadfile")
            if announced or self._replay is not None:
                # mpv first: its own opening (~15 ms to a frame on loopback) then overlaps the
                # engine's reading of the timeline and first segment (a few ms of this loop's
                # time when prefetched) instead of queueing behind them. (A prefetched start
                # has had its manifest and key checked already.)
                await asyncio.wait({loading, loadfile}, return_when=asyncio.FIRST_COMPLETED)
            kids = _key_ids(playback.raw.get("key_ids")) if playback.drm == "clearkey" else ()
            if kids:  # the licence alongside the first fragment's fetch (its request joins it)
                self._spawn(cenc.get(kids, playback.license_url), "licence")
            audio_started = self._start_audio()
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
            if key is None and playback.license_url and playback.drm != "clearkey":
                key = self._startup(keys.get(playback.license_url), "key")
            if key is not None:
                await key
            for started in audio_started:
                await started
            await timeline
        except BaseException as exc:
            served.fail(exc)
            bridge.abort(ConnectionAbortedError("start-up failed"))
            if loadfile is not None:
                await asyncio.wait({loadfile})
            raise
        self._emit_session_start()
        await loadfile

    def _licence_post(self, http: httpx.AsyncClient) -> Post:
        """ClearKey licence requests: the control plane's endpoint with the bearer token
        (refreshed as needed), any other licence server without it."""
        plain = licence_poster(http)
        cp = self.cp
        if cp is None:
            return plain

        async def post(url: str, body: bytes) -> bytes:
            if cp.owns(url):
                return await cp.clearkey_licence(url, body)
            return await plain(url, body)

        return post

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
        if announced and scheduler.container != self._served.announced_container:
            raise ManifestError(
                f"The title's segments are {scheduler.container}, but the playback answer "
                f"announced {self._served.announced_container} (segment_container).")
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

    async def _load_mpv(self, listening: Awaitable[str], callbacks: Awaitable[None],
                        key: Awaitable[bytes] | None,
                        loading: asyncio.Future[None]) -> None:
        """``start`` and ``loadfile`` of the bridge URL, in one trip to the mpv thread, once
        the bridge listens, mpv's callbacks are registered (and the key is good, if given);
        ``loading`` is done once that trip is under way."""
        url = await listening
        await callbacks
        self._mark("mpv_callbacks")
        if key is not None:
            await key
        start = f"{self._resume_s:.3f}" if self._resume_s > 0 else "none"

        def load() -> None:
            self.mpv.set("start", start)
            self._set_audio_files(url)
            self.mpv.play(url)

        self._loadfile_sent = True
        self._mark("mpv_load")
        sent = asyncio.get_running_loop().run_in_executor(self._executor, load)
        if not loading.done():
            loading.set_result(None)
        await sent

    def _set_audio_files(self, bridge_url: str) -> None:
        """mpv's ``audio-files`` (on the mpv thread): the separate audio renditions are
        external tracks. Only the default (the first) is given: mpv opens every audio-file, one
        after another, before its first frame (~12 ms a rendition on loopback); set_audio adds
        another when it is picked. Always set: the option outlives the file on a reused mpv."""
        self._audio_urls = self._audio.urls(bridge_url) if self._audio is not None else []
        self.mpv.set("audio-files", self._audio_urls[:1])

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
                            edges=[s.name for s in self.pool.ordered()],
                            format=self.manifest_format,
                            format_fallback=self.playback is not None
                            and self.playback.requested_format != self.playback.format)

    def _on_fetch_stage(self, stage: str, index: int) -> None:
        if index == self._start_index:
            self._mark(stage)

    def _on_served(self, what: str, status: int) -> None:
        if what == "media.m3u8":
            self._mark("mpv_playlist")
        elif what.startswith("seg/") and status < 300:
            self._mark("seg_served")

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
            index = int(event.get("index", -1))
            if kind == "rebuffer_start":
                cause = ("startup" if not self._playing else "seek" if self._seeking
                         else "stall")
                self._rebuffer_causes[index] = cause
            else:
                cause = self._rebuffer_causes.get(index, "stall")
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


def _key_ids(raw: Any) -> tuple[bytes, ...]:
    """The playback answer's ``key_ids`` (hex) as KIDs; anything malformed is left out."""
    out = []
    for item in raw if isinstance(raw, list) else ():
        try:
            kid = bytes.fromhex(item) if isinstance(item, str) else b""
        except ValueError:
            continue
        if len(kid) == 16:
            out.append(kid)
    return tuple(out)
