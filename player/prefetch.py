"""Prefetch what Play needs while the details page is open (docs/engine.md, *Prefetch*).

``await prefetch_start(cp, title_id, profile_id)`` (or ``cp=None, url=URL``) does a session's
start-up up to the first segments at the start rung, with the engine's own parts and choices:
``POST /v1/playback`` (a plain URL: its stand-in), the multivariant playlist, the key, the
start rung's media playlist from the edge the session would start on, the init segment and
the first ``segments`` segments (fetched, decrypted and validated like the session's). The
answers are kept as they came off the wire in a :class:`~player.prefetched.PrefetchedStart`
that ``PlaybackSession(..., playback=prefetched)`` adopts at Play.

:class:`Prefetcher` holds at most one (bounded memory): :meth:`Prefetcher.start` cancels and
drops the previous one, :meth:`Prefetcher.cancel` drops it (leaving the details page),
:meth:`Prefetcher.take` hands it to Play when it is for that title and still fresh (else
drops it: the start is cold). Everything runs on the engine loop; a failed prefetch is logged
and forgotten (Play then reports the real error itself).
"""

from __future__ import annotations

import asyncio
import bisect
import contextlib
import logging
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any

import httpx

from abr.hysteresis import HysteresisPolicy
from player.api import ControlPlaneClient
from player.api.models import Playback
from player.audio import AudioTrack
from player.dash import index_fetcher, load_mpd, looks_like_mpd
from player.decrypt import Decryptor, KeyCache
from player.edgepool import EdgePool
from player.errors import LicenseError, ManifestError
from player.failover import PathwayPlaylists
from player.fetcher import SegmentFetcher
from player.keysource import CencKeys, Post, licence_poster
from player.manifest import parse_multivariant
from player.prefetched import PrefetchedStart, RecordingTransport
from player.presentation import Multivariant
from player.session.config import SessionConfig, tls_context

log = logging.getLogger("player.prefetch")

MAX_PREFETCH_BYTES = 24 * 1024 * 1024
"""Most bytes one prefetch keeps (playlists, init and first segments at the start rung)."""


def _is_media_playlist(text: str) -> bool:
    return any(line.startswith(("#EXTINF", "#EXT-X-TARGETDURATION"))
               for line in text.splitlines())


def start_rung(config: SessionConfig, bitrates: Sequence[int], segment_s: float,
               count: int | None, index: int, clock: Callable[[], float]
               ) -> tuple[int, HysteresisPolicy]:
    """The first segment's rung as the session's scheduler decides it (its own policy, the
    blind start cap), and that policy (it hears of the prefetch's downloads)."""
    abr = replace(config.abr, max_buffer_s=config.scheduler.buffer.target_s,
                  blind_start_rung=config.start_max_rung)
    policy = HysteresisPolicy(abr, initial_estimate_bps=config.initial_estimate_bps)
    policy.start(bitrates, segment_s or 4.0, count, max_buffer_s=config.scheduler.buffer.target_s)
    blind = config.initial_estimate_bps is None
    cap = config.start_max_rung if blind else None
    saved = policy.max_rung
    cap = config.max_rung if cap is None else (cap if config.max_rung is None
                                               else min(cap, config.max_rung))
    policy.max_rung = cap
    try:
        rung = policy.choose(index, 0.0, clock()).rung
    finally:
        policy.max_rung = saved if config.max_rung is None else config.max_rung
    return max(0, min(rung, len(bitrates) - 1)), policy


