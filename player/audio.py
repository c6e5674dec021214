"""Separate audio renditions (EXT-X-MEDIA TYPE=AUDIO with a URI), served to mpv as external
audio tracks.

libmpv's HLS demuxer (ffmpeg 5.1) opens the renditions of a multivariant playlist, but switching
to another one mid-play ends the file (the newly needed playlist reads as EOF). External audio
tracks switch cleanly: each is a demuxer of its own, and mpv seeks the new one to the playhead.
So each audio rendition of the variants' group is a loopback media playlist of its own,
``{token}/audio/{i}/media.m3u8`` (segments ``seg/{k}.{ext}``, fragmented MP4: ``init.mp4``),
the DEFAULT one handed to mpv with the ``audio-files`` option before ``loadfile`` (mpv opens
every audio-file before its first frame), the others with ``audio-add`` when first picked.
mpv's ``aid`` then picks the rendition; the engine fetches what mpv asks for.

Each :class:`AudioTrack` reads its own media playlist (its timeline may differ from the
video's) and fetches its segments with the player's :class:`~player.fetcher.SegmentFetcher`
(the same edges, failover, timeouts and checks; the ABR policy is not involved), a few segments
ahead of mpv's requests. A track that cannot be fetched ends the stream in error (the bridge's
``on_error``): audio that cannot be played is never a silent success.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
from collections.abc import Callable, Sequence
from typing import Any

from player.bridge import CONTENT_TYPES, INIT_PATH, PLAYLIST_TYPE, media_playlist
from player.errors import PlayerError
from player.failover import AUDIO_PREFIX
from player.fetcher import Fetched, SegmentFetcher
from player.http_loopback import ClientGone, Request, Response
from player.presentation import AudioRendition, Multivariant

log = logging.getLogger("player.audio")

_PATH = re.compile(r"(0|[1-9][0-9]{0,2})/(media\.m3u8|init\.mp4|seg/(0|[1-9][0-9]{0,8})\.\w+)")


class AudioTrack:
    """One separate audio rendition: its timeline and its segments, fetched ahead of mpv."""

    def __init__(self, fetcher: SegmentFetcher, rendition: AudioRendition,
                 readahead: int = 3) -> None:
        self.rendition = rendition
        self.id = AUDIO_PREFIX + rendition.key
        self._fetcher = fetcher
        self._readahead = readahead
        self.durations_s: Sequence[float] = ()
        self.container = "ts"
        self._ready: asyncio.Future[None] | None = None
        self._fetches: dict[int, asyncio.Task[bytes]] = {}
        self._prefetch: asyncio.Task[None] | None = None
        self.fetched = 0
        """Segments delivered so far."""

    def prefetch(self, position_s: float) -> asyncio.Future[None]:
        """Start fetching the segment playing at ``position_s`` before mpv asks for it (a CENC
        video fragment waits for an audio fragment to verify its key: mpv asks for audio only
        once it has video). Once per track; done when that segment is in (or failed: mpv's
        request reports it); :meth:`close` ends it."""
        if self._prefetch is None:
            self._prefetch = asyncio.ensure_future(self._prefetch_at(position_s))
        return self._prefetch

    async def _prefetch_at(self, position_s: float) -> None:
        await asyncio.shield(self._ready_future())
        index, start_s = 0, 0.0
        for index, duration_s in enumerate(self.durations_s):  # noqa: B007 - index is kept
            if position_s < start_s + duration_s:
                break
            start_s += duration_s
        task = self._fetches.get(index)
        if task is None:
            task = self._fetches[index] = asyncio.ensure_future(self._fetch(index))
        with contextlib.suppress(Exception):  # its error is mpv's request's to report
            await asyncio.shield(task)

    async def start(self) -> None:
        """Read the rendition's media playlist (with failover)."""
        ready = self._ready_future()
        try:
            try:
                playlist = await self._fetcher.timeline_of(self.id)
            except PlayerError as exc:
                raise PlayerError(f"The audio rendition {self.rendition.name!r} cannot be "
                                  f"played: {exc.message}", code="audio_unplayable") from exc
        except BaseException as exc:
            if not ready.done():
                ready.set_exception(exc)
                ready.exception()
            raise
        self.durations_s = tuple(s.duration_s for s in playlist.segments)
        self.container = playlist.container
        if not ready.done():
            ready.set_result(None)

    def _ready_future(self) -> asyncio.Future[None]:
        if self._ready is None:
            self._ready = asyncio.get_running_loop().create_future()
        return self._ready

    async def playlist(self) -> bytes:
        await asyncio.shield(self._ready_future())
        return media_playlist(self.durations_s, self.container).encode("ascii")

    async def init_segment(self) -> bytes:
        return await self._fetcher.init_for(self.id)

    async def segment(self, index: int) -> bytes:
        """Segment ``index`` (and the next few started)."""
        await asyncio.shield(self._ready_future())
        for k in range(index, min(index + 1 + self._readahead, len(self.durations_s))):
            if k not in self._fetches:
                self._fetches[k] = asyncio.ensure_future(self._fetch(k))
        for k in [k for k in self._fetches if k < index - 1 or k > index + self._readahead]:
            self._fetches.pop(k).cancel()
        return await asyncio.shield(self._fetches[index])

    async def _fetch(self, index: int) -> bytes:
        result = await self._fetcher.fetch(index, -1, rendition=self.id)
        assert isinstance(result, Fetched)  # off-ladder fetches are never abandoned
        self.fetched += 1
        return result.data

    async def close(self) -> None:
        tasks: list[asyncio.Task[Any]] = list(self._fetches.values())
        if self._prefetch is not None:
            tasks.append(self._prefetch)
        self._fetches.clear()
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(BaseException):
                await task


