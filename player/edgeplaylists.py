"""The media playlists, timelines and init segments the fetcher reads from the edges.

:class:`EdgePlaylists` fetches a pathway's media playlist for
:class:`~player.failover.PathwayPlaylists` (bounded: size, read deadline, segment count; the same
adaptive timeouts and failure causes as a segment), a rendition's timeline from the best edge
that answers (once every edge timed out, one more round with patient timeouts), and EXT-X-MAP
init segments (checked, cached: they are the same on every edge).
"""

from __future__ import annotations

import asyncio
import contextlib

import httpx

from player.bounded import InputTooLarge, check_segment_count, get_bounded
from player.cenc_init import read_init
from player.errors import ManifestError, NoEdgeError
from player.failover import Cause
from player.fetchbase import LAST_RESORT, Failed, FetcherBase, UrlExpired, describe
from player.fmp4 import InitInfo, MediaFormatError
from player.presentation import InitSection, MediaPlaylist
from player.wholefile import WholeFile, WholeFileError, range_mismatch

MAX_INIT_BYTES = 16 * 1024 * 1024
"""Largest init segment (EXT-X-MAP) read (bytes): a ``moov`` of a fragmented stream is a few KB;
a server that sends more is cut off with a clear error."""


class EdgePlaylists(FetcherBase):
    """Media playlists, timelines and init segments from the edges (part of
    :class:`~player.fetcher.SegmentFetcher`)."""

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
        token = LAST_RESORT.set(False)
        try:
            return await self._timeline(rendition, rounds)
        finally:
            LAST_RESORT.reset(token)

    async def _timeline(self, rendition: str, rounds: list[tuple[str, bool]]) -> MediaPlaylist:
        failures: dict[str, str] = {}
        too_large: list[InputTooLarge] = []
        refreshed = False
        for edge, patient in rounds:
            if patient and not all(f.startswith(Cause.TTFB_TIMEOUT.label)
                                   for f in failures.values()):
                break
            LAST_RESORT.set(patient)
            for _ in range(2):
                seen = self.playlists.generation
                try:
                    return await self.playlists.playlist(edge, rendition)
                except UrlExpired:
                    if refreshed or self._refresh_urls is None:
                        failures[edge] = "url_expired"
                        break
                    refreshed = True
                    await self.playlists.refresh(seen, self._refresh_urls)
                except Failed as exc:
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
            raise Failed(Cause.TTFB_TIMEOUT, f"playlist: no answer in {timeout:.2f} s",
                         self._clock() - start) from None
        except httpx.TransportError as exc:
            raise Failed(Cause.REFUSED, f"playlist: {describe(exc)}",
                         self._clock() - start) from None
        self._check_status(response.status_code, response.content, start)
        text = response.text
        check_segment_count(text, url, config.max_playlist_segments)
        return text


    async def init_segment(self, edge: str, rendition: str,
                           section: InitSection) -> tuple[bytes, InitInfo]:
        """The init segment ``section`` of ``rendition`` from ``edge`` (cached: it is the same on
        every edge), checked (a ``moov``); :class:`Failed` like a segment."""
        name = section.uri.rsplit("/", 1)[-1].partition("?")[0]
        key = (rendition, name, section.byterange)
        if key in self._init_cache:
            return self._init_cache[key]
        # One request per init segment: the scheduler's fetch and the bridge's (mpv's first
        # read) often ask at once; the second waits for the first's answer.
        async with self._init_locks.setdefault(key, asyncio.Lock()):
            if key in self._init_cache:
                return self._init_cache[key]
            start = self._clock()
            data = await self._init_body(edge, section, start)
            try:
                data, info = read_init(data)  # CENC: the clear-signalled init goes to mpv
            except MediaFormatError as exc:
                raise Failed(Cause.CORRUPT, f"init segment: {exc.message}",
                             self._clock() - start) from None
            self._init_cache[key] = (data, info)
            self.inits.setdefault(rendition, data)
            return data, info

    async def _init_body(self, edge: str, section: InitSection, start: float) -> bytes:
        """The init segment's bytes: at most ``MAX_INIT_BYTES``; a byte range from a server
        that ignores Range is sliced from the whole-file download its segments share."""
        headers = {"Accept-Encoding": "identity"}
        first, end = 0, MAX_INIT_BYTES
        if section.byterange is not None:
            first, length = section.byterange
            end = first + length
            if length > MAX_INIT_BYTES:
                raise Failed(Cause.CORRUPT, f"init segment: a {length}-byte range, over the "
                             f"{MAX_INIT_BYTES}-byte limit", 0.0)
            whole = self._whole.get(section.uri)
            if whole is not None:
                return await self._init_from_whole(whole, first, end, start)
            headers["Range"] = f"bytes={first}-{end - 1}"
        timeout = self.ttfb_timeout_s(edge) + self.stall_timeout_s(edge)
        body = bytearray()
        try:
            async with asyncio.timeout(timeout), contextlib.AsyncExitStack() as stack:
                response = await stack.enter_async_context(self._http.stream(
                    "GET", section.uri, headers=headers,
                    timeout=self.config.max_timeout_s * 2))
                status = response.status_code
                if status >= 400:
                    self._check_status(status, await response.aread(), start)
                if section.byterange is not None and status == 206:
                    mismatch = range_mismatch(response.headers.get("Content-Range"),
                                              first, end - 1)
                    if mismatch is not None:
                        raise Failed(Cause.BAD_RANGE, f"init segment: {mismatch}",
                                     self._clock() - start)
                if section.byterange is not None and status == 200:
                    self._note_ignored_range(edge, section.uri)
                    whole = await self._whole.adopt(section.uri, edge, stack.pop_all(),
                                                    response)
                    return await self._init_from_whole(whole, first, end, start)
                async for chunk in response.aiter_bytes():
                    body += chunk
                    if len(body) > MAX_INIT_BYTES:
                        raise Failed(Cause.CORRUPT, "init segment: over the "
                                     f"{MAX_INIT_BYTES}-byte limit", self._clock() - start)
        except TimeoutError:
            raise Failed(Cause.TTFB_TIMEOUT, f"init segment: no answer in {timeout:.2f} s",
                         self._clock() - start) from None
        except httpx.TransportError as exc:
            raise Failed(Cause.REFUSED, f"init segment: {describe(exc)}",
                         self._clock() - start) from None
        return bytes(body)

    async def _init_from_whole(self, whole: WholeFile, first: int, end: int,
                               start: float) -> bytes:
        try:
            return await whole.slice(first, end)
        except WholeFileError as exc:
            raise Failed(exc.cause, f"init segment: {exc.detail}", self._clock() - start) \
                from None

    async def init_for(self, rendition: str) -> bytes:
        """``rendition``'s (first) init segment from the best edge that serves it (the bridge
        hands it to mpv once); :class:`NoEdgeError` if none does."""
        if rendition in self.inits:
            return self.inits[rendition]
        failures: dict[str, str] = {}
        # Two rounds, like a segment: the second with the last-resort timeouts (a slow start on a
        # loaded machine is not a dead edge; with one server there is no other edge to try).
        for last_resort in (False, True):
            token = LAST_RESORT.set(last_resort)
            try:
                for status in self.pool.ordered():
                    try:
                        playlist = await self.playlists.playlist(status.name, rendition)
                        section = playlist.segments[0].init
                        if section is None:
                            raise ManifestError(f"{rendition} has no init segment (EXT-X-MAP).")
                        return (await self.init_segment(status.name, rendition, section))[0]
                    except Failed as exc:
                        self.pool.report_failure(status.name, exc.describe(),
                                                 hard=exc.cause.hard)
                        failures[status.name] = exc.describe()
                    except (UrlExpired, ManifestError) as exc:
                        failures[status.name] = describe(exc)
            finally:
                LAST_RESORT.reset(token)
        raise NoEdgeError(failures)
