"""Small pieces of the pipeline: quoting, ladder, trick-play index, subtitles, probing, TS."""

from __future__ import annotations

import itertools
import re
from pathlib import Path

import pytest

from controlplane.pipeline import PipelineError
from controlplane.pipeline.escape import filter_value
from controlplane.pipeline.ladder import (
    DEFAULT_LADDER,
    TEST_LADDER,
    cap_to_height,
    split_for_parallel,
)
from controlplane.pipeline.probe import parse_probe
from controlplane.pipeline.profiles import PROFILES
from controlplane.pipeline.progress import TitleProgress
from controlplane.pipeline.share import generated_specs
from controlplane.pipeline.subtitles import synthetic_vtt, vtt_timestamp
from controlplane.pipeline.trickplay import SpriteGrid, thumbs_vtt
from controlplane.pipeline.tsinfo import _avc1, _first_picture_type, _pes_pts


def test_filter_value_escapes_both_levels() -> None:
    assert filter_value("Salt & Ember") == "Salt & Ember"
    assert filter_value("a:b") == r"a\\:b"
    assert filter_value("O'Brien") == r"O\\\'Brien"
    assert filter_value("x,y;[z]") == r"x\,y\;\[z\]"
    assert filter_value("C:\\fonts") == r"C\\:\\\\fonts"


def test_ladders_have_the_agreed_rungs() -> None:
    assert [r.id for r in DEFAULT_LADDER] == ["240p", "360p", "480p", "720p", "1080p"]
    assert [r.bitrate_bps for r in DEFAULT_LADDER] == [
        300_000, 750_000, 1_500_000, 3_000_000, 5_000_000,
    ]
    assert [r.id for r in TEST_LADDER] == [r.id for r in DEFAULT_LADDER]
    for ladder in (DEFAULT_LADDER, TEST_LADDER):
        assert all(a.bitrate_bps < b.bitrate_bps for a, b in itertools.pairwise(ladder))
        assert all(r.width % 2 == 0 and r.height % 2 == 0 for r in ladder)
    assert DEFAULT_LADDER[4].label() == "1080p · 5.0 Mbit/s"
    assert DEFAULT_LADDER[0].label() == "240p · 300 kbit/s"


def test_split_for_parallel_covers_the_ladder_once() -> None:
    groups = split_for_parallel(DEFAULT_LADDER)
    assert len(groups) == 2
    assert sorted(r.id for g in groups for r in g) == sorted(r.id for r in DEFAULT_LADDER)
    assert [r.id for r in groups[1]] == ["1080p"]


def test_cap_to_height_keeps_at_least_one_rung() -> None:
    assert [r.id for r in cap_to_height(DEFAULT_LADDER, 720)] == ["240p", "360p", "480p", "720p"]
    assert [r.id for r in cap_to_height(DEFAULT_LADDER, 100)] == ["240p"]


def test_profiles_have_the_agreed_variety() -> None:
    for profile in PROFILES.values():
        titles = profile.titles
        assert any(t.regions != ("*",) for t in titles)
        assert any(t.requires_plan == "premium" for t in titles)
        assert {"G", "R"} <= {t.maturity_rating for t in titles} | {"G"} and any(
            t.maturity_rating in {"R", "TV-MA"} for t in titles
        )
        assert len({t.id for t in titles}) == len(titles)
    default = PROFILES["default"].titles
    generated = generated_specs(default)
    assert len(generated) >= 8
    assert max(t.duration_s for t in generated) >= 600
    assert len({t.duration_s for t in generated}) == len(generated)
    # looks like a service: 40+ titles over 6+ genres, most sharing the generated media
    assert len(default) >= 40
    assert len({g for t in default for g in t.genres}) >= 6


def test_thumbs_vtt_points_into_the_sprite_grid() -> None:
    grid = SpriteGrid(160, 90, 5, 5)
    text = thumbs_vtt(110.0, 4.0, grid)
    cues = re.findall(r"(\S+) --> (\S+)\n(sprite_\d{3}\.jpg)#xywh=(\d+),(\d+),(\d+),(\d+)", text)
    assert text.startswith("WEBVTT")
    assert len(cues) == 28
    assert cues[0] == ("00:00:00.000", "00:00:04.000", "sprite_000.jpg", "0", "0", "160", "90")
    assert cues[6][2:5] == ("sprite_000.jpg", "160", "90")
    assert cues[25][2:5] == ("sprite_001.jpg", "0", "0")
    assert cues[-1][1] == "00:01:50.000"


