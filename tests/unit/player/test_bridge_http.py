"""The loopback bridge over raw asyncio streams: routing, HTTP parsing, ranges, keep-alive."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from urllib.parse import urlsplit

import httpx
import pytest

from player.bridge import LoopbackBridge, media_playlist
from player.http_loopback import HttpLimits
from player.segments import SegmentSourceError, StaticSegments

SEGMENTS = [bytes([k]) * (1000 + k) for k in range(4)]
DURATIONS = [2.0, 2.0, 2.0, 1.5]


class RawResponse:
    def __init__(self, status: int, headers: dict[str, str], body: bytes) -> None:
        self.status, self.headers, self.body = status, headers, body


async def read_response(reader: asyncio.StreamReader, *, head: bool = False) -> RawResponse:
    raw = await reader.readuntil(b"\r\n\r\n")
    lines = raw.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ")[1])
    headers = {}
    for line in lines[1:]:
        if line:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
    length = 0 if head else int(headers.get("content-length", "0"))
    body = await reader.readexactly(length)
    return RawResponse(status, headers, body)


class Client:
    """One raw connection to the bridge."""

    def __init__(self, bridge: LoopbackBridge) -> None:
        parts = urlsplit(bridge.url)
        self.host, self.port = parts.hostname or "", parts.port or 0
        self.base = parts.path.rsplit("/", 1)[0]  # /{token}

    async def __aenter__(self) -> Client:
        self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.writer.close()
        with contextlib.suppress(ConnectionError):
            await self.writer.wait_closed()

    async def send(self, data: bytes) -> None:
        self.writer.write(data)
        await self.writer.drain()

    async def request(self, target: str, method: str = "GET", headers: str = "",
                      version: str = "HTTP/1.1") -> RawResponse:
        await self.send(f"{method} {target} {version}\r\nHost: x\r\n{headers}\r\n".encode())
        return await read_response(self.reader, head=method == "HEAD")

    async def closed_by_server(self) -> bool:
        return await asyncio.wait_for(self.reader.read(1), 2.0) == b""


Scenario = Callable[[LoopbackBridge, StaticSegments], Awaitable[None]]


def run(scenario: Scenario, source: StaticSegments | None = None, **bridge_args: object) -> None:
    async def main() -> None:
        src = source or StaticSegments(SEGMENTS, DURATIONS)
        bridge = LoopbackBridge(src, **bridge_args)  # type: ignore[arg-type]
        await bridge.start()
        try:
            await asyncio.wait_for(scenario(bridge, src), 10.0)
        finally:
            await bridge.close()
    asyncio.run(main())


def test_start_returns_loopback_url_with_unguessable_token() -> None:
    urls = []

    async def scenario(bridge: LoopbackBridge, _: StaticSegments) -> None:
        urls.append(bridge.url)

    run(scenario)
    run(scenario)
    first, second = (urlsplit(u) for u in urls)
    assert first.scheme == "http" and first.hostname == "127.0.0.1" and first.port
    token = first.path.split("/")[1]
    assert len(token) >= 32 and first.path == f"/{token}/media.m3u8"
    assert first.path != second.path


def test_playlist_is_served() -> None:
    async def scenario(bridge: LoopbackBridge, _: StaticSegments) -> None:
        async with Client(bridge) as c:
            r = await c.request(f"{c.base}/media.m3u8")
        assert r.status == 200
        assert r.headers["content-type"] == "application/vnd.apple.mpegurl"
        assert r.body.decode() == media_playlist(DURATIONS)

    run(scenario)


def test_segment_is_served_and_reported() -> None:
    async def scenario(bridge: LoopbackBridge, src: StaticSegments) -> None:
        async with Client(bridge) as c:
            r = await c.request(f"{c.base}/seg/2.ts")
        assert r.status == 200
        assert r.headers["content-type"] == "video/mp2t"
        assert r.headers["content-length"] == str(len(SEGMENTS[2]))
        assert r.body == SEGMENTS[2]
        assert src.requests == [2]

    run(scenario)


@pytest.mark.parametrize("target", [
    "/wrong-token/media.m3u8", "/wrong-token/seg/0.ts", "/", "/{token}", "/{token}/",
    "/{token}/seg/4.ts", "/{token}/seg/-1.ts", "/{token}/seg/01.ts", "/{token}/seg/a.ts",
    "/{token}/seg/1.ts/x", "/{token}/seg/99999999999999999999.ts", "/{token}/other.m3u8",
    "/{token}/../{token}/media.m3u8",
])
def test_anything_else_is_404_without_details(target: str) -> None:
    async def scenario(bridge: LoopbackBridge, src: StaticSegments) -> None:
        async with Client(bridge) as c:
            r = await c.request(target.replace("{token}", c.base.strip("/")))
        assert r.status == 404
        assert r.body == b""
        assert src.requests == []

    run(scenario)


def test_other_methods_are_405_with_the_token_and_404_without() -> None:
    async def scenario(bridge: LoopbackBridge, src: StaticSegments) -> None:
        async with Client(bridge) as c:
            r = await c.request(f"{c.base}/seg/0.ts", method="DELETE")
            assert r.status == 405 and r.headers["allow"] == "GET, HEAD"
            r = await c.request(f"{c.base}/media.m3u8", method="OPTIONS")
            assert r.status == 405
            r = await c.request("/nope/seg/0.ts", method="DELETE")
            assert r.status == 404
        assert src.requests == []

    run(scenario)


def test_head_gives_length_without_body_and_keeps_the_connection() -> None:
    async def scenario(bridge: LoopbackBridge, _: StaticSegments) -> None:
        async with Client(bridge) as c:
            r = await c.request(f"{c.base}/seg/1.ts", method="HEAD")
            assert r.status == 200 and r.headers["content-length"] == str(len(SEGMENTS[1]))
            assert r.headers["accept-ranges"] == "bytes"
            r = await c.request(f"{c.base}/seg/3.ts")
            assert r.body == SEGMENTS[3]

    run(scenario)


@pytest.mark.parametrize(("range_header", "status", "span"), [
    ("bytes=0-", 206, (0, 1001)),
    ("bytes=10-19", 206, (10, 20)),
    ("bytes=990-", 206, (990, 1001)),
    ("bytes=-5", 206, (996, 1001)),
    ("bytes=900-5000", 206, (900, 1001)),
    ("bytes=0-1,5-6", 200, (0, 1001)),      # multiple ranges: ignored
    ("items=0-1", 200, (0, 1001)),          # other unit: ignored
    ("bytes=9-3", 200, (0, 1001)),          # invalid: ignored
    ("bytes=1001-", 416, None),
    ("bytes=-0", 416, None),
])
def test_single_range_requests(range_header: str, status: int,
                               span: tuple[int, int] | None) -> None:
    async def scenario(bridge: LoopbackBridge, _: StaticSegments) -> None:
        async with Client(bridge) as c:
            r = await c.request(f"{c.base}/seg/1.ts", headers=f"Range: {range_header}\r\n")
            assert r.status == status
            if span is None:
                assert r.headers["content-range"] == "bytes */1001"
                assert r.body == b""
            else:
                assert r.body == SEGMENTS[1][span[0]:span[1]]
                if status == 206:
                    assert r.headers["content-range"] == f"bytes {span[0]}-{span[1] - 1}/1001"
            # still usable afterwards
            assert (await c.request(f"{c.base}/seg/0.ts")).body == SEGMENTS[0]

    run(scenario)


def test_keep_alive_two_requests_and_pipelining_on_one_connection() -> None:
    async def scenario(bridge: LoopbackBridge, src: StaticSegments) -> None:
        async with Client(bridge) as c:
            assert (await c.request(f"{c.base}/seg/0.ts")).body == SEGMENTS[0]
            assert (await c.request(f"{c.base}/seg/1.ts")).body == SEGMENTS[1]
            await c.send(f"GET {c.base}/seg/2.ts HTTP/1.1\r\n\r\n"
                         f"GET {c.base}/seg/3.ts HTTP/1.1\r\n\r\n".encode())
            assert (await read_response(c.reader)).body == SEGMENTS[2]
            assert (await read_response(c.reader)).body == SEGMENTS[3]
        assert src.requests == [0, 1, 2, 3]

    run(scenario)


def test_connection_close_and_http10_close_after_the_response() -> None:
    async def scenario(bridge: LoopbackBridge, _: StaticSegments) -> None:
        async with Client(bridge) as c:
            r = await c.request(f"{c.base}/seg/0.ts", headers="Connection: close\r\n")
            assert r.headers["connection"] == "close" and r.body == SEGMENTS[0]
            assert await c.closed_by_server()
        async with Client(bridge) as c:
            r = await c.request(f"{c.base}/media.m3u8", version="HTTP/1.0")
            assert r.status == 200
            assert await c.closed_by_server()
        async with Client(bridge) as c:
            r = await c.request(f"{c.base}/media.m3u8", version="HTTP/1.0",
                                headers="Connection: keep-alive\r\n")
            assert r.headers["connection"] == "keep-alive"
            assert (await c.request(f"{c.base}/seg/0.ts")).status == 200

    run(scenario)


@pytest.mark.parametrize(("raw", "status"), [
    (b"GARBAGE\r\n\r\n", 400),
    (b"GET /a\r\n\r\n", 400),
    (b"GET  /a HTTP/1.1\r\n\r\n", 400),
    (b"get /a HTTP/1.1\r\n\r\n", 400),
    (b"GET a HTTP/1.1\r\n\r\n", 400),
    (b"GET /a HTTP/2.0\r\n\r\n", 505),
    (b"GET /a FOO/1.1\r\n\r\n", 400),
    (b"GET /\xff HTTP/1.1\r\n\r\n", 400),
    (b"GET /a HTTP/1.1\r\nno colon here\r\n\r\n", 400),
    (b"GET /a HTTP/1.1\r\n: empty name\r\n\r\n", 400),
    (b"GET /a HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc", 400),
    (b"GET /a HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n", 400),
    (b"GET /" + b"a" * 5000 + b" HTTP/1.1\r\n\r\n", 414),
    (b"GET /a HTTP/1.1\r\nX: " + b"a" * 5000 + b"\r\n\r\n", 431),
    (b"GET /a HTTP/1.1\r\n" + b"X-Header: 0123456789012345678901234567\r\n" * 500 + b"\r\n", 431),
    (b"GET /a HTTP/1.1\r\n" + b"X: 1\r\n" * 70 + b"\r\n", 431),
])
def test_malformed_or_oversized_requests_are_refused_and_closed(raw: bytes, status: int) -> None:
    async def scenario(bridge: LoopbackBridge, _: StaticSegments) -> None:
        async with Client(bridge) as c:
            await c.send(raw)
            r = await read_response(c.reader)
            assert r.status == status and r.body == b""
            assert r.headers["connection"] == "close"
            assert await c.closed_by_server()
        async with Client(bridge) as c:  # the server lives on
            assert (await c.request(f"{c.base}/seg/0.ts")).status == 200

    run(scenario)


def test_half_a_request_then_silence_times_out() -> None:
    async def scenario(bridge: LoopbackBridge, _: StaticSegments) -> None:
        async with Client(bridge) as c:
            await c.send(b"GET /a HTTP/1.1\r\nHost: x\r\n")
            r = await read_response(c.reader)
            assert r.status == 408

    run(scenario, limits=HttpLimits(header_timeout_s=0.2))


def test_idle_keep_alive_connection_is_closed() -> None:
    async def scenario(bridge: LoopbackBridge, _: StaticSegments) -> None:
        async with Client(bridge) as c:
            assert (await c.request(f"{c.base}/seg/0.ts")).status == 200
            assert await c.closed_by_server()

    run(scenario, limits=HttpLimits(idle_timeout_s=0.2))


def test_client_disconnect_mid_body_does_not_hurt_the_server() -> None:
    big = [b"\x47" * (8 << 20)]

    async def scenario(bridge: LoopbackBridge, _: StaticSegments) -> None:
        for _attempt in range(3):
            async with Client(bridge) as c:
                await c.send(f"GET {c.base}/seg/0.ts HTTP/1.1\r\n\r\n".encode())
                await c.reader.readexactly(1000)  # head and some body, then hang up
                c.writer.transport.abort()
        async with httpx.AsyncClient() as client:
            r = await client.get(bridge.url.replace("media.m3u8", "seg/0.ts"))
            assert r.status_code == 200 and len(r.content) == len(big[0])

    run(scenario, StaticSegments(big, [2.0]))


def test_client_disconnect_while_waiting_cancels_the_wait() -> None:
    cancelled = asyncio.Event()

    class Slow(StaticSegments):
        async def segment(self, index: int) -> bytes:
            try:
                await asyncio.sleep(30)
            except asyncio.CancelledError:
                cancelled.set()
                raise
            return b""

    async def scenario(bridge: LoopbackBridge, src: StaticSegments) -> None:
        async with Client(bridge) as c:
            await c.send(f"GET {c.base}/seg/1.ts HTTP/1.1\r\n\r\n".encode())
            await asyncio.sleep(0.1)
        await asyncio.wait_for(cancelled.wait(), 2.0)
        assert src.requests == [1]
        assert bridge.error is None

    run(scenario, Slow(SEGMENTS, DURATIONS), limits=HttpLimits(disconnect_poll_s=0.02))


def test_slow_segment_is_waited_for() -> None:
    async def scenario(bridge: LoopbackBridge, _: StaticSegments) -> None:
        async with Client(bridge) as c:
            started = asyncio.get_running_loop().time()
            r = await c.request(f"{c.base}/seg/2.ts")
            assert r.body == SEGMENTS[2]
            assert asyncio.get_running_loop().time() - started >= 0.3

    run(scenario, StaticSegments(SEGMENTS, DURATIONS, delay_s={2: 0.3}))


def test_source_error_fails_fast_once_and_is_reported() -> None:
    errors: list[BaseException] = []

    async def scenario(bridge: LoopbackBridge, src: StaticSegments) -> None:
        async with Client(bridge) as c:
            assert (await c.request(f"{c.base}/seg/0.ts")).status == 200
            r = await c.request(f"{c.base}/seg/1.ts")
            assert r.status == 503 and r.body == b""
            assert isinstance(bridge.error, SegmentSourceError)
            assert (await c.request(f"{c.base}/seg/2.ts")).status == 503
            assert (await c.request(f"{c.base}/media.m3u8")).status == 200
        assert src.served == [0]
        assert src.requests == [0, 1]  # later requests never reach the source
        assert errors == [bridge.error]

    run(scenario, StaticSegments(SEGMENTS, DURATIONS, fail_at={1}), on_error=errors.append)


def test_close_drops_open_connections() -> None:
    async def scenario(bridge: LoopbackBridge, _: StaticSegments) -> None:
        async with Client(bridge) as c:
            assert (await c.request(f"{c.base}/seg/0.ts")).status == 200
            await asyncio.wait_for(bridge.close(), 2.0)
            assert await c.closed_by_server()

    run(scenario)


def test_httpx_client_reuses_one_connection() -> None:
    async def scenario(bridge: LoopbackBridge, src: StaticSegments) -> None:
        async with httpx.AsyncClient() as client:
            base = bridge.url.rsplit("/", 1)[0]
            playlist = (await client.get(bridge.url)).text
            uris = [line for line in playlist.splitlines() if not line.startswith("#")]
            bodies = [(await client.get(f"{base}/{uri}")).content for uri in uris]
        assert bodies == SEGMENTS
        assert src.requests == [0, 1, 2, 3]

    run(scenario)
