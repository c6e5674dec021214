"""HLS as ffmpeg packages it (fMP4/CMAF, separate audio renditions, single-file byte ranges,
packed audio), served by a plain HTTP server with Range support, played by the real engine and
the real libmpv. The streams are made here by ffmpeg, not by the project's own catalog code."""

from __future__ import annotations

import asyncio
import functools
import logging
import re
import shutil
import subprocess
import threading
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from abr.interface import Decision
from player.errors import PlayerError
from player.mpv_seam import create_mpv
from player.session import PlaybackSession
from tests.helpers.fake_catalog import encrypt_segment
from tests.helpers.policies import FixedPolicy
from tests.integration.hls_servers import play_to_end

pytestmark = [pytest.mark.mpv, pytest.mark.slow,
              pytest.mark.skipif(shutil.which("ffmpeg") is None, reason="needs ffmpeg")]

DURATION_S = 8
VIDEO = ["-f", "lavfi", "-i", f"testsrc=size=320x180:rate=25:duration={DURATION_S}"]
TONE = ["-f", "lavfi", "-i", f"sine=frequency=440:duration={DURATION_S}"]
TONE2 = ["-f", "lavfi", "-i", f"sine=frequency=660:duration={DURATION_S}"]
X264 = ["-c:v", "libx264", "-preset", "ultrafast", "-g", "50", "-keyint_min", "50",
        "-sc_threshold", "0"]
KEY = bytes(range(16))
HLS = ["-f", "hls", "-hls_time", "2", "-hls_playlist_type", "vod"]


def _ffmpeg(*args: str, cwd: Path) -> None:
    subprocess.run(["ffmpeg", "-loglevel", "error", "-y", *args], cwd=cwd, check=True,
                   timeout=120)


