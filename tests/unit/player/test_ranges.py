"""Bounded reads, Content-Range checks, whole-file bodies and EXT-X-GAP parsing."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import httpx
import pytest

from player.bounded import InputTooLarge, check_segment_count, get_bounded
from player.failover import Cause
from player.manifest import parse_media_playlist
from player.wholefile import (
    WholeFile,
    WholeFileError,
    WholeFiles,
    parse_content_range,
    range_mismatch,
)

BODY = bytes(range(256)) * 64  # 16 KiB


async def _endless() -> AsyncIterator[bytes]:
    while True:
        yield b"#EXTINF:2,\ns.ts\n" * 64
        await asyncio.sleep(0)


def _client(handler: httpx.MockTransport) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=handler)


def test_an_endless_body_is_cut_off_at_the_size_limit() -> None:
    async def main() -> None:
        transport = httpx.MockTransport(lambda _: httpx.Response(200, content=_endless()))
        async with _client(transport) as http:
            with pytest.raises(InputTooLarge, match="over the 65536 bytes limit"):
                await get_bounded(http, "http://o/p.m3u8", max_bytes=65536, deadline_s=30)
    asyncio.run(main())


def test_a_declared_length_over_the_limit_is_refused_before_the_body() -> None:
    async def main() -> None:
        transport = httpx.MockTransport(lambda _: httpx.Response(
            200, headers={"Content-Length": str(10 * 1048576)}, content=b""))
        async with _client(transport) as http:
            with pytest.raises(InputTooLarge, match=r"is 10\.0 MiB, over the 1\.0 MiB limit"):
                await get_bounded(http, "http://o/p.m3u8", max_bytes=1048576, deadline_s=30)
    asyncio.run(main())


def test_a_body_within_the_limits_is_returned_whole() -> None:
    async def main() -> None:
        transport = httpx.MockTransport(lambda _: httpx.Response(200, content=b"#EXTM3U\n"))
        async with _client(transport) as http:
            response = await get_bounded(http, "http://o/p.m3u8", max_bytes=8, deadline_s=30)
        assert response.status_code == 200 and response.text == "#EXTM3U\n"
    asyncio.run(main())


def test_too_many_segments_are_refused_before_parsing() -> None:
    text = "#EXTM3U\n" + "#EXTINF:2,\ns.ts\n" * 11
    check_segment_count(text, "u", 11)
    with pytest.raises(InputTooLarge, match="lists 11 segments, over the 10 limit"):
        check_segment_count(text, "u", 10)


@pytest.mark.parametrize(("value", "parsed"), [
    ("bytes 0-9/100", (0, 9, 100)), ("bytes 5-5/*", (5, 5, None)),
    ("bytes 9-0/100", None), ("bytes 0-100/100", None), ("items 0-9/10", None),
    ("bytes 0-/10", None), ("bytes a-b/c", None), ("", None),
])
def test_content_range_parsing(value: str, parsed: tuple[int, int, int | None] | None) -> None:
    assert parse_content_range(value) == parsed


def test_a_range_answer_must_be_the_range_asked() -> None:
    assert range_mismatch("bytes 10-19/100", 10, 19) is None
    assert range_mismatch("bytes 10-99/100", 10, None) is None  # an open-ended resume
    assert "for bytes=10-19" in (range_mismatch("bytes 198-207/1000", 10, 19) or "")
    assert "for bytes=10-19" in (range_mismatch("bytes 10-15/100", 10, 19) or "")
    assert range_mismatch(None, 0, 9) == "a 206 without Content-Range"
    assert "malformed" in (range_mismatch("bytes x", 0, 9) or "")


async def _adopt(files: WholeFiles, transport: httpx.MockTransport) -> WholeFile:
    http = _client(transport)
    stack = contextlib.AsyncExitStack()
    await stack.enter_async_context(http)
    response = await stack.enter_async_context(http.stream("GET", "http://o/all.ts"))
    return await files.adopt("http://o/all.ts", "e1", stack, response)


def test_every_slice_comes_from_one_download() -> None:
    async def main() -> None:
        files = WholeFiles(max_bytes=1 << 20, keep=2, stall_timeout_s=lambda _: 5.0)

        async def chunks() -> AsyncIterator[bytes]:
            for k in range(0, len(BODY), 1000):
                yield BODY[k:k + 1000]
                await asyncio.sleep(0)
        await _adopt(files, httpx.MockTransport(lambda _: httpx.Response(200, content=chunks())))
        whole = files.get("http://o/all.ts")
        assert whole is not None
        slices = await asyncio.gather(*(whole.slice(k, k + 4096)
                                        for k in range(0, len(BODY), 4096)))
        assert b"".join(slices) == BODY
        assert files.downloads == 1
        with pytest.raises(WholeFileError, match="byte range ends at"):
            await whole.slice(len(BODY) - 10, len(BODY) + 10)
        await files.close()
    asyncio.run(main())


def test_two_whole_answers_at_once_keep_one_download() -> None:
    """Two ranges of one file in flight (video and audio), both answered 200 with everything:
    the second answer is dropped, both read from the first download, nothing is left open."""
    async def main() -> None:
        files = WholeFiles(max_bytes=1 << 20, keep=2, stall_timeout_s=lambda _: 5.0)
        gate = asyncio.Event()

        async def chunks() -> AsyncIterator[bytes]:
            await gate.wait()
            yield BODY
        transport = httpx.MockTransport(lambda _: httpx.Response(200, content=chunks()))
        first = await _adopt(files, transport)
        second = await _adopt(files, transport)
        assert second is first and files.downloads == 1
        gate.set()
        assert await second.slice(10, 20) == BODY[10:20]
        await files.close()
        assert first._file is None
    asyncio.run(main())


def test_a_broken_download_fails_its_waiters_and_is_forgotten() -> None:
    async def main() -> None:
        failed: list[tuple[str, Cause]] = []
        files = WholeFiles(max_bytes=1 << 20, keep=2, stall_timeout_s=lambda _: 5.0,
                           on_failed=lambda edge, exc: failed.append((edge, exc.cause)))

        async def broken() -> AsyncIterator[bytes]:
            yield BODY[:1000]
            raise httpx.ReadError("reset")
        await _adopt(files, httpx.MockTransport(lambda _: httpx.Response(
            200, headers={"Content-Length": str(len(BODY))}, content=broken())))
        whole = files.get("http://o/all.ts")
        assert whole is not None
        with pytest.raises(WholeFileError) as caught:
            await whole.slice(1000, 2000)
        assert caught.value.cause is Cause.TRUNCATED
        assert failed == [("e1", Cause.TRUNCATED)]
        assert files.get("http://o/all.ts") is None  # the next attempt starts afresh
        await files.close()
    asyncio.run(main())


def test_a_whole_file_over_the_limit_is_refused() -> None:
    async def main() -> None:
        files = WholeFiles(max_bytes=1000, keep=2, stall_timeout_s=lambda _: 5.0)
        whole = await _adopt(files, httpx.MockTransport(
            lambda _: httpx.Response(200, content=BODY)))  # Content-Length: 16384
        assert files.get("http://o/all.ts") is None and files.downloads == 0
        with pytest.raises(WholeFileError, match="16384 bytes, over the 1000-byte limit"):
            await whole.slice(0, 10)

        async def unsized() -> AsyncIterator[bytes]:
            yield BODY
        whole = await _adopt(files, httpx.MockTransport(
            lambda _: httpx.Response(200, content=unsized())))
        with pytest.raises(WholeFileError, match="over 1000 bytes"):
            await whole.slice(0, 2000)
        await files.close()
    asyncio.run(main())


def test_ext_x_gap_marks_only_its_segment() -> None:
    text = ("#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXTINF:2,\na.ts\n#EXT-X-GAP\n#EXTINF:2,\nb.ts\n"
            "#EXTINF:2,\nc.ts\n#EXT-X-ENDLIST\n")
    playlist = parse_media_playlist(text, "http://o/p.m3u8")
    assert [s.gap for s in playlist.segments] == [False, True, False]
    assert [s.start_s for s in playlist.segments] == [0.0, 2.0, 4.0]


def test_an_init_range_from_a_server_that_ignores_range_is_read_only_to_its_end() -> None:
    """A DASH SegmentBase movie from ``python -m http.server``: the init's Range is answered
    with the whole file, of which only the init's bytes are read (not the movie into memory)."""
    from player.decrypt import Decryptor, KeyCache
    from player.edgepool import EdgePool, edges_of
    from player.fetcher import SegmentFetcher
    from player.presentation import InitSection, Multivariant
    from tests.helpers.policies import FixedPolicy
    from tests.unit.player.test_fmp4 import init_segment

    init = init_segment()
    sent: list[int] = []

    async def movie() -> AsyncIterator[bytes]:
        yield init
        while True:  # media that never ends
            sent.append(65536)
            yield bytes(65536)
            await asyncio.sleep(0)

    async def no_key(url: str) -> bytes:
        raise AssertionError(url)

    async def main() -> None:
        async with _client(httpx.MockTransport(
                lambda _: httpx.Response(200, content=movie()))) as http:
            mv = Multivariant.single("http://o/v.mp4")
            fetcher = SegmentFetcher(http, EdgePool(edges_of(mv), http), mv,
                                     Decryptor(KeyCache(no_key)), FixedPolicy())
            data, info = await fetcher.init_segment(
                ".", "v", InitSection("http://o/v.mp4", (0, len(init))))
            await fetcher.aclose()
        assert data == init and info.video is not None
        assert len(sent) <= 1
    asyncio.run(main())
