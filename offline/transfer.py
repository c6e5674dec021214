"""One running download: every part through the player's fetcher.

:func:`open_fetcher` builds the engine's :class:`~player.fetcher.SegmentFetcher` over the
playback answer's edges (its :class:`~player.edgepool.EdgePool`: health, circuit breakers,
ranking), with the adaptive TTFB and stall timeouts, Range resume, validation as the bytes
arrive (AES-128, TS framing, fMP4 boxes), URL refresh on ``403 url_expired`` and a reload of the
playback manifest when every edge failed: one fetcher and one failover for streaming and
downloads. No bitrate adaptation: a download's renditions are fixed (:class:`Steady`).

:class:`Transfer` runs a download's missing parts with ``parallel_segments`` in flight: a media
segment streams into its ``.part`` file (:class:`~offline.partfile.PartProgress`), which is then
fsynced, renamed and marked done with its size and SHA-256; an init segment (EXT-X-MAP) is
fetched from the best edge that serves it, sealed at rest and written the same way. When every
edge failed even after the manifest reload, back-off rounds (``retry_backoff_s`` doubling)
before the error. Subtitles (segmented WebVTT) come first, merged into one WebVTT file per
language (:func:`player.webvtt.merge_segments`).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
from collections.abc import Awaitable, Callable, Sequence

import httpx

from abr.interface import Decision
from offline.atrest import AtRest
from offline.journal import Download
from offline.library import OfflineLibrary
from offline.partfile import Counted, PartProgress
from offline.plan import Layout, MediaPart, Track
from offline.store import disk_full_error, is_disk_full
from player.decrypt import Decryptor, KeyCache
from player.edgepool import EdgePool, EdgePoolConfig
from player.errors import LicenseError, ManifestError, NoEdgeError
from player.fetchbase import Failed, UrlExpired, describe
from player.fetcher import SegmentFetcher
from player.keysource import CencKeys
from player.manifest import parse_media_playlist
from player.presentation import Multivariant
from player.webvtt import merge_segments

log = logging.getLogger("offline.download")

PATIENCE_S = 60.0
"""The buffer a download's timeouts are computed for (seconds): no one is watching, so the
fetcher may wait as long as its timeout rule ever allows before leaving an edge."""


class Steady:
    """The fetcher's ABR policy for downloads: the renditions are chosen once, never switched."""

    name = "download"

    def start(self, bitrates_bps: Sequence[int], segment_duration_s: float,
              segment_count: int | None = None, *, max_buffer_s: float | None = None,
              segment_sizes_bits: Sequence[Sequence[int]] | None = None) -> None:
        pass

    def on_download_complete(self, rung: int, bytes_: int, seconds: float, ttfb_s: float,
                             now_s: float) -> None:
        pass

    def on_progress(self, rung: int, bytes_so_far: int, total_bytes: int, elapsed_s: float,
                    now_s: float) -> None:
        pass

    def choose(self, segment_index: int, buffer_s: float, now_s: float,
               segment_bits: Sequence[int] | None = None) -> Decision:
        return Decision(0, "download")

    def should_abandon(self, rung: int, bytes_so_far: int, total_bytes: int, elapsed_s: float,
                       buffer_s: float, now_s: float) -> int | None:
        return None

    @property
    def estimate_bps(self) -> float | None:
        return None

    @property
    def max_rung(self) -> int | None:
        return None

    @max_rung.setter
    def max_rung(self, rung: int | None) -> None:
        pass


def open_fetcher(http: httpx.AsyncClient, multivariant: Multivariant,
                 reload: Callable[[], Awaitable[Multivariant]],
                 content_key: bytes | None,
                 key_ids: Sequence[bytes] = ()) -> SegmentFetcher:
    """The engine's fetcher over ``multivariant``'s edges; ``content_key`` decrypts AES-128
    segments (None: none may be fetched yet, only playlists), and CENC fragments under each of
    ``key_ids`` (the license's KIDs), so that every fragment is checked as it is stored."""

    async def key(uri: str) -> bytes:
        if content_key is None:
            raise LicenseError("The download has no license yet.")
        return content_key

    pool = EdgePool.from_multivariant(multivariant, http, config=EdgePoolConfig())
    cenc = CencKeys({kid: content_key for kid in key_ids} if content_key is not None else {})
    return SegmentFetcher(http, pool, multivariant, Decryptor(KeyCache(key), cenc), Steady(),
                          buffer_s=lambda: PATIENCE_S, refresh_urls=reload,
                          reload_manifest=reload)


