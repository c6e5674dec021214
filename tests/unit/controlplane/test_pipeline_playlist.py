"""Media playlists: what the pipeline writes parses as the VOD playlist the edges expect."""

from __future__ import annotations

from pathlib import Path

import m3u8

from controlplane.catalog import KEY_URI_PLACEHOLDER
from controlplane.pipeline.playlist import media_playlist, read_segments, segment_name


def test_playlist_has_the_fixed_shape() -> None:
    text = media_playlist([4.0, 4.0, 2.5])
    lines = text.splitlines()
    assert lines[0] == "#EXTM3U"
    assert "#EXT-X-VERSION:3" in lines
    assert "#EXT-X-TARGETDURATION:4" in lines
    assert "#EXT-X-PLAYLIST-TYPE:VOD" in lines
    assert "#EXT-X-MEDIA-SEQUENCE:0" in lines
    assert f'#EXT-X-KEY:METHOD=AES-128,URI="{KEY_URI_PLACEHOLDER}"' in lines
    assert lines[-1] == "#EXT-X-ENDLIST"
    assert "IV=" not in text


def test_playlist_parses_with_m3u8() -> None:
    parsed = m3u8.loads(media_playlist([4.0, 4.0, 1.25]))
    assert parsed.is_endlist
    assert parsed.playlist_type == "vod"
    assert parsed.media_sequence == 0
    assert [s.uri for s in parsed.segments] == ["seg_00000.ts", "seg_00001.ts", "seg_00002.ts"]
    assert [s.duration for s in parsed.segments] == [4.0, 4.0, 1.25]
    assert parsed.keys[0] is not None
    assert parsed.keys[0].method == "AES-128"
    assert parsed.keys[0].uri == KEY_URI_PLACEHOLDER
    assert parsed.keys[0].iv is None


def test_a_cmaf_playlist_maps_a_clear_init_segment_before_the_key() -> None:
    text = media_playlist([4.0, 4.0, 2.0], fmp4=True)
    lines = text.splitlines()
    assert "#EXT-X-VERSION:6" in lines
    # EXT-X-MAP before EXT-X-KEY: the key does not apply to the init segment (RFC 8216 4.3.2.4)
    assert lines.index('#EXT-X-MAP:URI="init.mp4"') < lines.index(
        f'#EXT-X-KEY:METHOD=AES-128,URI="{KEY_URI_PLACEHOLDER}"')
    parsed = m3u8.loads(text)
    assert [s.uri for s in parsed.segments] == ["seg_00000.m4s", "seg_00001.m4s", "seg_00002.m4s"]
    assert parsed.segment_map[0].uri == "init.mp4"
    assert parsed.keys[0] is not None and parsed.keys[0].iv is None


def test_target_duration_covers_the_longest_segment() -> None:
    parsed = m3u8.loads(media_playlist([4.0, 4.04, 3.0]))
    assert parsed.target_duration == 5
    assert m3u8.loads(media_playlist([3.999, 4.0])).target_duration == 4


def test_key_uri_can_be_substituted() -> None:
    text = media_playlist([4.0]).replace(KEY_URI_PLACEHOLDER, "https://cp/license/t1")
    assert m3u8.loads(text).keys[0].uri == "https://cp/license/t1"


def test_read_segments_round_trips(tmp_path: Path) -> None:
    path = tmp_path / "index.m3u8"
    path.write_text(media_playlist([4.0, 4.0, 0.5]), encoding="utf-8")
    segments = read_segments(path)
    assert [s.uri for s in segments] == [segment_name(i) for i in range(3)]
    assert [s.duration_s for s in segments] == [4.0, 4.0, 0.5]


def test_read_segments_of_an_ffmpeg_playlist(tmp_path: Path) -> None:
    path = tmp_path / "index.m3u8"
    path.write_text(
        "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:4\n#EXT-X-MEDIA-SEQUENCE:0\n"
        "#EXT-X-PLAYLIST-TYPE:VOD\n#EXTINF:4.000000,\nseg_00000.ts\n#EXTINF:1.240000,\n"
        "seg_00001.ts\n#EXT-X-ENDLIST\n",
        encoding="utf-8",
    )
    assert [(s.uri, s.duration_s) for s in read_segments(path)] == [
        ("seg_00000.ts", 4.0),
        ("seg_00001.ts", 1.24),
    ]
