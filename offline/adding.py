"""Adding a download (part of :class:`~offline.downloader.DownloadManager`): the license, the
rung and audio renditions, the space checks, and the layout of its parts in the journal."""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Sequence
from typing import Any

import httpx

from offline.errors import OfflineError
from offline.journal import Download
from offline.library import OfflineConfig
from offline.license import verify
from offline.licensing import Licensing
from offline.plan import AUDIO_PREFIX, Layout, Track, choose_audio, choose_rung, track_of
from offline.store import free_bytes, size_text
from offline.transfer import open_fetcher
from player.api.models import Playback
from player.fetcher import SegmentFetcher
from player.manifest import parse_multivariant
from player.presentation import MediaPlaylist, Multivariant

log = logging.getLogger("offline.download")


class Adding(Licensing):
    config: OfflineConfig

    @property
    def http(self) -> httpx.AsyncClient:
        raise NotImplementedError

    def check_not_owned(self, d: Download) -> None:
        raise NotImplementedError

    def _event(self, d: Download, *, force: bool = False, live: int = 0) -> None:
        raise NotImplementedError

    async def add(self, title_id: str, profile_id: str, *, quality: str | int | None = None,
                  audio: Sequence[str] | None = None) -> Download:
        """Get the license and lay the download out in the journal (state ``queued``).
        ``audio``: the languages of separate audio renditions to download (None: all)."""
        lib = self.library
        existing = lib.for_title(title_id)
        if existing is not None and existing.state == "completed":
            raise OfflineError(f"{existing.title_name} is already downloaded.",
                               code="already_downloaded")
        if existing is not None and existing.state != "failed":
            self.check_not_owned(existing)
            log.info("download %s (%s, %s): not running anywhere: resuming it", existing.id,
                     existing.title_name, existing.state)
            return existing
        device_key = lib.device_key()
        public_key = await self.pin_license_key()
        title = await self.cp.title(title_id, profile_id)
        playback = await self.cp.start_playback(title_id, profile_id)
        mv = await self.multivariant_of(playback)

        async def reload() -> Multivariant:
            return await self.multivariant_of(await self.cp.start_playback(title_id, profile_id))

        fetcher = open_fetcher(self.http, mv, reload, None)
        try:
            rung, layout = await self._plan(fetcher, mv, title, playback, quality, audio)
        finally:
            await fetcher.aclose()
        variant = mv.pathway(mv.default_pathway).variants[rung]
        height = variant.resolution[1] if variant.resolution else None
        signed = await self.cp.issue_offline_license(title_id, profile_id)
        await self._observe()
        lic = verify(signed, public_key)
        device_key.unwrap(lic.wrapped_key, lic.license_id)  # this device can use it
        creds = self.cp.credentials
        video = layout.video
        audio_languages = ([t.language or t.name for t in layout.audio] if layout.separate_audio
                           else playback.raw.get("audio") or title.get("audio_languages") or [])
        download = Download(
            id=f"dl_{uuid.uuid4().hex[:12]}", title_id=title_id,
            title_name=str(title.get("name") or title_id), profile_id=profile_id,
            account_id=creds.account_id if creds else lic.account_id,
            device_id=lic.device_id, service=self.service, rung=rung,
            rendition=variant.rendition_id, bandwidth_bps=variant.bandwidth_bps,
            state="queued", error_code=None, error=None,
            duration_s=sum(m.duration_s for m in video.media), created_at=time.time(),
            completed_at=None, license=lic.to_json(), license_id=lic.license_id,
            expires_at=lic.expires_at, first_played_at=None, position_s=0.0,
            info={"audio": audio_languages,
                  "subtitles": playback.raw.get("subtitles") or [],
                  "year": title.get("year"), "maturity_rating": title.get("maturity_rating"),
                  "genres": title.get("genres"), "synopsis": title.get("synopsis"),
                  "poster_url": title.get("poster_url"),
                  "media_sequence": video.media_sequence, "encrypted": video.encrypted,
                  "bitrate_bps": variant.bandwidth_bps, "height": height,
                  "codecs": variant.codecs, "layout": layout.to_json()})
        lib.store.prepare(download.id)
        lib.add(download, layout.durations())
        log.info("download %s: %s, rung %d (%s, %s), %d parts, audio %s, license %s",
                 download.id, download.title_name, rung, download.rendition, video.container,
                 len(layout.durations()), audio_languages, lic.license_id)
        self._event(lib.get(download.id), force=True)
        return lib.get(download.id)

    async def multivariant_of(self, playback: Playback) -> Multivariant:
        inline = playback.multivariant_playlist
        if inline is not None:
            return parse_multivariant(inline, playback.manifest_url)
        return parse_multivariant(await self.cp.fetch_text(playback.manifest_url),
                                  playback.manifest_url)

    async def _plan(self, fetcher: SegmentFetcher, mv: Multivariant, title: dict[str, Any],
                    playback: Playback, quality: str | int | None,
                    languages: Sequence[str] | None) -> tuple[int, Layout]:
        """The rung (within the disk, the quota and the per-title budget) and the layout."""
        lib = self.library
        variants = mv.pathway(mv.default_pathway).variants
        bitrates = [v.bandwidth_bps for v in variants]
        heights = [v.resolution[1] if v.resolution else None for v in variants]
        duration_s = float(title.get("duration_s") or playback.duration_s or 0.0)
        disk_free = free_bytes(lib.store.root)
        free = disk_free - self.config.min_free_bytes
        quota_left = (self.config.quota_bytes - lib.used_bytes()
                      if self.config.quota_bytes is not None else free)
        budget = min(self.config.title_budget_bytes, free, quota_left)
        try:
            rung = choose_rung(bitrates, duration_s, max(budget, 0), quality, heights)
        except ValueError as exc:
            raise OfflineError(f"Unknown quality: {exc}.", code="bad_quality") from None
        name = title.get("name")
        estimate = int(bitrates[rung] * duration_s / 8)
        if estimate > free:
            raise OfflineError(f"There is not enough free disk space for {name} "
                               f"(about {estimate / 1e6:.0f} MB needed, "
                               f"{size_text(disk_free)} free, of which "
                               f"{size_text(self.config.min_free_bytes)} stays spare). Free "
                               "some space or choose a lower quality.", code="disk_full")
        if estimate > quota_left:
            raise OfflineError(f"{name} (about {estimate / 1e6:.0f} MB) does not "
                               f"fit the download quota ({max(quota_left, 0) / 1e6:.0f} MB "
                               "left). Delete a download, raise the quota in Settings, or choose "
                               "a lower quality.", code="quota")
        variant = variants[rung]
        video, part = track_of("video", variant.rendition_id,
                               self._finished(await fetcher.timeline_of(variant.rendition_id)),
                               0)
        tracks: list[Track] = [video]
        separate = [r for r in mv.audio.get(variant.audio_group or "", ()) if r.uri is not None]
        for rendition in choose_audio(separate, languages) if separate else ():
            rendition_id = AUDIO_PREFIX + rendition.key
            track, part = track_of("audio", rendition_id,
                                   self._finished(await fetcher.timeline_of(rendition_id)),
                                   part, rendition)
            tracks.append(track)
        return rung, Layout(tuple(tracks), bool(separate))

    @staticmethod
    def _finished(playlist: MediaPlaylist) -> MediaPlaylist:
        if not playlist.endlist or not playlist.segments:
            raise OfflineError("This title is not a finished video (a live or empty "
                               "playlist), so it cannot be downloaded.", code="manifest")
        return playlist