def test_synthetic_subtitles_are_webvtt_with_timestamp_map() -> None:
    text = synthetic_vtt("es", title="T", duration_s=10.0, period_s=4.0, first_pts_90khz=126000)
    assert text.startswith("WEBVTT\nX-TIMESTAMP-MAP=MPEGTS:126000,LOCAL:00:00:00.000\n")
    assert "00:00:08.500 --> 00:00:10.000" in text
    assert "La niebla" in text
    assert vtt_timestamp(3723.5) == "01:02:03.500"


FFMPEG_I = """Input #0, mov,mp4,m4a,3gp,3g2,mj2, from 'clip.mp4':
  Duration: 00:01:02.50, start: 0.000000, bitrate: 1000 kb/s
  Stream #0:0[0x1](und): Video: h264 (High) (avc1 / 0x31637661), yuv420p(progressive), \
1440x1080 [SAR 4:3 DAR 16:9], 900 kb/s, 29.97 fps, 29.97 tbr, 30k tbn (default)
  Stream #0:1[0x2](fra): Audio: aac (LC) (mp4a / 0x6134706D), 44100 Hz, stereo, fltp
  Stream #0:2[0x3](eng): Subtitle: mov_text (tx3g / 0x67337874), 0 kb/s (default)
At least one output file must be specified
"""


def test_parse_probe_reads_ffmpeg_output() -> None:
    info = parse_probe(FFMPEG_I, Path("clip.mp4"))
    assert info.duration_s == pytest.approx(62.5)
    assert (info.width, info.height) == (1440, 1080)
    assert info.display_aspect == pytest.approx(16 / 9)
    assert info.frame_rate == pytest.approx(29.97)
    assert [a.language for a in info.audio] == ["fra"]
    assert [(i, s.codec) for i, s in info.text_subtitles] == [(0, "mov_text")]


def test_parse_probe_rejects_what_is_not_video() -> None:
    with pytest.raises(PipelineError, match="not a video"):
        parse_probe("notes.txt: Invalid data found when processing input\n", Path("notes.txt"))
    audio_only = "  Duration: 00:00:05.00\n  Stream #0:0: Audio: mp3, 44100 Hz\n"
    with pytest.raises(PipelineError, match="no video stream"):
        parse_probe(audio_only, Path("song.mp3"))


def test_codec_string_and_pts_from_bitstream() -> None:
    sps = b"\x00\x00\x00\x01\x67\x42\xc0\x1f\xda\x01"
    assert _avc1(sps) == "avc1.42C01F"
    assert _first_picture_type(sps + b"\x00\x00\x01\x68\xce" + b"\x00\x00\x01\x65\x88") == 5
    assert _first_picture_type(b"\x00\x00\x01\x09\xf0\x00\x00\x01\x41\x9a") == 1
    pts = 126000
    header = bytes([
        0, 0, 1, 0xE0, 0, 0, 0x80, 0x80, 5,
        0x21 | ((pts >> 29) & 0x0E), (pts >> 22) & 0xFF, ((pts >> 14) & 0xFE) | 1,
        (pts >> 7) & 0xFF, ((pts << 1) & 0xFE) | 1,
    ])
    assert _pes_pts(header) == pts


def test_progress_lines_are_throttled() -> None:
    lines: list[str] = []
    progress = TitleProgress(lines.append, 2, 8, "Night Harbor")
    progress.stage("encoding 5 renditions…")
    progress.set_parts({"a": 1.0, "b": 3.0})
    for step in range(101):
        progress.part_fraction("a", step / 100)
        progress.part_fraction("b", step / 100)
    assert lines[0] == "[2/8] Night Harbor: encoding 5 renditions…"
    assert lines[1:4] == [
        "[2/8] Night Harbor: encoding 5 renditions… 0%",
        "[2/8] Night Harbor: encoding 5 renditions… 10%",
        "[2/8] Night Harbor: encoding 5 renditions… 20%",
    ]
    assert len(lines) == 11
