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
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import json
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

import httpx

from abr.interface import AbrPolicy
from player.bounded import InputTooLarge, check_segment_count, get_bounded
from player.buffer import LiveSegment
from player.decrypt import CorruptSegment, Decryptor, StreamDecryptor, plaintext_length
from player.edgepool import EdgePool, edges_of
from player.errors import ManifestError, NetworkError, NoEdgeError, PlayerError, ServerError
from player.failover import (
    Cause,
    FailoverEvent,
    FetchConfig,
    PathwayPlaylists,
    adaptive_timeout_s,
    ttfb_floor_s,
)
from player.fmp4 import InitInfo, MediaFormatError, injected_bytes, parse_init
from player.manifest import InitSection, MediaPlaylist, Multivariant, Segment
from player.wholefile import WholeFile, WholeFileError, WholeFiles, range_mismatch

log = logging.getLogger("edge")
net_log = logging.getLogger("net")

_last_resort: contextvars.ContextVar[bool] = contextvars.ContextVar("last_resort", default=False)
"""Set in a fetch (its own task) once every edge has failed: its later requests, the media
playlists they read included, wait ``last_resort_timeout_s`` at least."""


@dataclass(frozen=True)
class Fetched:
    """A segment delivered: plaintext TS and how the last (successful) request went."""

    index: int
    rung: int
    rendition_id: str
    data: bytes
    edge: str
    bytes_: int
    """Bytes of the successful request (after a Range resume: only the rest)."""
    seconds: float
    """That request, from its start to the last byte."""
    ttfb_s: float
    failovers: int
    resumed_from_byte: int


@dataclass(frozen=True)
class Abandoned:
    """The ABR dropped the download: fetch ``lower`` instead."""

    index: int
    rung: int
    lower: int
    bytes_so_far: int
    edge: str


class _Failed(Exception):
    def __init__(self, cause: Cause, detail: str, detection_s: float,
                 measured_from: str = "request") -> None:
        super().__init__(detail)
        self.cause = cause
        self.detail = detail
        self.detection_s = detection_s
        self.measured_from = measured_from

    def describe(self) -> str:
        return f"{self.cause.label}: {self.detail}"


class _UrlExpired(Exception):
    pass


class _UseWhole(Exception):
    def __init__(self, whole: WholeFile) -> None:
        super().__init__(whole.url)
        self.whole = whole


class _Abandon(Exception):
    def __init__(self, lower: int) -> None:
        super().__init__(lower)
        self.lower = lower


class _Progress:
    """What one segment's attempts have fetched so far (carried across edges)."""

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        """Start over from byte 0."""
        self.fetched = 0
        """Bytes of the file received so far: the offset of a Range resume."""
        self.decryptor: StreamDecryptor | None = None
        self.backlog = bytearray()
        """Bytes received before the key was at hand."""

    def feed(self, chunk: bytes, live: LiveSegment) -> None:
        self.fetched += len(chunk)
        if self.decryptor is None:
            self.backlog += chunk
            return
        if self.backlog:
            chunk, self.backlog = bytes(self.backlog) + chunk, bytearray()
        live.append(self.decryptor.feed(chunk))


def _describe(exc: BaseException) -> str:
    text = str(exc)
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _error_code(body: bytes) -> str | None:
    try:
        raw = json.loads(body)
    except ValueError:
        return None
    code = raw.get("error") if isinstance(raw, dict) else None
    return code if isinstance(code, str) else None


Reload = Callable[[], Awaitable[Multivariant]]
ReloadSteering = Callable[[], Awaitable[Sequence[str] | None]]