class Transfer:
    """The missing parts of ``download`` through ``fetcher`` into the library's store.

    ``reload()`` fetches new signed URLs; ``going(d)`` raises to stop between parts (paused,
    deleted, disk or quota full); ``on_bytes(d, n, in_part)`` hears of every chunk;
    ``on_part(d)`` of every part done."""

    def __init__(self, library: OfflineLibrary, download: Download, fetcher: SegmentFetcher,
                 layout: Layout, seal: AtRest, *, reload: Callable[[], Awaitable[Multivariant]],
                 going: Callable[[Download], None],
                 on_bytes: Callable[[Download, int, int], None],
                 on_part: Callable[[Download], None]) -> None:
        self.library = library
        self.config = library.config
        self.d = download
        self.fetcher = fetcher
        self.layout = layout
        self.seal = seal
        self.reload = reload
        self.going = going
        self.on_bytes = on_bytes
        self.on_part = on_part

    async def run(self) -> None:
        await self.subtitles()
        todo = [s.index for s in self.library.journal.segments(self.d.id) if not s.done]
        queue: asyncio.Queue[int] = asyncio.Queue()
        for index in todo:
            queue.put_nowait(index)

        async def worker() -> None:
            while True:
                try:
                    index = queue.get_nowait()
                except asyncio.QueueEmpty:
                    return
                self.going(self.d)
                await self.part(index)
                self.on_part(self.d)

        workers = [asyncio.ensure_future(worker())
                   for _ in range(max(1, min(self.config.parallel_segments, len(todo))))]
        try:
            await asyncio.gather(*workers)
        finally:
            for w in workers:
                w.cancel()
            await asyncio.gather(*workers, return_exceptions=True)

    async def part(self, index: int) -> None:
        track, media = self.layout.find(index)
        rounds = 0
        while True:
            try:
                if media is None:
                    await self._init(track, index)
                else:
                    await self._media(track, media)
                return
            except NoEdgeError:
                rounds += 1
                if rounds > self.config.retry_rounds:
                    raise
                delay = min(30.0, self.config.retry_backoff_s * 2 ** (rounds - 1))
                log.warning("download %s part %d: every edge failed; again in %.0f s",
                            self.d.id, index, delay)
                await asyncio.sleep(delay)

    async def _media(self, track: Track, media: MediaPart) -> None:
        store, d = self.library.store, self.d
        path = store.part_path(d.id, media.part)
        in_part = 0

        def heard(size: int) -> None:
            nonlocal in_part
            in_part += size
            self.on_bytes(d, size, in_part)

        progress = PartProgress(path, (self.seal, media.part) if track.sealed else None, heard)
        try:
            await asyncio.to_thread(progress.open)
            await self.fetcher.fetch(media.segment, -1, Counted(media.segment),
                                     rendition=track.rendition, progress=progress)
            progress.close()  # writes what is buffered: a full disk can show here too
        except OSError as exc:
            # Measured before the part is dropped (which frees room again): the true free space.
            full = disk_full_error(path.parent) if is_disk_full(exc) else None
            with contextlib.suppress(OSError):  # its last write may fail too: it is dropped
                progress.close()
            path.unlink(missing_ok=True)
            if full is not None:
                raise full from None
            raise
        finally:
            progress.close()
        await asyncio.to_thread(store.finish_part, d.id, media.part)
        self.library.journal.segment_done(d.id, media.part, progress.size,
                                          progress.digest.hexdigest())

    async def _init(self, track: Track, part: int) -> None:
        """An init segment (EXT-X-MAP) from the best edge that serves it, sealed at rest."""
        fetcher, d = self.fetcher, self.d
        first = track.init_segment(part)
        assert first is not None
        failures: dict[str, str] = {}
        for status in fetcher.pool.ordered():
            edge = status.name
            seen = fetcher.playlists.generation
            try:
                segment = await fetcher.playlists.segment(edge, track.rendition, first)
                if segment.init is None:
                    raise ManifestError(f"{track.rendition} segment {first} has no EXT-X-MAP.")
                data, _ = await fetcher.init_segment(edge, track.rendition, segment.init)
                break
            except Failed as exc:
                fetcher.pool.report_failure(edge, exc.describe(), hard=exc.cause.hard)
                failures[edge] = exc.describe()
            except UrlExpired:
                failures[edge] = "url_expired"
                await fetcher.playlists.refresh(seen, self.reload)
            except ManifestError as exc:
                failures[edge] = exc.message
        else:
            raise NoEdgeError(failures)
        sealed = self.seal.apply(data, 0, part)
        store = self.library.store
        await asyncio.to_thread(store.write_file, store.segment_path(d.id, part), sealed)
        self.library.journal.segment_done(d.id, part, len(sealed),
                                          hashlib.sha256(sealed).hexdigest())
        self.on_bytes(d, len(data), 0)

    async def subtitles(self) -> None:
        """Every subtitle language of the rendition, from the best edge that serves it."""
        mv = self.fetcher.playlists.multivariant
        store, d = self.library.store, self.d
        pool = self.fetcher.pool

        def group_of(pathway: str) -> str:
            try:
                return mv.pathway(pathway).variant(d.rendition).subtitles_group or ""
            except KeyError:
                return mv.pathway(pathway).variants[0].subtitles_group or ""

        languages: list[str] = []
        for pathway in mv.pathways:
            languages += [s.language for s in mv.subtitles.get(group_of(pathway.id), ())
                          if s.language and s.language not in languages]
        for language in languages:
            path = store.subtitle_path(d.id, language)
            if path.exists():
                continue
            for status in pool.ordered():
                rendition = next((s for s in mv.subtitles.get(group_of(status.name), ())
                                  if s.language == language and s.uri), None)
                if rendition is None or rendition.uri is None:
                    continue
                try:
                    text = await self.fetcher.fetch_playlist_text(status.name, rendition.uri)
                    parts = [await self.fetcher.fetch_playlist_text(status.name, segment.uri)
                             for segment in parse_media_playlist(text, rendition.uri).segments]
                    await asyncio.to_thread(store.write_file, path,
                                            merge_segments(parts).encode())
                    break
                except (Failed, UrlExpired, ManifestError) as exc:
                    log.info("subtitles %s from %s failed: %s", language, status.name,
                             describe(exc))
