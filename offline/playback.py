"""Play a finished download through the engine, with no control plane and no edge.

:class:`LocalEdge` serves the download over loopback HTTP as if it were one edge: a
multivariant playlist with the downloaded rendition (and its subtitles), its media playlist
with ``EXT-X-KEY:METHOD=AES-128`` (and ``EXT-X-MAP`` for fMP4), the chosen separate audio
renditions, and the parts: AES-128 segments exactly as stored, parts sealed at rest
(:mod:`offline.atrest`) opened in memory; each checked against the journal's SHA-256 as it is
read (a changed file answers ``500 tampered`` and is remembered).
:class:`OfflineSession` is a :class:`player.session.PlaybackSession` whose start
runs the license checks (pinned signature, trusted time, expiry, viewing window, device key)
and starts the local edge instead of asking the control plane, and whose keys are the unwrapped
content key: the same scheduler, decryption and bridge to mpv as streaming. The position goes
to the journal (offline resume) and, when given, to the progress outbox (:mod:`player.sync`),
which the control plane hears about once the device is online.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import logging
import math
import secrets
import uuid
from typing import Any

from offline.atrest import AtRest
from offline.errors import OfflineError
from offline.journal import Download, SegmentRow
from offline.library import OfflineLibrary
from offline.plan import Layout, Track
from offline.store import damaged
from player.api.models import Playback
from player.errors import PlayerError
from player.http_loopback import ClientGone, LoopbackHttpServer, Request, Response
from player.mpv_seam import MpvLike
from player.session import PlaybackSession, SessionConfig
from player.sync.reporter import ProgressSink

log = logging.getLogger("offline.play")

PLAYLIST = "application/vnd.apple.mpegurl"


def _attr(value: str) -> str:
    return value.replace('"', "'")


CONTENT_TYPES = {".ts": "video/mp2t", ".m4s": "video/iso.segment", ".mp4": "video/mp4",
                 ".aac": "audio/aac", ".adts": "audio/aac", ".ac3": "audio/ac3",
                 ".ec3": "audio/eac3", ".eac3": "audio/eac3", ".mp3": "audio/mpeg"}
INIT_EXT = ".mp4"


class LocalEdge:
    """One download served on 127.0.0.1 behind an unguessable path token."""

    def __init__(self, library: OfflineLibrary, download: Download,
                 content_key: bytes | None = None) -> None:
        self.library = library
        self.download = download
        self.segments: list[SegmentRow] = library.journal.segments(download.id)
        self._rows = {row.index: row for row in self.segments}
        self.layout = Layout.of(download.info, download.rendition,
                                [s.duration_s for s in self.segments])
        self._seal = AtRest(content_key, download.id) if content_key is not None else None
        self.damaged: list[int] = []
        """Parts that failed their check while playing."""
        self._token = secrets.token_urlsafe(18)
        self._server = LoopbackHttpServer(self._handle)
        self.base = ""
        folder = library.store.folder(download.id) / "sub"
        self.languages = sorted(p.stem for p in folder.glob("*.vtt")) if folder.is_dir() else []
        """The subtitle languages downloaded (one WebVTT file each)."""

    async def start(self) -> str:
        port = await self._server.start()
        self.base = f"http://127.0.0.1:{port}/{self._token}"
        return self.master_url

    async def close(self) -> None:
        await self._server.close()

    @property
    def master_url(self) -> str:
        return f"{self.base}/master.m3u8"

    @property
    def durations_s(self) -> tuple[float, ...]:
        """The video segments' durations (the timeline)."""
        return tuple(m.duration_s for m in self.layout.video.media)

    def _path(self, track: Track) -> str:
        if track.kind == "video":
            return f"{self.download.rendition}/media.m3u8"
        return f"audio{self.layout.audio.index(track)}/media.m3u8"

    def multivariant(self) -> str:
        d, layout = self.download, self.layout
        lines = ["#EXTM3U", "#EXT-X-VERSION:6"]
        audio = layout.audio
        default = next((t for t in audio if t.default), audio[0] if audio else None)
        for track in audio:
            name = _attr(track.name or track.language or "audio")
            attrs = [f'TYPE=AUDIO,GROUP-ID="aud",NAME="{name}"']
            if track.language:
                attrs.append(f'LANGUAGE="{_attr(track.language)}"')
            attrs.append(f"DEFAULT={'YES' if track is default else 'NO'},AUTOSELECT=YES")
            if track.channels:
                attrs.append(f'CHANNELS="{_attr(track.channels)}"')
            attrs.append(f'URI="{self._path(track)}"')
            lines.append(f"#EXT-X-MEDIA:{','.join(attrs)}")
        for lang in self.languages:
            lines.append(f'#EXT-X-MEDIA:TYPE=SUBTITLES,GROUP-ID="subs",LANGUAGE="{_attr(lang)}",'
                         f'NAME="{_attr(lang)}",AUTOSELECT=YES,URI="sub/{lang}.m3u8"')
        attrs = [f"BANDWIDTH={d.bandwidth_bps}"]
        height = d.info.get("height")
        if isinstance(height, int):
            attrs.append(f"RESOLUTION={height * 16 // 9}x{height}")
        codecs = d.info.get("codecs")
        if isinstance(codecs, str) and codecs:
            attrs.append(f'CODECS="{_attr(codecs)}"')
        if audio:
            attrs.append('AUDIO="aud"')
        if self.languages:
            attrs.append('SUBTITLES="subs"')
        lines += [f"#EXT-X-STREAM-INF:{','.join(attrs)}", self._path(layout.video)]
        return "\n".join(lines) + "\n"

    def media_playlist(self, track: Track | None = None) -> str:
        track = track or self.layout.video
        target = max((math.ceil(m.duration_s) for m in track.media), default=1)
        lines = ["#EXTM3U", f"#EXT-X-VERSION:{6 if track.inits else 3}",
                 f"#EXT-X-TARGETDURATION:{target}",
                 f"#EXT-X-MEDIA-SEQUENCE:{track.media_sequence}", "#EXT-X-PLAYLIST-TYPE:VOD"]
        if track.encrypted and not track.cenc:  # CENC: the init's tenc, the session's keys
            iv = f",IV=0x{track.iv}" if track.iv else ""
            lines.append(f'#EXT-X-KEY:METHOD=AES-128,URI="key"{iv}')
        init: int | None = None
        for m in track.media:
            if m.init is not None and m.init != init:
                init = m.init
                lines.append(f'#EXT-X-MAP:URI="{self.base}/p/{init}{INIT_EXT}"')
            lines += [f"#EXTINF:{m.duration_s:.6f},", f"{self.base}/p/{m.part}{track.ext}"]
        lines.append("#EXT-X-ENDLIST")
        return "\n".join(lines) + "\n"

    def subtitle_playlist(self, lang: str) -> str:
        duration = self.download.duration_s
        return ("#EXTM3U\n#EXT-X-VERSION:3\n"
                f"#EXT-X-TARGETDURATION:{math.ceil(duration)}\n#EXT-X-MEDIA-SEQUENCE:0\n"
                f"#EXT-X-PLAYLIST-TYPE:VOD\n#EXTINF:{duration:.3f},\n{lang}.vtt\n"
                "#EXT-X-ENDLIST\n")

    async def _handle(self, request: Request, client: ClientGone) -> Response:
        _, token, rest = [*request.target.split("/", 2), "", ""][:3]
        if not secrets.compare_digest(token.encode(), self._token.encode()):
            return Response(200 if request.target == "/health" else 404)
        if request.method not in ("GET", "HEAD"):
            return Response(405, headers={"Allow": "GET, HEAD"})
        d = self.download
        if rest == "master.m3u8":
            return Response(200, self.multivariant().encode(), PLAYLIST)
        for track in self.layout.tracks:
            if rest == self._path(track):
                return Response(200, self.media_playlist(track).encode(), PLAYLIST)
        if rest.startswith("p/"):
            number, dot, ext = rest[2:].partition(".")
            if not number.isdigit() or int(number) not in self._rows:
                return Response(404)
            return await self._part(int(number), dot + ext)
        for lang in self.languages:
            if rest == f"sub/{lang}.m3u8":
                return Response(200, self.subtitle_playlist(lang).encode(), PLAYLIST)
            if rest == f"sub/{lang}.vtt":
                path = self.library.store.subtitle_path(d.id, lang)
                return Response(200, await asyncio.to_thread(path.read_bytes), "text/vtt")
        return Response(404)

    async def _part(self, index: int, ext: str) -> Response:
        row = self._rows[index]
        try:
            data = await asyncio.to_thread(self.library.store.read_segment, self.download.id,
                                           index, row.size, row.sha256)
        except OfflineError as exc:
            if index not in self.damaged:
                self.damaged.append(index)
            log.warning("offline %s: part %d failed its check", self.download.id, index)
            body = json.dumps({"error": exc.code, "message": exc.message}).encode()
            return Response(500, body, "application/json")
        if self.layout.sealed(index):
            if self._seal is None:
                return Response(500, b'{"error": "no_key"}', "application/json")
            data = self._seal.apply(data, 0, index)
        return Response(200, data, CONTENT_TYPES.get(ext, "application/octet-stream"),
                        ranges=True)


