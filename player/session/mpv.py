"""A session's side of mpv: its callbacks and position, audio and subtitle selection."""

from __future__ import annotations

import asyncio
import bisect
import contextlib
import time
from typing import Any

import httpx

from player.audio import AudioRoutes, AudioTrack, audio_played, expects_audio, external_aid
from player.bridge import LoopbackBridge
from player.errors import ManifestError, PlayerError
from player.fetcher import SegmentFetcher
from player.manifest import parse_media_playlist
from player.mpv_seam import MpvEvent
from player.presentation import Multivariant
from player.session.loops import SessionLoops
from player.webvtt import merge_segments


class SessionMpv(SessionLoops):
    """mpv's callbacks (events and ``time-pos``, from mpv's thread into the loop), the played
    time by rung, and the audio and subtitle tracks."""

    def _subscribe_mpv(self) -> None:
        """Register mpv's callbacks (on the mpv thread, before anything is loaded)."""
        assert self._loop is not None
        loop = self._loop

        def on_event(event: MpvEvent) -> None:
            with contextlib.suppress(RuntimeError):  # the loop is gone: nothing to tell
                loop.call_soon_threadsafe(self._on_mpv_event, event)

        def on_time(_name: str, value: Any) -> None:
            if isinstance(value, int | float):
                with contextlib.suppress(RuntimeError):
                    loop.call_soon_threadsafe(self._on_time, float(value))

        def on_speed(_name: str, value: Any) -> None:
            if isinstance(value, int | float) and value > 0:
                with contextlib.suppress(RuntimeError):
                    loop.call_soon_threadsafe(setattr, self, "_speed", float(value))
        self._unsubscribe.append(self.mpv.on_event(on_event))
        self._unsubscribe.append(self.mpv.observe("time-pos", on_time))
        self._unsubscribe.append(self.mpv.observe("speed", on_speed))

    def _on_mpv_event(self, event: MpvEvent) -> None:
        if event.name == "start-file":
            self._file_started = True
        elif event.name == "seek":  # any seek, ours or mpv's own: the next jump is not played
            self._jumping = True
        elif event.name == "playback-restart":
            self._seeking = self._jumping = False
            self._time_wall = time.monotonic()  # steps count from the restart
            if self._first_frame is not None and not self._first_frame.done():
                self._playing = True
                self._first_frame.set_result(None)
        elif event.name == "end-file" and self._file_started:
            if event.reason == "eof" and self.error is None:
                self._finish("eof")
            elif event.reason == "error" or self.error is not None:
                error = self.error or PlayerError(
                    f"The video could not be played ({event.error or 'decoder error'}).",
                    code="playback")
                self._finish("error", error)
            else:
                self._finish("stopped")
        elif event.name == "shutdown":
            self._finish("stopped" if self.error is None else "error", self.error)

    def _on_time(self, position_s: float) -> None:
        """Count what played: forward steps outside seeks. A step may be as long as the wall
        time since the last one allows at the current speed (mpv coalesces updates: at 12x on
        a busy machine one step can be several seconds), and never less than 2 s."""
        delta = position_s - self.position_s
        self.position_s = position_s
        now = time.monotonic()
        wall, self._time_wall = now - self._time_wall, now
        limit = max(2.0, 2.0 * wall * self._speed)
        if (not self._playing or self._seeking or self._jumping or not 0 < delta <= limit
                or not self._starts):
            return
        index = max(0, bisect.bisect_right(self._starts, position_s) - 1)
        rung = self._rung_at(index)
        self.played_s += delta
        self._played_by_rung[rung] = self._played_by_rung.get(rung, 0.0) + delta

    def _rung_at(self, index: int) -> int:
        """The rung position ``index`` was served at (else buffered at, else the current one)."""
        if self._served is not None and index in self._served.rungs:
            return self._served.rungs[index]
        scheduler = self.scheduler
        buffered = scheduler.buffer.get(index) if scheduler is not None else None
        if buffered is not None:
            return buffered.rung
        rung = scheduler.rung if scheduler is not None else None
        return -1 if rung is None else rung

    @property
    def audio_languages(self) -> list[str]:
        """Audio languages: of the separate renditions (in the order mpv has them), else in
        the order they are muxed (the playback answer's ``audio``)."""
        if self._audio is not None:
            return [t.rendition.language or t.rendition.name for t in self._audio.tracks]
        raw = self.playback.raw.get("audio") if self.playback else None
        return [str(a.get("language")) for a in raw or () if isinstance(a, dict)]

    async def set_audio(self, language: str) -> None:
        """Switch the audio track to ``language`` (``"en"``; mpv ``aid``: a muxed track, or
        the separate rendition's external track, whose segments are then fetched)."""
        languages = self.audio_languages
        if self._audio is not None:
            if language not in languages:
                raise ValueError(f"no audio track in {language!r} (have {languages})")
            track = self._audio.tracks[languages.index(language)]
            aid = await self._external_aid(languages.index(language))
            await self._mpv_call(self.mpv.set, "aid", aid)
            self.telemetry.emit("audio", language=language, aid=aid,
                                rendition=track.rendition.name,
                                channels=track.rendition.channels)
            return
        if language not in languages:
            raise ValueError(f"no audio track in {language!r} (have {languages})")
        position = languages.index(language)
        tracks = await self._mpv_call(self.mpv.get, "track-list") or []
        audio = [t for t in tracks if isinstance(t, dict) and t.get("type") == "audio"]
        aid = audio[position]["id"] if position < len(audio) else position + 1
        await self._mpv_call(self.mpv.set, "aid", aid)
        self.telemetry.emit("audio", language=language, aid=aid)

    def _mount_audio(self, mv: Multivariant, fetcher: SegmentFetcher,
                     bridge: LoopbackBridge) -> None:
        """Separate audio renditions: mounted on the bridge (the default one first: it is the
        one inside mpv's start playlist)."""
        renditions = mv.audio_renditions()
        if not renditions:
            return
        ordered = sorted(renditions, key=lambda r: not r.default)
        audio = self._audio = AudioRoutes([AudioTrack(fetcher, r) for r in ordered],
                                          on_error=self._on_bridge_error)
        bridge.mount("audio", audio.handle)

    def _start_audio(self) -> list[asyncio.Future[None]]:
        """The mounted renditions read their playlists now (a failure fails the start)."""
        tracks = self._audio.tracks if self._audio is not None else ()
        return [self._startup(track.start(), "audio") for track in tracks]

    def _verify_key_with_audio(self) -> asyncio.Future[None] | None:
        """A CENC video fragment waits for an audio fragment to verify its key: fetch the first
        audio rendition's segment at the start now (mpv asks for audio only after video); done
        when it is in. None when there is no separate audio."""
        if self._audio is None or not self._audio.tracks:
            return None
        return self._audio.tracks[0].prefetch(self._resume_s)

    async def _external_aid(self, position: int) -> int:
        """mpv's ``aid`` of separate rendition ``position`` (an external track), added to mpv
        (``audio-add``) the first time: only the default one is loaded at start."""
        tracks = await self._mpv_call(self.mpv.get, "track-list") or []
        try:
            return external_aid(tracks, position)
        except PlayerError:
            if position >= len(self._audio_urls):
                raise
        await self._mpv_call(self.mpv.command, "audio-add", self._audio_urls[position], "auto")
        return external_aid(await self._mpv_call(self.mpv.get, "track-list") or [], position)

    async def _check_audio(self) -> None:
        """At the first frame: a stream with audio must have an audio track in mpv, else
        :class:`PlayerError` ``audio_unplayable`` (never a silent success); emits ``audio``."""
        mv = self.multivariant
        if mv is None or not expects_audio(mv, self._audio is not None):
            return
        tracks = await self._mpv_call(self.mpv.get, "track-list") or []
        self.telemetry.emit("audio", **audio_played(tracks, self._audio), reason="start")

    @property
    def subtitle_languages(self) -> list[str]:
        """The playback answer's ``subtitles``, else the multivariant playlist's renditions."""
        raw = self.playback.raw.get("subtitles") if self.playback else None
        if raw:
            return [str(s.get("language")) for s in raw if isinstance(s, dict)]
        mv = self.multivariant
        if mv is None:
            return []
        groups = {v.subtitles_group for v in mv.pathway(mv.default_pathway).variants}
        return list(dict.fromkeys(s.language for g in groups for s in mv.subtitles.get(g or "", ())
                                  if s.language and s.uri))

    async def set_subtitles(self, language: str | None) -> None:
        """Show subtitles in ``language`` (None: off). The WebVTT comes from the edges (best
        first) and goes to mpv from memory."""
        if language is None:
            await self._mpv_call(self.mpv.set, "sid", "no")
            self.telemetry.emit("subtitles", language=None)
            return
        text = await self.fetch_subtitles(language)
        # The bridge's playlist is opened with demuxer-lavf-format=hls, a per-file option that
        # applies to an added subtitle too; the main stream is open already: say it is WebVTT.
        await self._mpv_call(self.mpv.set, "demuxer-lavf-format", "webvtt")
        await self._mpv_call(self.mpv.command, "sub-add", "memory://" + text, "select",
                             language, language)
        self.telemetry.emit("subtitles", language=language, bytes=len(text))

    async def fetch_subtitles(self, language: str) -> str:
        """The WebVTT text for ``language`` from the best edge that serves it."""
        mv, pool, http = self.multivariant, self.pool, self._http
        if mv is None or pool is None or http is None:
            raise RuntimeError("play() has not run")
        failures: dict[str, str] = {}
        for status in pool.ordered():
            try:
                group = mv.pathway(status.name).variants[0].subtitles_group
            except KeyError:
                continue
            rendition = next((s for s in mv.subtitles.get(group or "", ())
                              if s.language == language and s.uri), None)
            if rendition is None or rendition.uri is None:
                continue
            try:
                playlist = mv.media.get(rendition.uri) or parse_media_playlist(
                    await self._fetch_text(rendition.uri), rendition.uri)
                parts = []
                for segment in playlist.segments:
                    response = await http.get(segment.uri)
                    response.raise_for_status()
                    parts.append(response.text)
                return merge_segments(parts)
            except (PlayerError, httpx.HTTPError) as exc:
                failures[status.name] = f"{type(exc).__name__}: {exc}"
                pool.report_failure(status.name, f"subtitles: {type(exc).__name__}")
        if not failures:
            raise ManifestError(f"There are no {language!r} subtitles for this title.")
        raise PlayerError(f"The {language!r} subtitles could not be loaded "
                          f"({'; '.join(f'{k}: {v}' for k, v in failures.items())}).",
                          code="subtitles")