class AudioRoutes:
    """The bridge's ``audio/`` routes (``LoopbackBridge.mount("audio", routes.handle)``)."""

    def __init__(self, tracks: Sequence[AudioTrack],
                 on_error: Callable[[BaseException], None] | None = None) -> None:
        self.tracks = tuple(tracks)
        self._on_error = on_error
        self.error: BaseException | None = None

    def urls(self, bridge_url: str) -> list[str]:
        """The tracks' playlist URLs, given the bridge's ``media.m3u8`` URL."""
        base = bridge_url.rsplit("/", 1)[0]
        return [f"{base}/audio/{i}/media.m3u8" for i in range(len(self.tracks))]

    async def handle(self, rest: str, request: Request, client: ClientGone) -> Response:
        match = _PATH.fullmatch(rest)
        if match is None or int(match[1]) >= len(self.tracks):
            return Response(404)
        if request.method not in ("GET", "HEAD"):
            return Response(405, headers={"Allow": "GET, HEAD"})
        if self.error is not None:
            return Response(503)
        track = self.tracks[int(match[1])]
        what = match[2]
        try:
            if what == "media.m3u8":
                body = await client.wait(track.playlist())
                content_type = PLAYLIST_TYPE
            elif what == INIT_PATH:
                body = await client.wait(track.init_segment())
                content_type = "audio/mp4"
            else:
                index = int(match[3])
                if index >= len(track.durations_s):
                    return Response(404)
                body = await client.wait(track.segment(index))
                content_type = CONTENT_TYPES[track.container]
        except Exception as exc:
            self._fail(track, exc)
            return Response(503)
        if body is None:  # mpv hung up meanwhile
            return Response(503)
        return Response(200, body, content_type, {"Cache-Control": "no-store"}, ranges=True)

    def _fail(self, track: AudioTrack, exc: BaseException) -> None:
        if self.error is not None:
            return
        self.error = exc
        log.warning("audio %s failed, ending the stream: %s", track.rendition.name, exc)
        if self._on_error is not None:
            self._on_error(exc)

    async def close(self) -> None:
        for track in self.tracks:
            await track.close()


_AUDIO_CODECS = ("mp4a", "ac-3", "ec-3", "mp3", "mp4a.40", "opus", "flac", "alac", "dtsc")


def expects_audio(mv: Multivariant, separate: bool) -> bool:
    """Whether the stream has audio: separate renditions, or an audio codec in the variants'
    CODECS (a variant without CODECS says nothing: no check)."""
    if separate:
        return True
    codecs = [v.codecs or "" for p in mv.pathways for v in p.variants]
    return any(c.strip().lower().startswith(_AUDIO_CODECS)
               for codec in codecs for c in codec.split(","))


def external_aid(tracks: Sequence[Any], position: int) -> int:
    """mpv's ``aid`` (from its ``track-list``) of separate rendition ``position``."""
    suffix = f"/audio/{position}/media.m3u8"
    for t in tracks:
        if (isinstance(t, dict) and t.get("type") == "audio"
                and str(t.get("external-filename", "")).endswith(suffix)):
            return int(t["id"])
    raise PlayerError(f"mpv has no track for audio rendition {position}.", code="audio")


def audio_played(tracks: Sequence[Any], routes: AudioRoutes | None) -> dict[str, Any]:
    """The ``audio`` event's fields for the track mpv plays (its ``track-list``);
    :class:`PlayerError` ``audio_unplayable`` when mpv has no audio track."""
    audio = [t for t in tracks if isinstance(t, dict) and t.get("type") == "audio"]
    if not audio:
        raise PlayerError("The stream has audio that cannot be played (mpv opened no audio "
                          "track).", code="audio_unplayable")
    selected = next((t for t in audio if t.get("selected")), audio[0])
    if routes is None:
        return {"language": selected.get("lang"), "rendition": "muxed"}
    name = str(selected.get("external-filename", ""))
    track = next((t for i, t in enumerate(routes.tracks)
                  if name.endswith(f"/audio/{i}/media.m3u8")), routes.tracks[0])
    return {"language": track.rendition.language, "rendition": track.rendition.name,
            "channels": track.rendition.channels}
