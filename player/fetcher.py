"""Fetch one segment from the best edge, failing over until some edge delivers valid plaintext.

One :meth:`SegmentFetcher.fetch` call:

1. takes the best usable edge from the :class:`~player.edgepool.EdgePool` (minus those this fetch
   has already left) and the segment's URI on that edge's pathway (its media playlist);
2. streams the body with the adaptive TTFB and stall timeouts (:mod:`player.failover`), feeding
   the ABR policy ``on_progress`` and asking ``should_abandon`` (→ :class:`Abandoned`);
3. decrypts and validates it as it arrives (:class:`~player.decrypt.StreamDecryptor`: AES-CBC
   block by block, every TS packet's sync byte, the padding at the end), writing the plaintext
   into a :class:`~player.buffer.LiveSegment` the bridge can stream to mpv before the last byte;
   the plaintext length is known from the edge's ``Content-Length``
   (:func:`~player.decrypt.plaintext_length`);
4. on a failure, reports it to the pool, records a :class:`~player.failover.FailoverEvent` and
   goes on to the next edge, resuming with ``Range: bytes=N-`` from the bytes received so far
   (AES-CBC is over the whole file, so the ciphertext is identical on every edge and the
   decryptor's CBC state just goes on). Only corruption starts over from byte 0 on the next
   edge (the live segment compares the new plaintext with what was already handed out).
   ``403 url_expired`` first reloads the URLs (``refresh_urls``) and retries the same edge.
   Once mpv has some of a segment's bytes, the ABR may no longer abandon it.
   Range answers are checked (:mod:`player.wholefile`): a 206 must carry the range asked
   (else ``bad_range``); a 200 to a resume is sliced past the bytes already held; a 200 to a
   byte-range segment (a server ignoring Range) is downloaded once as the whole file and every
   segment of that URL sliced from it. An EXT-X-GAP segment is never requested (empty).
5. When no edge is left: ``reload_steering()``, then every edge once more; then
   ``reload_manifest()``, then every edge once more (these two retries try edges whose circuit is
   open too: it is the last thing before showing an error); then :class:`NoEdgeError` with each
   edge's last error.

The parts: :mod:`player.fetchbase` (the outcomes, failure signals and the timeout rule per edge),
:mod:`player.edgeplaylists` (media playlists, timelines and init segments from the edges),
:mod:`player.edgeattempt` (one attempt on one edge: steps 2 and 3, the Range checks); this
module is the failover loop across the edges (steps 1, 4 and 5).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable, Sequence

import httpx

from abr.interface import AbrPolicy
from player.buffer import LiveSegment
from player.decrypt import Decryptor
from player.edgeattempt import EdgeAttempt
from player.edgepool import EdgePool, edges_of
from player.errors import NetworkError, NoEdgeError, PlayerError, ServerError
from player.failover import Cause, FailoverEvent, FetchConfig, PathwayPlaylists
from player.fetchbase import (
    LAST_RESORT,
    Abandoned,
    AbandonFor,
    Failed,
    Fetched,
    Progress,
    Reload,
    UrlExpired,
    describe,
)
from player.presentation import Multivariant
from player.wholefile import WholeFiles

__all__ = ["Abandoned", "Fetched", "Reload", "ReloadSteering", "SegmentFetcher"]

log = logging.getLogger("edge")

ReloadSteering = Callable[[], Awaitable[Sequence[str] | None]]


class SegmentFetcher(EdgeAttempt):
    """``await fetcher.fetch(index, rung)`` → :class:`Fetched` or :class:`Abandoned`.

    ``buffer_s`` reads the media buffered ahead now (the timeouts and abandonment use it);
    ``refresh_urls`` reloads the multivariant playlist (fresh signed URLs); ``reload_steering``
    returns a new pathway priority (or None); ``reload_manifest`` returns a new multivariant
    playlist (possibly new edges); ``on_failover`` receives every failover event.
    """

    def __init__(self, http: httpx.AsyncClient, pool: EdgePool, multivariant: Multivariant,
                 decryptor: Decryptor, policy: AbrPolicy, *,
                 buffer_s: Callable[[], float] = lambda: 0.0,
                 refresh_urls: Reload | None = None,
                 reload_steering: ReloadSteering | None = None,
                 reload_manifest: Reload | None = None,
                 on_failover: Callable[[FailoverEvent], None] | None = None,
                 config: FetchConfig | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.config = config or FetchConfig()
        self._http = http
        self.pool = pool
        self.playlists = PathwayPlaylists(multivariant, self.fetch_playlist_text)
        self._decryptor = decryptor
        self._policy = policy
        self.buffer_level = buffer_s
        self._refresh_urls = refresh_urls
        self._reload_steering = reload_steering
        self._reload_manifest = reload_manifest
        self._listeners: list[Callable[[FailoverEvent], None]] = []
        if on_failover is not None:
            self._listeners.append(on_failover)
        self._clock = clock
        self.load_allowance_s = lambda: 0.0
        pool.useful_bps = float(self.playlists.bitrates_bps[0]) if self.playlists.bitrates_bps \
            else None
        self._ignored_range = set()
        self._whole = WholeFiles(max_bytes=self.config.max_whole_file_bytes,
                                 keep=self.config.whole_files_kept,
                                 stall_timeout_s=self.stall_timeout_s,
                                 on_done=pool.report_success,
                                 on_failed=lambda edge, exc: pool.report_failure(
                                     edge, f"{exc.cause.label}: {exc.detail}",
                                     hard=exc.cause.hard))
        self.inits = {}
        self._init_cache = {}
        self._init_locks = {}
        self.on_stage = None

    def subscribe(self, listener: Callable[[FailoverEvent], None]) -> None:
        """Also send every failover event to ``listener``."""
        self._listeners.append(listener)


    # --- one segment ---------------------------------------------------------------------------

    async def fetch(self, index: int, rung: int, sink: LiveSegment | None = None,
                    rendition: str | None = None,
                    progress: Progress | None = None) -> Fetched | Abandoned:
        """``sink``: where validated plaintext goes as it arrives (the bridge streams it to mpv
        from there); the fetcher keeps its own otherwise. ``rendition``: a rendition off the
        ladder (a separate audio rendition, ``audio:NAME``) with ``rung`` -1: the same
        failover, but the ABR policy neither hears of it nor abandons it. ``progress``: what
        is already held of the segment (a download's part file resumed: the first request
        asks for the rest with a Range) and what sees every byte received."""
        token = LAST_RESORT.set(False)
        try:
            return await self._fetch(index, rung, sink, rendition, progress or Progress())
        finally:
            LAST_RESORT.reset(token)

    async def _fetch(self, index: int, rung: int, sink: LiveSegment | None,
                     off_ladder: str | None, progress: Progress) -> Fetched | Abandoned:
        rendition = off_ladder or self.playlists.ladder[rung]
        live = sink if sink is not None else LiveSegment(index)
        tried: set[str] = set()
        failures: dict[str, str] = {}
        refreshed: set[str] = set()
        retry_same: str | None = None
        pending: tuple[str, Failed] | None = None
        stage = 0  # 0: usual; 1: after reloading steering; 2: after reloading the manifest
        refused: PlayerError | None = None
        failovers = 0
        while True:
            edge = retry_same or self._pick(tried, forced=stage > 0)
            retry_same = None
            if edge is None:
                if stage == 0 and self._reload_steering is not None:
                    stage = 1
                    LAST_RESORT.set(True)
                    await self._steering_reload()
                    tried.clear()
                    continue
                if stage <= 1 and self._reload_manifest is not None:
                    stage = 2
                    LAST_RESORT.set(True)
                    refused = await self._manifest_reload()
                    tried.clear()
                    continue
                if pending is not None:
                    self._emit(index, rendition, pending, None, progress.fetched)
                for name in self.pool.names:
                    failures.setdefault(name, self.pool.status(name).last_error or "not tried")
                log.warning("segment %d: every edge failed: %s", index, failures)
                if refused is not None:  # the control plane's answer is the real cause
                    raise refused from NoEdgeError(failures)
                raise NoEdgeError(failures)
            if pending is not None:
                self._emit(index, rendition, pending, edge, progress.fetched)
                failovers += 1
                pending = None
            seen = self.playlists.generation
            try:
                segment = await self._segment_on(edge, rendition, index)
                live.edge = edge
                if segment.gap:
                    return self._gap(segment, index, rung, rendition, live, edge)
                return await self._attempt(edge, segment, index, rung, rendition, progress,
                                           live, failovers)
            except UrlExpired:
                if edge not in refreshed and self._refresh_urls is not None:
                    refreshed.add(edge)
                    retry_same = edge
                    start = self._clock()
                    await self.playlists.refresh(seen, self._refresh_urls)
                    log.info("segment %d: %s answered url_expired: URLs refreshed in %.0f ms",
                             index, edge, (self._clock() - start) * 1000)
                    self._emit(index, rendition, (edge, Failed(
                        Cause.URL_EXPIRED, "403 url_expired: URLs refreshed", 0.0)), edge, 0,
                        cause="url_refresh")
                    continue
                failure = Failed(Cause.URL_EXPIRED, "403 url_expired after a refresh", 0.0)
            except AbandonFor as abandon:
                size = progress.fetched
                log.info("segment %d: abandoned rung %d at %d bytes for rung %d", index, rung,
                         size, abandon.lower)
                return Abandoned(index, rung, abandon.lower, size, edge)
            except Failed as exc:
                failure = exc
            self.pool.report_failure(edge, failure.describe(), hard=failure.cause.hard)
            failures[edge] = failure.describe()
            tried.add(edge)
            if failure.cause is Cause.CORRUPT and progress.fetched:
                # Start over on the next edge; what already reached the sink is compared with
                # the new bytes (LiveSegment.restart).
                progress.reset()
                live.restart()
            pending = (edge, failure)


    def _pick(self, tried: set[str], forced: bool) -> str | None:
        try:
            return self.pool.best(exclude=tried).name
        except NoEdgeError:
            if not forced:
                return None
        for status in self.pool.ordered():
            if status.name not in tried:
                return status.name
        return None

    async def _steering_reload(self) -> None:
        assert self._reload_steering is not None
        log.warning("every edge failed: reloading steering")
        try:
            priority = await self._reload_steering()
        except (PlayerError, httpx.HTTPError) as exc:
            log.warning("steering reload failed: %s", describe(exc))
            return
        if priority:
            self.pool.apply_steering(priority)

    async def _manifest_reload(self) -> PlayerError | None:
        """Reload the playback manifest; the control plane's refusal (the session ended, the
        account signed out) when it gave one, None otherwise (reloaded, or unreachable)."""
        assert self._reload_manifest is not None
        log.warning("every edge failed again: reloading the playback manifest")
        try:
            multivariant = await self._reload_manifest()
        except (PlayerError, httpx.HTTPError) as exc:
            log.warning("manifest reload failed: %s", describe(exc))
            if isinstance(exc, PlayerError) and not isinstance(exc, NetworkError | ServerError):
                return exc
            return None
        self.pool.set_edges(edges_of(multivariant))
        self.playlists.reset(multivariant)
        return None

    def _emit(self, index: int, rendition: str, pending: tuple[str, Failed], to: str | None,
              resume_from: int, cause: str | None = None) -> None:
        edge, failure = pending
        event = FailoverEvent(index, rendition, cause or failure.cause.label, failure.detail,
                              edge, to, failure.detection_s, failure.measured_from, resume_from,
                              self._clock())
        log.warning("segment %d: failover %s → %s (%s: %s, detected in %.0f ms%s)", index, edge,
                    to or "none", event.cause, failure.detail, failure.detection_s * 1000,
                    f", resuming at byte {resume_from}" if resume_from else "")
        for listener in self._listeners:
            listener(event)


    async def aclose(self) -> None:
        """Stop the whole-file downloads and drop their bodies (the owner calls this)."""
        await self._whole.close()
