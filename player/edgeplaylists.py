"""The media playlists, timelines and init segments the fetcher reads from the edges.

:class:`EdgePlaylists` fetches a pathway's media playlist for
:class:`~player.failover.PathwayPlaylists` (bounded: size, read deadline, segment count; the same
adaptive timeouts and failure causes as a segment), a rendition's timeline from the best edge
that answers (once every edge timed out, one more round with patient timeouts), and EXT-X-MAP
init segments (checked, cached: they are the same on every edge).
"""

from __future__ import annotations

import asyncio

import httpx

from player.bounded import InputTooLarge, check_segment_count, get_bounded
from player.errors import ManifestError, NoEdgeError
from player.failover import Cause
from player.fetchbase import LAST_RESORT, Failed, FetcherBase, UrlExpired, describe
from player.fmp4 import InitInfo, MediaFormatError, parse_init
from player.manifest import InitSection, MediaPlaylist


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
        headers = {"Accept-Encoding": "identity"}
        if section.byterange is not None:
            first, length = section.byterange
            headers["Range"] = f"bytes={first}-{first + length - 1}"
        start = self._clock()
        timeout = self.ttfb_timeout_s(edge) + self.stall_timeout_s(edge)
        body = bytearray()
        try:
            async with asyncio.timeout(timeout):
                async with self._http.stream("GET", section.uri, headers=headers,
                                             timeout=self.config.max_timeout_s * 2) as response:
                    status = response.status_code
                    # a server that ignores the Range sends the whole file (a DASH SegmentBase
                    # or single-file movie): read only up to the init's end
                    end = (sum(section.byterange) if section.byterange is not None
                           and status == 200 else None)
                    async for chunk in response.aiter_bytes():
                        body += chunk
                        if end is not None and len(body) >= end:
                            break
        except TimeoutError:
            raise Failed(Cause.TTFB_TIMEOUT, f"init segment: no answer in {timeout:.2f} s",
                         self._clock() - start) from None
        except httpx.TransportError as exc:
            raise Failed(Cause.REFUSED, f"init segment: {describe(exc)}",
                         self._clock() - start) from None
        self._check_status(status, bytes(body), start)
        data = bytes(body)
        if section.byterange is not None and status == 200:
            first, length = section.byterange  # the server ignored the Range: cut it out
            data = data[first:first + length]
        try:
            info = parse_init(data)
        except MediaFormatError as exc:
            raise Failed(Cause.CORRUPT, f"init segment: {exc.message}",
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