class SegmentFetcher:
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
        """Segment URIs per pathway and the rendition ladder."""
        self._decryptor = decryptor
        self._policy = policy
        self.buffer_level = buffer_s
        """Reads the media buffered ahead now (seconds); the scheduler sets it."""
        self._refresh_urls = refresh_urls
        self._reload_steering = reload_steering
        self._reload_manifest = reload_manifest
        self._listeners: list[Callable[[FailoverEvent], None]] = []
        if on_failover is not None:
            self._listeners.append(on_failover)
        self._clock = clock
        self.load_allowance_s: Callable[[], float] = lambda: 0.0
        """Seconds that CPU load adds to every timeout now; the scheduler sets it (its
        :class:`~player.loadlag.LoopLag`)."""
        pool.useful_bps = float(self.playlists.bitrates_bps[0]) if self.playlists.bitrates_bps \
            else None
        self._ignored_range: set[tuple[str, str]] = set()
        self._whole = WholeFiles(max_bytes=self.config.max_whole_file_bytes,
                                 keep=self.config.whole_files_kept,
                                 stall_timeout_s=self.stall_timeout_s,
                                 on_done=pool.report_success,
                                 on_failed=lambda edge, exc: pool.report_failure(
                                     edge, f"{exc.cause.label}: {exc.detail}",
                                     hard=exc.cause.hard))
        self.inits: dict[str, bytes] = {}
        """The first init segment (EXT-X-MAP) fetched per rendition id: what the bridge serves."""
        self._init_cache: dict[tuple[str, str, tuple[int, int] | None],
                               tuple[bytes, InitInfo]] = {}
        self.on_stage: Callable[[str, int], None] | None = None
        """Optional tracer: ``on_stage(stage, index)`` at ``seg_request``, ``seg_headers``,
        ``seg_body`` (last byte) and ``seg_ready`` (decrypted and valid) of every attempt (the
        session's start-up breakdown)."""

    def subscribe(self, listener: Callable[[FailoverEvent], None]) -> None:
        """Also send every failover event to ``listener``."""
        self._listeners.append(listener)

    # --- the timeout rule, per edge ------------------------------------------------------------

    def expected_ttfb_s(self, edge: str) -> float:
        expected = self.pool.expected_ttfb_s(edge)
        return expected if expected is not None else self.config.default_ttfb_s

    def ttfb_timeout_s(self, edge: str, last_resort: bool | None = None) -> float:
        """How long ``edge`` may take to its response headers now (docs: the timeout rule)."""
        if last_resort is None:
            last_resort = _last_resort.get()
        floor = ttfb_floor_s(self.pool.expected_ttfb_s(edge), self.pool.ttfb_measured(edge),
                             last_resort, self.config)
        return adaptive_timeout_s(self.expected_ttfb_s(edge), self.buffer_level(), self.config,
                                  floor_s=floor, load_s=self.load_allowance_s())

    def stall_timeout_s(self, edge: str) -> float:
        throughput = self.pool.status(edge).throughput_bps or self.config.default_throughput_bps
        expected = self.config.stall_chunk_bytes * 8 / throughput
        return adaptive_timeout_s(expected, self.buffer_level(), self.config,
                                  load_s=self.load_allowance_s())

    def _stage(self, stage: str, index: int) -> None:
        if self.on_stage is not None:
            try:
                self.on_stage(stage, index)
            except Exception:
                log.exception("stage tracer failed")

    def _note_ttfb(self, edge: str, ttfb_s: float) -> None:
        self.pool.report_ttfb(edge, ttfb_s)

    # --- one segment ---------------------------------------------------------------------------

    async def fetch(self, index: int, rung: int, sink: LiveSegment | None = None,
                    rendition: str | None = None) -> Fetched | Abandoned:
        """``sink``: where validated plaintext goes as it arrives (the bridge streams it to mpv
        from there); the fetcher keeps its own otherwise. ``rendition``: a rendition off the
        ladder (a separate audio rendition, ``audio:NAME``) with ``rung`` -1: the same
        failover, but the ABR policy neither hears of it nor abandons it."""
        token = _last_resort.set(False)
        try:
            return await self._fetch(index, rung, sink, rendition)
        finally:
            _last_resort.reset(token)

    async def _fetch(self, index: int, rung: int, sink: LiveSegment | None,
                     off_ladder: str | None = None) -> Fetched | Abandoned:
        rendition = off_ladder or self.playlists.ladder[rung]
        live = sink if sink is not None else LiveSegment(index)
        progress = _Progress()
        tried: set[str] = set()
        failures: dict[str, str] = {}
        refreshed: set[str] = set()
        retry_same: str | None = None
        pending: tuple[str, _Failed] | None = None
        stage = 0  # 0: usual; 1: after reloading steering; 2: after reloading the manifest
        refused: PlayerError | None = None
        failovers = 0
        while True:
            edge = retry_same or self._pick(tried, forced=stage > 0)
            retry_same = None
            if edge is None:
                if stage == 0 and self._reload_steering is not None:
                    stage = 1
                    _last_resort.set(True)
                    await self._steering_reload()
                    tried.clear()
                    continue
                if stage <= 1 and self._reload_manifest is not None:
                    stage = 2
                    _last_resort.set(True)
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
            except _UrlExpired:
                if edge not in refreshed and self._refresh_urls is not None:
                    refreshed.add(edge)
                    retry_same = edge
                    start = self._clock()
                    await self.playlists.refresh(seen, self._refresh_urls)
                    log.info("segment %d: %s answered url_expired: URLs refreshed in %.0f ms",
                             index, edge, (self._clock() - start) * 1000)
                    self._emit(index, rendition, (edge, _Failed(
                        Cause.URL_EXPIRED, "403 url_expired: URLs refreshed", 0.0)), edge, 0,
                        cause="url_refresh")
                    continue
                failure = _Failed(Cause.URL_EXPIRED, "403 url_expired after a refresh", 0.0)
            except _Abandon as abandon:
                size = progress.fetched
                log.info("segment %d: abandoned rung %d at %d bytes for rung %d", index, rung,
                         size, abandon.lower)
                return Abandoned(index, rung, abandon.lower, size, edge)
            except _Failed as exc:
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

    async def timeline(self, rung: int = 0) -> MediaPlaylist:
        """Rung ``rung``'s media playlist (default: the lowest) from the best edge that answers:
        the timeline every rendition shares, cached for the fetches; :class:`NoEdgeError` if no
        edge answers."""
        return await self.timeline_of(self.playlists.ladder[rung])

    async def timeline_of(self, rendition: str) -> MediaPlaylist:
        """:meth:`timeline` of any rendition id (``audio:NAME`` too)."""
        # Once every edge timed out, one more round with patient timeouts (a slow server).
        rounds = [(s.name, False) for s in self.pool.ordered()]
        rounds += [(name, True) for name, _ in rounds]
        token = _last_resort.set(False)
        try:
            return await self._timeline(rendition, rounds)
        finally:
            _last_resort.reset(token)

    async def _timeline(self, rendition: str, rounds: list[tuple[str, bool]]) -> MediaPlaylist:
        failures: dict[str, str] = {}
        too_large: list[InputTooLarge] = []
        refreshed = False
        for edge, patient in rounds:
            if patient and not all(f.startswith(Cause.TTFB_TIMEOUT.label)
                                   for f in failures.values()):
                break
            _last_resort.set(patient)
            for _ in range(2):
                seen = self.playlists.generation
                try:
                    return await self.playlists.playlist(edge, rendition)
                except _UrlExpired:
                    if refreshed or self._refresh_urls is None:
                        failures[edge] = "url_expired"
                        break
                    refreshed = True
                    await self.playlists.refresh(seen, self._refresh_urls)
                except _Failed as exc:
                    self.pool.report_failure(edge, exc.describe(), hard=exc.cause.hard)
                    failures[edge] = exc.describe()
                    break
                except ManifestError as exc:
                    failures[edge] = f"playlist: {exc.message}"
                    if isinstance(exc, InputTooLarge):
                        too_large.append(exc)
                    break
        if too_large and len(too_large) >= len(failures):
            raise too_large[-1]  # the playlist itself, not the edges: say so
        raise NoEdgeError(failures)

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
            log.warning("steering reload failed: %s", _describe(exc))
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
            log.warning("manifest reload failed: %s", _describe(exc))
            if isinstance(exc, PlayerError) and not isinstance(exc, NetworkError | ServerError):
                return exc
            return None
        self.pool.set_edges(edges_of(multivariant))
        self.playlists.reset(multivariant)
        return None

    def _emit(self, index: int, rendition: str, pending: tuple[str, _Failed], to: str | None,
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

    # --- one attempt on one edge ---------------------------------------------------------------

    async def _segment_on(self, edge: str, rendition: str, index: int) -> Segment:
        try:
            return await self.playlists.segment(edge, rendition, index)
        except ManifestError as exc:
            raise _Failed(Cause.PLAYLIST, exc.message, 0.0) from None

    async def fetch_playlist_text(self, edge: str, url: str) -> str:
        """A media playlist from ``edge`` (the :class:`PathwayPlaylists` fetcher), with the
        same timeouts and failure causes as a segment."""
        start = self._clock()
        timeout = self.ttfb_timeout_s(edge)
        config = self.config
        try:
            response = await get_bounded(
                self._http, url, max_bytes=config.max_playlist_bytes,
                deadline_s=config.playlist_deadline_s, headers_timeout_s=timeout,
                timeout=config.max_timeout_s * 2)
            self._note_ttfb(edge, self._clock() - start)
        except TimeoutError:
            raise _Failed(Cause.TTFB_TIMEOUT, f"playlist: no answer in {timeout:.2f} s",
                          self._clock() - start) from None
        except httpx.TransportError as exc:
            raise _Failed(Cause.REFUSED, f"playlist: {_describe(exc)}",
                          self._clock() - start) from None
        self._check_status(response.status_code, response.content, start)
        text = response.text
        check_segment_count(text, url, config.max_playlist_segments)
        return text

    def _check_status(self, status: int, body: bytes, start: float) -> None:
        if status < 400:
            return
        code = _error_code(body)
        if status == 403 and code == "url_expired":
            raise _UrlExpired()
        cause = Cause.HTTP_5XX if status >= 500 else Cause.HTTP_4XX
        raise _Failed(cause, f"answered {status}{f' {code}' if code else ''}",
                      self._clock() - start)

    async def init_segment(self, edge: str, rendition: str,
                           section: InitSection) -> tuple[bytes, InitInfo]:
        """The init segment ``section`` of ``rendition`` from ``edge`` (cached: it is the same on
        every edge), checked (a ``moov``); :class:`_Failed` like a segment."""
        name = section.uri.rsplit("/", 1)[-1].partition("?")[0]
        key = (rendition, name, section.byterange)
        if key in self._init_cache:
            return self._init_cache[key]
        headers = {"Accept-Encoding": "identity"}
        if section.byterange is not None:
            first, length = section.byterange
            headers["Range"] = f"bytes={first}-{first + length - 1}"
        start = self._clock()
        timeout = self.ttfb_timeout_s(edge) + self.stall_timeout_s(edge)
        try:
            async with asyncio.timeout(timeout):
                response = await self._http.get(section.uri, headers=headers,
                                                timeout=self.config.max_timeout_s * 2)
        except TimeoutError:
            raise _Failed(Cause.TTFB_TIMEOUT, f"init segment: no answer in {timeout:.2f} s",
                          self._clock() - start) from None
        except httpx.TransportError as exc:
            raise _Failed(Cause.REFUSED, f"init segment: {_describe(exc)}",
                          self._clock() - start) from None
        self._check_status(response.status_code, response.content, start)
        data = response.content
        if section.byterange is not None and response.status_code == 200:
            first, length = section.byterange  # the server ignored the Range: cut it out
            data = data[first:first + length]
        try:
            info = parse_init(data)
        except MediaFormatError as exc:
            raise _Failed(Cause.CORRUPT, f"init segment: {exc.message}",
                          self._clock() - start) from None
        self._init_cache[key] = (data, info)
        self.inits.setdefault(rendition, data)
        return data, info

    async def init_for(self, rendition: str) -> bytes:
        """``rendition``'s (first) init segment from the best edge that serves it (the bridge
        hands it to mpv once); :class:`NoEdgeError` if none does."""
        if rendition in self.inits:
            return self.inits[rendition]
        failures: dict[str, str] = {}
        for status in self.pool.ordered():
            try:
                playlist = await self.playlists.playlist(status.name, rendition)
                section = playlist.segments[0].init
                if section is None:
                    raise ManifestError(f"{rendition} has no init segment (EXT-X-MAP).")
                return (await self.init_segment(status.name, rendition, section))[0]
            except _Failed as exc:
                self.pool.report_failure(status.name, exc.describe(), hard=exc.cause.hard)
                failures[status.name] = exc.describe()
            except (_UrlExpired, ManifestError) as exc:
                failures[status.name] = _describe(exc)
        raise NoEdgeError(failures)

    async def _attempt(self, edge: str, segment: Segment, index: int, rung: int,
                       rendition: str, progress: _Progress, live: LiveSegment,
                       failovers: int) -> Fetched:
        offset = progress.fetched
        headers = {"Accept-Encoding": "identity"}  # byte offsets must be the file's
        asked: tuple[int, int | None] | None = None
        init = (await self.init_segment(edge, rendition, segment.init))[1] if segment.init \
            else None
        extra = injected_bytes(init)
        if progress.decryptor is None:
            progress.decryptor = self._decryptor.stream_now(segment, init)
        if segment.byterange is not None:
            first, length = segment.byterange
            asked = (first + offset, first + length - 1)
            whole = self._whole.get(segment.uri)
            if whole is not None:  # this server ignores Range: slice the body fetched once
                return await self._from_whole(whole, edge, segment, index, rung, rendition,
                                              progress, live, failovers, init)
        elif offset:
            asked = (offset, None)
        if asked is not None:
            headers["Range"] = f"bytes={asked[0]}-{'' if asked[1] is None else asked[1]}"
        loop = asyncio.get_running_loop()
        start = last_byte = self._clock()
        ttfb_timeout = self.ttfb_timeout_s(edge)
        self._stage("seg_request", index)
        ttfb: float | None = None
        total: int | None = None
        received = 0
        try:
            async with asyncio.timeout(ttfb_timeout) as deadline:
                async with contextlib.AsyncExitStack() as stack:
                    response = await stack.enter_async_context(self._http.stream(
                        "GET", segment.uri, headers=headers,
                        timeout=self.config.max_timeout_s * 2))
                    last_byte = self._clock()
                    ttfb = last_byte - start
                    self._note_ttfb(edge, ttfb)
                    self._stage("seg_headers", index)
                    status = response.status_code
                    if status >= 400:
                        self._check_status(status, await response.aread(), start)
                    skip = 0  # bytes of a 200 answer before the range asked
                    if asked is not None and status == 200:
                        self._note_ignored_range(edge, segment.uri)
                        if segment.byterange is not None:
                            raise _UseWhole(await self._whole.adopt(
                                segment.uri, edge, stack.pop_all(), response))
                        skip = offset
                    elif asked is not None:
                        mismatch = (range_mismatch(response.headers.get("Content-Range"), *asked)
                                    if status == 206 else f"answered {status} to a Range request")
                        if mismatch is not None:
                            raise _Failed(Cause.BAD_RANGE, mismatch, self._clock() - start)
                    length = response.headers.get("Content-Length")
                    total = (offset - skip + int(length) if length and length.isdigit()
                             else None)
                    if total is not None:
                        try:
                            plain = plaintext_length(segment.key is not None, total,
                                                     segment.container, extra)
                            if plain is not None:
                                live.set_length(plain)
                        except CorruptSegment as exc:
                            raise _Failed(Cause.CORRUPT, exc.message,
                                          self._clock() - start) from None
                    deadline.reschedule(loop.time() + self.stall_timeout_s(edge))
                    last_progress = start
                    async for chunk in response.aiter_bytes():
                        if skip:
                            chunk, skip = chunk[skip:], max(0, skip - len(chunk))
                            if not chunk:
                                continue
                        had = len(live.data)
                        try:
                            progress.feed(chunk, live)
                        except CorruptSegment as exc:
                            raise _Failed(Cause.CORRUPT, exc.message, 0.0,
                                          "last_byte") from None
                        if not had and live.data:
                            self._stage("seg_first_plain", index)
                        received += len(chunk)
                        last_byte = self._clock()
                        deadline.reschedule(loop.time() + self.stall_timeout_s(edge))
                        if (total is not None
                                and last_byte - last_progress >= self.config.progress_interval_s):
                            last_progress = last_byte
                            if rung < 0:
                                continue
                            self._progress(rung, progress.fetched, total, last_byte - start,
                                           received, ttfb, live)
                            self._check_pace(edge, received, last_byte - start - ttfb)
        except _UseWhole as use:
            return await self._from_whole(use.whole, edge, segment, index, rung, rendition,
                                          progress, live, failovers, init)
        except TimeoutError:
            now = self._clock()
            if ttfb is None:
                raise _Failed(Cause.TTFB_TIMEOUT, f"no answer in {ttfb_timeout:.2f} s",
                              now - start) from None
            raise _Failed(Cause.STALL, f"no byte for {now - last_byte:.2f} s after "
                          f"{progress.fetched} bytes", now - last_byte, "last_byte") from None
        except httpx.TimeoutException as exc:
            raise _Failed(Cause.TTFB_TIMEOUT if ttfb is None else Cause.STALL, _describe(exc),
                          self._clock() - start) from None
        except httpx.TransportError as exc:
            now = self._clock()
            if ttfb is None:
                raise _Failed(Cause.REFUSED, _describe(exc), now - start) from None
            raise _Failed(Cause.TRUNCATED, f"{_describe(exc)} after {progress.fetched} bytes",
                          now - last_byte, "last_byte") from None
        end = self._clock()
        self._stage("seg_body", index)
        if total is not None and progress.fetched < total:
            raise _Failed(Cause.TRUNCATED, f"{progress.fetched} of {total} bytes",
                          end - last_byte, "last_byte")
        data = await self._seal(segment, index, progress, live, last_byte, init)
        seconds = end - start
        self.pool.report_success(edge, received, seconds)
        if rung >= 0:
            self._policy.on_download_complete(rung, received, seconds, ttfb, end)
        net_log.debug("segment %d %s from %s: %d bytes in %.0f ms (ttfb %.0f ms)", index,
                      rendition, edge, received, seconds * 1000, ttfb * 1000)
        return Fetched(index, rung, rendition, data, edge, received, seconds, ttfb, failovers,
                       offset)

    def _check_pace(self, edge: str, received: int, body_s: float) -> None:
        """Leave an edge whose body comes slower than the lowest rendition plays, when another
        edge is healthy (the bytes so far are kept: Range resume)."""
        floor = self.pool.useful_bps
        if floor is None or body_s < self.config.slow_check_after_s:
            return
        rate = received * 8 / body_s
        if rate >= floor or not self.pool.healthy_other_than(edge):
            return
        self.pool.report_throughput(edge, received, body_s)
        raise _Failed(Cause.SLOW, f"{rate / 1000:.0f} kbit/s, under the lowest rendition's "
                      f"{floor / 1000:.0f} kbit/s", body_s, "request")

    async def _seal(self, segment: Segment, index: int, progress: _Progress, live: LiveSegment,
                    last_byte: float, init: InitInfo | None) -> bytes:
        """The last bytes through the decryptor, the plaintext length checked: the segment."""
        try:
            if progress.decryptor is None:  # the key was not at hand yet
                progress.decryptor = await self._decryptor.stream(segment, init)
                progress.feed(b"", live)
            live.append(progress.decryptor.finish())
            if live.length is not None and live.length != live.received:
                raise CorruptSegment(f"{live.received} bytes of plaintext, not "
                                     f"{live.length}.")
        except CorruptSegment as exc:
            raise _Failed(Cause.CORRUPT, exc.message, self._clock() - last_byte,
                          "last_byte") from None
        data = live.seal()
        self._stage("seg_ready", index)
        return data

    def _gap(self, segment: Segment, index: int, rung: int, rendition: str, live: LiveSegment,
             edge: str) -> Fetched:
        """An EXT-X-GAP segment: nothing to request; an empty segment for mpv (it moves on to
        the next, whose timestamps keep the timeline)."""
        live.set_length(0)
        data = live.seal()
        net_log.debug("segment %d %s: EXT-X-GAP, not requested (%.1f s)", index, rendition,
                      segment.duration_s)
        return Fetched(index, rung, rendition, data, edge, 0, 0.0, 0.0, 0, 0)

    def _note_ignored_range(self, edge: str, url: str) -> None:
        """Log once per edge and URL that a server answers a Range with the whole body."""
        if (edge, url) not in self._ignored_range:
            self._ignored_range.add((edge, url))
            log.info("%s ignores Range on %s (answers 200): slicing the ranges from the "
                     "whole body", edge, url)

    async def _from_whole(self, whole: WholeFile, edge: str, segment: Segment, index: int,
                          rung: int, rendition: str, progress: _Progress, live: LiveSegment,
                          failovers: int, init: InitInfo | None) -> Fetched:
        """A byte-range segment sliced from the whole file its server sent (once)."""
        assert segment.byterange is not None
        first, length = segment.byterange
        offset = progress.fetched
        start = self._clock()
        waited = whole.received < first + length
        try:
            body = await whole.slice(first + offset, first + length)
            plain = plaintext_length(segment.key is not None, length, segment.container,
                                     injected_bytes(init))
            if plain is not None:
                live.set_length(plain)
            progress.feed(body, live)
        except WholeFileError as exc:
            raise _Failed(exc.cause, exc.detail, self._clock() - start) from None
        except CorruptSegment as exc:
            raise _Failed(Cause.CORRUPT, exc.message, 0.0, "last_byte") from None
        end = self._clock()
        self._stage("seg_body", index)
        data = await self._seal(segment, index, progress, live, end, init)
        seconds = end - start
        if waited and seconds > 0:  # bytes that came from the network meanwhile
            self._policy.on_download_complete(rung, len(body), seconds, 0.0, end)
        net_log.debug("segment %d %s from %s's whole file: %d bytes", index, rendition, edge,
                      len(body))
        return Fetched(index, rung, rendition, data, edge, len(body), seconds, 0.0, failovers,
                       offset)

    async def aclose(self) -> None:
        """Stop the whole-file downloads and drop their bodies (the owner calls this)."""
        await self._whole.close()

    def _progress(self, rung: int, so_far: int, total: int, elapsed_s: float, received: int,
                  ttfb_s: float, live: LiveSegment) -> None:
        now = self._clock()
        self._policy.on_progress(rung, so_far, total, elapsed_s, now)
        if live.handed_out:
            return  # mpv has some of these bytes: switching rendition now would cut it off
        lower = self._policy.should_abandon(rung, so_far, total, elapsed_s,
                                            self.buffer_level(), now)
        if lower is not None and lower < rung:
            self._policy.on_download_complete(rung, received, elapsed_s, ttfb_s, now)
            if live.edge:
                self.pool.report_throughput(live.edge, received, elapsed_s)
            raise _Abandon(lower)