async def prefetch_start(cp: ControlPlaneClient | None, title_id: str = "",
                         profile_id: str = "", *, url: str | None = None,
                         config: SessionConfig | None = None, segments: int = 2,
                         max_age_s: float = 60.0,
                         clock: Callable[[], float] = time.monotonic,
                         transport: httpx.AsyncBaseTransport | None = None) -> PrefetchedStart:
    """A :class:`PrefetchedStart` for ``title_id`` (``cp``) or the plain ``url``; raises the
    engine's typed errors like Play would. ``transport``: where its requests go (default: a
    new connection pool, which the adopting session takes over)."""
    if (cp is None) == (url is None):
        raise ValueError("give either a control plane or a URL")
    config = config or SessionConfig()
    transport = RecordingTransport(transport or httpx.AsyncHTTPTransport(verify=tls_context()),
                                   MAX_PREFETCH_BYTES)
    http = httpx.AsyncClient(transport=transport, timeout=httpx.Timeout(10.0, connect=3.0),
                             headers={"User-Agent": "Edgeplay/0.1"})
    keys: dict[str, bytes] = {}
    created = clock()
    try:
        if cp is not None:
            playback = await cp.start_playback(title_id, profile_id, config.stream_format)
        else:
            assert url is not None
            playback = Playback.plain(url, session_id=f"local-{uuid.uuid4().hex[:12]}")
        mv = await _multivariant(cp, http, playback)
        if cp is not None and playback.multivariant_playlist is None:
            text = await cp.fetch_text(playback.manifest_url)
            mv = await _manifest(config, http, text, playback.manifest_url)
            playback = replace(playback, multivariant_playlist=text)

        async def fetch_key(uri: str) -> bytes:
            if cp is not None:
                key = await cp.streaming_key(uri)
            else:
                response = await http.get(uri)
                if response.status_code >= 400:
                    raise LicenseError(f"The key at {uri} answered HTTP {response.status_code}.")
                key = response.content
            keys[uri] = key
            return key

        key_cache = KeyCache(fetch_key)
        # CENC (``drm: clearkey``): the keys come from ClearKey licences, asked by the
        # decryptor per KID; the license URL is not a raw-key URL then
        cenc = CencKeys(dict(config.clear_keys), _licence_post(cp, http))
        key_task = (asyncio.ensure_future(key_cache.get(playback.license_url))
                    if playback.license_url and playback.drm != "clearkey" else None)
        try:
            decryptor = Decryptor(key_cache, cenc, licence_url=mv.licence_url
                                  or (playback.license_url if playback.drm == "clearkey"
                                      else None))
            rung = await _segments(config, http, mv, playback, decryptor, segments, clock)
            if key_task is not None:
                await key_task
        finally:
            if key_task is not None and not key_task.done():
                key_task.cancel()
                with contextlib.suppress(BaseException):
                    await key_task
    except BaseException:
        await http.aclose()
        raise
    # The client is dropped, its transport (the warm connections) goes to the session.
    return PrefetchedStart(title_id=title_id, profile_id=profile_id, url=url,
                           playback=playback, transport=transport.inner,
                           stored=dict(transport.stored), keys=keys, rung=rung,
                           multivariant=mv,
                           created_s=created, max_age_s=max_age_s, clock=clock)


async def _manifest(config: SessionConfig, http: httpx.AsyncClient, text: str,
                    url: str) -> Multivariant:
    """The control plane's manifest as the model: HLS or DASH by content (as the session
    reads it; the session adopts this reading with the prefetch)."""
    if not looks_like_mpd(text):
        return parse_multivariant(text, url)
    limits = config.fetch
    fetch = index_fetcher(http, max_bytes=limits.max_playlist_bytes,
                          deadline_s=limits.playlist_deadline_s)
    return await load_mpd(text, url, fetch, max_segments=limits.max_playlist_segments,
                          allow_protected=True)


async def _multivariant(cp: ControlPlaneClient | None, http: httpx.AsyncClient,
                        playback: Playback) -> Multivariant:
    if playback.multivariant_playlist is not None:
        return parse_multivariant(playback.multivariant_playlist, playback.manifest_url)
    if cp is not None:  # fetched by the caller (the control plane's client)
        return Multivariant.single(playback.manifest_url)
    response = await http.get(playback.manifest_url)
    if response.status_code >= 400:
        raise ManifestError(f"{playback.manifest_url} answered HTTP {response.status_code}.")
    text = response.text
    if _is_media_playlist(text):
        return Multivariant.single(playback.manifest_url)
    return parse_multivariant(text, playback.manifest_url)


def _licence_post(cp: ControlPlaneClient | None, http: httpx.AsyncClient) -> Post:
    """ClearKey licence requests as the session makes them: the control plane's endpoint
    with the bearer token, any other licence server without it."""
    plain = licence_poster(http)
    if cp is None:
        return plain

    async def post(url: str, body: bytes) -> bytes:
        return await (cp.clearkey_licence(url, body) if cp.owns(url) else plain(url, body))

    return post