class _Position:
    """Positions to the journal (offline resume) and on to the outbox's reporter."""

    def __init__(self, library: OfflineLibrary, download_id: str,
                 then: ProgressSink | None) -> None:
        self.library = library
        self.download_id = download_id
        self.then = then

    def report(self, position_s: float, duration_s: float | None, event: str) -> bool:
        self.library.journal.set_position(self.download_id, position_s)
        return self.then.report(position_s, duration_s, event) if self.then else True


class OfflineSession(PlaybackSession):
    """A :class:`player.session.PlaybackSession` over a finished download: ``await play()``
    checks the license and the files (raising :class:`offline.errors.OfflineError` with what
    to do), starts the local edge and plays; ``await stop()`` also closes the edge.
    :meth:`explain` turns a failure into the download's terms (a damaged file, not "no edge")."""

    def __init__(self, library: OfflineLibrary, download: Download, mpv: MpvLike, *,
                 config: SessionConfig | None = None, progress: ProgressSink | None = None,
                 start_over: bool = False, **kwargs: Any) -> None:
        self.library = library
        self.download = download
        self.start_over = start_over
        self.edge: LocalEdge | None = None
        self._content_key: bytes | None = None
        super().__init__(None, download.title_id, download.profile_id, mpv,
                         config=config or SessionConfig(post_telemetry=False),
                         url=f"offline:{download.id}", playback=self._prepare,
                         keys=self._key, progress=progress, **kwargs)

    @property
    def progress(self) -> ProgressSink | None:
        """Positions go to the journal (offline resume), then on to this sink (the outbox)."""
        return self._position

    @progress.setter
    def progress(self, sink: ProgressSink | None) -> None:
        self._position = _Position(self.library, self.download.id, sink)

    async def _key(self, uri: str) -> bytes:
        assert self._content_key is not None
        return self._content_key

    async def _prepare(self) -> Playback:
        """The license checks and the local edge, in place of ``POST /v1/playback``."""
        lib, d = self.library, self.library.get(self.download.id)
        self.download = d
        self._content_key = await asyncio.to_thread(lib.content_key, d, first_play=True)
        rows = lib.journal.segments(d.id)
        missing = await asyncio.to_thread(
            lambda: [r.index for r in rows if not lib.store.segment_path(d.id, r.index).exists()])
        if missing:
            raise damaged(missing)
        kids = lib.license_of(d).key_ids
        if kids:  # CENC: the one title key under each KID the signed license names
            self.config = dataclasses.replace(
                self.config, clear_keys=tuple((kid, self._content_key) for kid in kids))
        edge = self.edge = LocalEdge(lib, lib.get(d.id), self._content_key)
        if edge.layout.separate_audio and not edge.layout.audio:
            raise OfflineError("This download has no sound: the title's audio is a separate "
                               "rendition that was not downloaded. Delete it and download it "
                               "again.", code="no_audio")
        url = await edge.start()
        durations = edge.durations_s
        resume = 0.0 if self.start_over else d.position_s
        if resume >= d.duration_s - 1.0:
            resume = 0.0
        raw: dict[str, Any] = {"audio": d.info.get("audio") or [],
                               "segment_container": edge.layout.video.container,
                               "subtitles": [{"language": lang} for lang in edge.languages]}
        log.info("offline play of %s from %s", d.title_name, url)
        return Playback(
            session_id=f"offline-{uuid.uuid4().hex[:12]}", title_id=d.title_id,
            manifest_url=url, steering_url=None, license_url="", resume_position_s=resume,
            duration_s=d.duration_s, segment_duration_s=max(durations), pathways=(),
            expires_at=None, raw=raw, multivariant_playlist=edge.multivariant(),
            segment_durations_s=durations)

    def explain(self, error: BaseException | None) -> PlayerError | None:
        """What went wrong, in the download's terms."""
        if self.edge is not None and self.edge.damaged:
            return damaged(sorted(self.edge.damaged))
        if isinstance(error, PlayerError):
            return error
        return self.error

    async def stop(self) -> None:
        try:
            await super().stop()
        finally:
            if self.edge is not None:
                await self.edge.close()
