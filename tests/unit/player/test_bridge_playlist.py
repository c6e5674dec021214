"""Pure parts of the bridge: the playlist text, Range parsing, the in-memory segment source."""

from __future__ import annotations

import asyncio

import pytest

from player.bridge import media_playlist
from player.http_loopback import parse_range
from player.segments import SegmentSource, SegmentSourceError, StaticSegments


def test_media_playlist_text() -> None:
    assert media_playlist([2.0, 2.0, 1.48]) == (
        "#EXTM3U\n"
        "#EXT-X-VERSION:3\n"
        "#EXT-X-TARGETDURATION:2\n"
        "#EXT-X-MEDIA-SEQUENCE:0\n"
        "#EXT-X-PLAYLIST-TYPE:VOD\n"
        "#EXTINF:2.000000,\nseg/0.ts\n"
        "#EXTINF:2.000000,\nseg/1.ts\n"
        "#EXTINF:1.480000,\nseg/2.ts\n"
        "#EXT-X-ENDLIST\n"
    )


def test_target_duration_rounds_up_and_there_is_no_key() -> None:
    text = media_playlist([4.0, 4.04, 3.2])
    assert "#EXT-X-TARGETDURATION:5\n" in text
    assert "EXT-X-KEY" not in text


@pytest.mark.parametrize(("header", "expected"), [
    ("bytes=0-", (0, 99)),
    ("bytes=0-0", (0, 0)),
    ("bytes=5-9", (5, 9)),
    ("bytes=5-500", (5, 99)),
    ("bytes=-10", (90, 99)),
    ("bytes=-500", (0, 99)),
    (" Bytes = 1-2 ", (1, 2)),     # case and spaces are forgiven
    ("bytes=1-2,4-5", None),
    ("bytes=", None),
    ("bytes=-", None),
    ("bytes=a-b", None),
    ("bytes=+1-2", None),
    ("bytes=5-4", None),
    ("lines=1-2", None),
])
def test_parse_range(header: str, expected: tuple[int, int] | None) -> None:
    assert parse_range(header, 100) == expected


@pytest.mark.parametrize("header", ["bytes=100-", "bytes=200-300", "bytes=-0"])
def test_parse_range_unsatisfiable(header: str) -> None:
    with pytest.raises(ValueError):
        parse_range(header, 100)


def test_static_segments_is_a_segment_source() -> None:
    source = StaticSegments([b"a", b"b"], [2.0, 1.0])
    assert isinstance(source, SegmentSource)
    assert source.segment_count == 2
    assert list(source.segment_durations_s) == [2.0, 1.0]
    with pytest.raises(ValueError):
        StaticSegments([b"a"], [1.0, 2.0])


def test_static_segments_delays_fails_and_records() -> None:
    slept: list[float] = []

    async def fake_sleep(seconds: float) -> None:
        slept.append(seconds)

    async def main() -> None:
        source = StaticSegments([b"a", b"b", b"c"], [1.0] * 3, delay_s={1: 0.5},
                                fail_at={2}, sleep=fake_sleep)
        source.on_request(1)
        assert await source.segment(0) == b"a"
        assert await source.segment(1) == b"b"
        with pytest.raises(SegmentSourceError):
            await source.segment(2)
        with pytest.raises(IndexError):
            await source.segment(3)
        assert source.requests == [1]
        assert source.served == [0, 1]

        uniform = StaticSegments([b"x"], [1.0], delay_s=0.25, sleep=fake_sleep)
        await uniform.segment(0)

    asyncio.run(main())
    assert slept == [0.5, 0.25]