async def _segments(config: SessionConfig, http: httpx.AsyncClient, mv: Multivariant,
                    playback: Playback, decryptor: Decryptor, count: int,
                    clock: Callable[[], float]) -> int:
    """The start rung's media playlist and first ``count`` segments, as the session asks for
    them (same edge order, same rung); returns the rung."""
    pool = EdgePool.from_multivariant(mv, http, config=config.edges, clock=clock)
    if mv.default_pathway != mv.pathways[0].id:
        pool.apply_steering([mv.default_pathway])
    announced = playback.segment_durations_s
    segment_s = playback.segment_duration_s or (max(announced) if announced else 0.0)
    resume_s = 0.0 if config.start_over else playback.resume_position_s
    if playback.duration_s and resume_s >= playback.duration_s - 1.0:
        resume_s = 0.0
    index = 0
    if announced:
        starts = [0.0]
        for d in announced[:-1]:
            starts.append(starts[-1] + d)
        index = max(0, bisect.bisect_right(starts, resume_s) - 1)
    elif segment_s > 0:
        index = int(resume_s // segment_s)
    bitrates = PathwayPlaylists(mv, _no_fetch).bitrates_bps
    # the rung, and the policy that heard of it (it hears of the prefetch's downloads too)
    rung, policy = start_rung(config, bitrates, segment_s,
                              len(announced) if announced else None, index, clock)
    fetcher: SegmentFetcher | None = None
    try:
        fetcher = SegmentFetcher(http, pool, mv, decryptor, policy,
                                 config=config.fetch, clock=clock)
        # Without a nominal duration the session reads rung 0's playlist first (its timeline).
        timeline = await fetcher.timeline(rung if segment_s else 0)
        last = len(timeline.segments)
        for i in range(index, min(last, index + count)):
            await fetcher.fetch(i, rung)
        await _default_audio(fetcher, mv, resume_s)
        return rung
    finally:
        if fetcher is not None:
            await fetcher.aclose()


async def _default_audio(fetcher: SegmentFetcher, mv: Multivariant, resume_s: float) -> None:
    """The default separate audio rendition's playlist, init segment and segment at the start,
    as the session's track asks for them (mpv opens that rendition before its first frame, and
    a CENC video fragment's key is checked against an audio fragment)."""
    renditions = sorted(mv.audio_renditions(), key=lambda r: not r.default)
    if not renditions:
        return
    track = AudioTrack(fetcher, renditions[0])
    try:
        await track.start()
        if track.container == "fmp4":
            await track.init_segment()
        await track.prefetch(resume_s)
    finally:
        await track.close()


async def _no_fetch(edge: str, url: str) -> str:
    raise AssertionError("only the ladder is read")


class Prefetcher:
    """At most one prefetch at a time, on the engine loop (see the module)."""

    def __init__(self, *, config: SessionConfig | None = None, segments: int = 2,
                 max_age_s: float = 60.0, clock: Callable[[], float] = time.monotonic,
                 transport: Callable[[], httpx.AsyncBaseTransport] | None = None) -> None:
        self.config = config or SessionConfig()
        self._transport = transport
        self.segments = segments
        self.max_age_s = max_age_s
        self._clock = clock
        self._task: asyncio.Task[PrefetchedStart] | None = None
        self._target: tuple[str, str, str | None] | None = None

    @property
    def task(self) -> asyncio.Task[PrefetchedStart] | None:
        return self._task

    async def start(self, cp: ControlPlaneClient | None, title_id: str = "",
                    profile_id: str = "", *, url: str | None = None,
                    config: SessionConfig | None = None) -> None:
        """Prefetch this title (or URL), dropping any other prefetch; a prefetch already
        under way (or done) for the same target is kept."""
        target = (title_id, profile_id, url)
        if self._task is not None and self._target == target:
            return
        await self.cancel()
        self._target = target
        self._task = asyncio.ensure_future(prefetch_start(
            cp, title_id, profile_id, url=url, config=config or self.config,
            segments=self.segments, max_age_s=self.max_age_s, clock=self._clock,
            transport=self._transport() if self._transport is not None else None))
        self._task.add_done_callback(_log_failure)

    async def take(self, title_id: str = "", profile_id: str = "", *,
                   url: str | None = None, wait_s: float = 0.0) -> PrefetchedStart | None:
        """The prefetch for this title (or URL) if it is done (or done within ``wait_s``) and
        fresh; else None (and it is dropped)."""
        task, target = self._task, self._target
        self._task = self._target = None
        if task is None:
            return None
        if target != (title_id, profile_id, url):
            await _drop(task)
            return None
        if not task.done() and wait_s > 0:
            await asyncio.wait({task}, timeout=wait_s)
        if not task.done() or task.cancelled() or task.exception() is not None:
            await _drop(task)
            return None
        prefetched = task.result()
        why = prefetched.usable_for(title_id, profile_id, url)
        if why is not None:
            log.info("prefetch dropped: %s", why)
            await prefetched.aclose()
            return None
        return prefetched

    async def cancel(self) -> None:
        """Drop the prefetch (cancelled if under way; its bytes and connections freed)."""
        task, self._task, self._target = self._task, None, None
        if task is not None:
            await _drop(task)


async def _drop(task: asyncio.Task[PrefetchedStart]) -> None:
    if not task.done():
        task.cancel()
    with contextlib.suppress(BaseException):
        await task
    if not task.cancelled() and task.exception() is None:
        await task.result().aclose()


def _log_failure(task: asyncio.Task[Any]) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.info("prefetch failed (Play will start cold): %s", task.exception())