def _package(root: Path) -> None:
    """Every stream kind the tests play, by ffmpeg's own HLS and segment muxers."""
    for name in ("fmp4", "ts", "sep", "septs", "single", "packed", "subs"):
        (root / name).mkdir()
    # fMP4, two video renditions, audio muxed in each
    _ffmpeg(*VIDEO, *TONE, "-map", "0:v", "-map", "1:a", "-map", "0:v", "-map", "1:a", *X264,
            "-s:v:1", "640x360", "-c:a", "aac", "-b:a", "64k", *HLS, "-hls_segment_type", "fmp4",
            "-master_pl_name", "master.m3u8", "-var_stream_map", "v:0,a:0 v:1,a:1",
            "-hls_segment_filename", "%v/s%d.m4s", "%v/index.m3u8", cwd=root / "fmp4")
    # the same two renditions in MPEG-TS
    _ffmpeg(*VIDEO, *TONE, "-map", "0:v", "-map", "1:a", "-map", "0:v", "-map", "1:a", *X264,
            "-s:v:1", "640x360", "-c:a", "aac", "-b:a", "64k", *HLS,
            "-master_pl_name", "master.m3u8", "-var_stream_map", "v:0,a:0 v:1,a:1",
            "-hls_segment_filename", "%v/s%d.ts", "%v/index.m3u8", cwd=root / "ts")
    # fMP4 video renditions + separate audio renditions in two languages
    var_map = ("v:0,agroup:aud v:1,agroup:aud a:0,agroup:aud,language:en,default:yes "
               "a:1,agroup:aud,language:fr")
    _ffmpeg(*VIDEO, *TONE, *TONE2, "-map", "0:v", "-map", "0:v", "-map", "1:a", "-map", "2:a",
            *X264, "-s:v:1", "640x360", "-c:a", "aac", "-b:a", "64k", *HLS,
            "-hls_segment_type", "fmp4", "-master_pl_name", "master.m3u8",
            "-var_stream_map", var_map, "-hls_segment_filename", "%v/s%d.m4s",
            "%v/index.m3u8", cwd=root / "sep")
    # the same in MPEG-TS
    _ffmpeg(*VIDEO, *TONE, *TONE2, "-map", "0:v", "-map", "1:a", "-map", "2:a", *X264,
            "-c:a", "aac", "-b:a", "64k", *HLS, "-master_pl_name", "master.m3u8",
            "-var_stream_map", "v:0,agroup:aud a:0,agroup:aud,language:en,default:yes "
            "a:1,agroup:aud,language:fr", "-hls_segment_filename", "%v/s%d.ts",
            "%v/index.m3u8", cwd=root / "septs")
    # fMP4 in one file: EXT-X-MAP and segments as byte ranges
    _ffmpeg(*VIDEO, *TONE, *X264, "-c:a", "aac", *HLS, "-hls_segment_type", "fmp4",
            "-hls_flags", "single_file", "index.m3u8", cwd=root / "single")
    # packed audio: ADTS segments
    _ffmpeg(*TONE, "-c:a", "aac", "-b:a", "64k", "-f", "segment", "-segment_format", "adts",
            "-segment_time", "2", "-segment_list", "index.m3u8", "-segment_list_type", "m3u8",
            "s%d.aac", cwd=root / "packed")
    # segmented WebVTT subtitles
    (root / "subs" / "in.vtt").write_text(
        "WEBVTT\n\n00:00:00.500 --> 00:00:02.500\nHello\n\n00:00:03.000 --> 00:00:05.000\n"
        "World\n\n00:00:05.500 --> 00:00:07.500\nAgain\n")
    _ffmpeg(*VIDEO, *TONE, "-i", "in.vtt", "-map", "0:v", "-map", "1:a", "-map", "2:s", *X264,
            "-c:a", "aac", "-c:s", "webvtt", *HLS, "-master_pl_name", "master.m3u8",
            "-var_stream_map", "v:0,a:0,s:0,sgroup:subs,language:en",
            "-hls_segment_filename", "%v/s%d.ts", "%v/index.m3u8", cwd=root / "subs")
    # AES-128 over whole fMP4 segments (ffmpeg 5.1 cannot write it: its segments, encrypted
    # here; the init segment stays clear, as packagers leave it)
    enc = root / "encfmp4"
    enc.mkdir()
    shutil.copy(root / "fmp4" / "0" / "init_0.mp4", enc / "init_0.mp4")
    (enc / "key.bin").write_bytes(KEY)
    playlist = (root / "fmp4" / "0" / "index.m3u8").read_text()
    for k in range(DURATION_S // 2):
        plain = (root / "fmp4" / "0" / f"s{k}.m4s").read_bytes()
        (enc / f"s{k}.m4s").write_bytes(encrypt_segment(plain, KEY, k))
    (enc / "index.m3u8").write_text(playlist.replace(
        "#EXTINF", '#EXT-X-KEY:METHOD=AES-128,URI="key.bin"\n#EXTINF', 1))
    # a master whose audio renditions are not there
    text = (root / "sep" / "master.m3u8").read_text()
    (root / "sep" / "noaudio.m3u8").write_text(re.sub(r'URI="(\w+)/', r'URI="missing_\1/',
                                                      text))


class _RangeHandler(SimpleHTTPRequestHandler):
    """Static files with single byte ranges (``bytes=a-b``, ``bytes=a-``), as web servers do."""

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def send_head(self) -> Any:
        match = re.fullmatch(r"bytes=(\d+)-(\d*)", self.headers.get("Range", ""))
        path = Path(self.translate_path(self.path))
        if match is None or not path.is_file():
            return super().send_head()
        size = path.stat().st_size
        first = int(match[1])
        last = min(int(match[2]) if match[2] else size - 1, size - 1)
        if first > last:
            self.send_error(416)
            return None
        handle = path.open("rb")
        handle.seek(first)
        self.send_response(206)
        self.send_header("Content-Type", self.guess_type(str(path)))
        self.send_header("Content-Range", f"bytes {first}-{last}/{size}")
        self.send_header("Content-Length", str(last - first + 1))
        self.end_headers()
        self._remaining = last - first + 1
        return handle

    def copyfile(self, source: Any, outputfile: Any) -> None:
        remaining = getattr(self, "_remaining", None)
        if remaining is None:
            super().copyfile(source, outputfile)
            return
        outputfile.write(source.read(remaining))


class _Server(ThreadingHTTPServer):
    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # a client that hangs up mid-body (mpv seeking, a cancelled read-ahead)


class _NoMedia(_RangeHandler):
    """Serves playlists, answers 503 to every init segment and media segment."""

    def send_head(self) -> Any:
        if self.path.endswith((".m4s", ".mp4")):
            self.send_error(503)
            return None
        return super().send_head()


def _serve(root: Path, handler: type[SimpleHTTPRequestHandler]) -> Iterator[str]:
    httpd = _Server(("127.0.0.1", 0), functools.partial(handler, directory=str(root)))
    thread = threading.Thread(target=httpd.serve_forever, name="packaged-hls", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(5)


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("packaged-hls")
    _package(path)
    return path


@pytest.fixture(scope="module")
def server(root: Path) -> Iterator[str]:
    yield from _serve(root, _RangeHandler)


@pytest.fixture(scope="module")
def broken(root: Path) -> Iterator[str]:
    yield from _serve(root, _NoMedia)


class _Alternating(FixedPolicy):
    """A rendition switch at every segment: rung = index mod 2."""

    def choose(self, segment_index: int, buffer_s: float, now_s: float) -> Decision:
        return Decision(segment_index % 2, "alternate")


def _play(url: str, *, policy: Any = None, during: Any = None) -> tuple[PlaybackSession,
                                                                         list[dict[str, Any]]]:
    return play_to_end(url, policy=policy, during=during)


def _types(tracks: list[dict[str, Any]]) -> list[str]:
    return [t["type"] for t in tracks]


def _decoder_errors(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name.startswith("player.mpv")
            and r.levelno >= logging.ERROR and "Edit lists" not in r.getMessage()]


@pytest.mark.parametrize("kind", ["fmp4", "ts"])
def test_renditions_switch_cleanly_at_every_segment(
        server: str, kind: str, caplog: pytest.LogCaptureFixture) -> None:
    """A switch at every segment reaches the decoder cleanly in fMP4 and MPEG-TS alike: no
    decoder error, no corrupt packet, no dropped ``moov``."""
    caplog.set_level(logging.WARNING)
    session, tracks = _play(f"{server}/{kind}/master.m3u8", policy=_Alternating())
    assert session.scheduler is not None
    fetched = {(k, rung) for k, rung, _ in session.scheduler.fetched}
    assert {rung for _, rung in fetched} == {0, 1}  # both renditions, each after the other
    assert sorted(_types(tracks)) == ["audio", "video"]
    assert session.position_s >= DURATION_S - 2.5
    # the new rendition's parameter sets reached the decoder: no h264 errors, no dropped moov
    assert _decoder_errors(caplog) == []
    assert not [r for r in caplog.records if "duplicated MOOV" in r.getMessage()
                or "Packet corrupt" in r.getMessage()]
    assert session.report().audio_renditions == ["muxed"]


@pytest.mark.parametrize("kind", ["sep", "septs"], ids=["fmp4", "ts"])
def test_separate_audio_renditions_play_and_switch_language(server: str, kind: str) -> None:
    seen: dict[str, Any] = {}

    async def switch(session: PlaybackSession) -> None:
        seen["languages"] = session.audio_languages
        await session.set_audio("fr")
        tracks = await session._mpv_call(session.mpv.get, "track-list")
        seen["selected"] = [t.get("external-filename") for t in tracks
                            if t["type"] == "audio" and t.get("selected")]

    session, tracks = _play(f"{server}/{kind}/master.m3u8", during=switch)
    assert seen["languages"] == ["en", "fr"]  # the DEFAULT first
    # at the first frame mpv has the DEFAULT only; French is added (audio-add) when picked
    assert _types(tracks).count("audio") == 1
    assert [str(f).rsplit("/", 3)[-3:] for f in seen["selected"]] == [
        ["audio", "1", "media.m3u8"]]
    assert session._audio is not None
    english, french = session._audio.tracks
    assert english.fetched >= 1 and french.fetched >= 1  # fr fetched once mpv switched
    report = session.report()
    assert [a.rsplit(" ", 1)[-1] for a in report.audio_renditions] == ["(en)", "(fr)"]
    assert report.end_reason == "eof" and report.error_code is None


def test_fmp4_init_and_media_segments_fail_over_to_the_next_pathway(
        root: Path, server: str, broken: str) -> None:
    """The first pathway serves playlists but no init or media segment: both fail over."""
    lines = ["#EXTM3U", "#EXT-X-VERSION:7"]
    for pathway, base in (("broken", broken), ("good", server)):
        for rung, size in enumerate(("320x180", "640x360")):
            lines += [f'#EXT-X-STREAM-INF:BANDWIDTH={(rung + 1) * 500_000},'
                      f'RESOLUTION={size},PATHWAY-ID="{pathway}"', f"{base}/fmp4/{rung}/index.m3u8"]
    (root / "two-pathways.m3u8").write_text("\n".join([*lines, ""]))
    session, tracks = _play(f"{server}/two-pathways.m3u8")
    assert session.scheduler is not None and session.pool is not None
    assert session.pool.names == ("broken", "good")
    assert {edge for _, _, edge in session.scheduler.fetched} == {"good"}
    assert len(session.scheduler.fetched) == session.scheduler.segment_count
    assert sorted(_types(tracks)) == ["audio", "video"]
    failovers = [e for e in session.telemetry.events if e["type"] == "failover"]
    assert failovers and failovers[0]["edge_from"] == "broken"


def test_single_file_fmp4_with_byte_ranges_plays(server: str,
                                                 caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING)
    session, tracks = _play(f"{server}/single/index.m3u8")
    assert session.scheduler is not None
    assert {k for k, _, _ in session.scheduler.fetched} == set(range(4))
    assert sorted(_types(tracks)) == ["audio", "video"]
    assert _decoder_errors(caplog) == []


def test_aes128_fmp4_plays(server: str, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING)
    session, tracks = _play(f"{server}/encfmp4/index.m3u8")
    assert session.scheduler is not None and session.scheduler.container == "fmp4"
    assert len(session.scheduler.fetched) == session.scheduler.segment_count
    assert sorted(_types(tracks)) == ["audio", "video"]
    assert _decoder_errors(caplog) == []


def test_packed_audio_plays(server: str) -> None:
    session, tracks = _play(f"{server}/packed/index.m3u8")
    assert _types(tracks) == ["audio"]
    assert session.scheduler is not None and session.scheduler.container == "packed"
    assert len({k for k, _, _ in session.scheduler.fetched}) == session.scheduler.segment_count


def test_segmented_webvtt_subtitles_are_shown(server: str) -> None:
    seen: dict[str, Any] = {}

    async def subtitles(session: PlaybackSession) -> None:
        seen["languages"] = session.subtitle_languages
        seen["text"] = await session.fetch_subtitles("en")
        await session.set_subtitles("en")
        tracks = await session._mpv_call(session.mpv.get, "track-list")
        seen["subs"] = [t for t in tracks if t["type"] == "sub" and t.get("selected")]

    _play(f"{server}/subs/master.m3u8", during=subtitles)
    assert seen["languages"] == ["en"]
    assert seen["text"].count("WEBVTT") == 1  # one document: the segments' headers dropped
    assert [w for w in ("Hello", "World", "Again") if w in seen["text"]] == [
        "Hello", "World", "Again"]
    assert len(seen["subs"]) == 1 and seen["subs"][0].get("lang") == "en"


def test_audio_that_cannot_be_fetched_is_an_error_not_silence(server: str) -> None:
    async def main() -> None:
        mpv = create_mpv(vo="null", ao="null")
        session = PlaybackSession.from_url(f"{server}/sep/noaudio.m3u8", mpv)
        try:
            await session.play()
        finally:
            await session.stop()
            report = session.report()
            mpv.terminate()
        assert report.error_code is not None
    with pytest.raises(PlayerError) as caught:
        asyncio.run(main())
    assert caught.value.code == "audio_unplayable"
    assert "audio rendition" in caught.value.message and "404" in caught.value.message

