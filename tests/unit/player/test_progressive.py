"""Progressive delivery: incremental decryption, the live segment, the bridge's streamed
responses and the scheduler's ``stream()``."""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator
from typing import Any

import pytest

from player.bridge import LoopbackBridge
from player.buffer import LiveSegment, SegmentAborted
from player.decrypt import (
    CorruptSegment,
    StreamDecryptor,
    decrypt_aes128,
    plaintext_length,
)
from player.presentation import Key
from player.segments import SegmentSourceError, SegmentStream, StaticSegments
from tests.helpers.fake_catalog import encrypt_segment, fake_segment
from tests.unit.player.test_bridge_http import Client, read_response

KEY = bytes(range(16))


def _decrypt_in_pieces(data: bytes, key: bytes | None, iv: bytes | None,
                       rng: random.Random) -> tuple[bytes, list[int]]:
    decryptor = StreamDecryptor(key, iv)
    out, sizes, pos = bytearray(), [], 0
    while pos < len(data):
        size = rng.choice((1, 15, 16, 17, 187, 188, 189, rng.randint(1, 40000)))
        piece = decryptor.feed(data[pos:pos + size])
        assert len(piece) % 188 == 0  # whole packets only
        out += piece
        sizes.append(len(piece))
        pos += size
    out += decryptor.finish()
    return bytes(out), sizes


@pytest.mark.parametrize("packets", [1, 2, 7, 85, 1000])
def test_incremental_decrypt_equals_whole_decrypt_for_random_splits(packets: int) -> None:
    plain = fake_segment("t", "360p", 3, 188 * packets)
    data = encrypt_segment(plain, KEY, 3)
    iv = Key("AES-128", "k", None).iv_for(3)
    assert decrypt_aes128(data, KEY, iv) == plain
    assert plaintext_length(True, len(data)) == len(plain)
    rng = random.Random(packets)
    for _ in range(30):
        out, _sizes = _decrypt_in_pieces(data, KEY, iv, rng)
        assert out == plain
    clear, _ = _decrypt_in_pieces(plain, None, None, rng)
    assert clear == plain and plaintext_length(False, len(plain)) == len(plain)


def test_plaintext_is_handed_out_before_the_end_but_never_the_padding_block() -> None:
    plain = fake_segment("t", "360p", 1, 188 * 100)
    data = encrypt_segment(plain, KEY, 1)
    decryptor = StreamDecryptor(KEY, (1).to_bytes(16, "big"))
    first = decryptor.feed(data[:188 * 10])
    assert 0 < len(first) <= 188 * 10 - 16 and plain.startswith(first)
    rest = decryptor.feed(data[188 * 10:])
    assert plain.startswith(first + rest)  # never a padding byte: the last block waited
    assert first + rest + decryptor.finish() == plain


def test_a_bad_sync_byte_is_found_as_soon_as_its_packet_is_decrypted() -> None:
    plain = bytearray(fake_segment("t", "360p", 1, 188 * 100))
    plain[188 * 5] = 0x00
    data = encrypt_segment(bytes(plain), KEY, 1)
    decryptor = StreamDecryptor(KEY, (1).to_bytes(16, "big"))
    assert len(decryptor.feed(data[:188 * 5])) == 188 * 4  # packets 0-3 (4 waits for more)
    with pytest.raises(CorruptSegment, match="packet 5"):
        decryptor.feed(data[188 * 5:188 * 7])


def test_bad_padding_and_impossible_lengths_are_corrupt() -> None:
    plain = fake_segment("t", "360p", 1, 188 * 10)
    data = bytearray(encrypt_segment(plain, KEY, 1))
    data[-1] ^= 0x55  # garbles the padding block
    decryptor = StreamDecryptor(KEY, (1).to_bytes(16, "big"))
    decryptor.feed(bytes(data))
    with pytest.raises(CorruptSegment):
        decryptor.finish()
    with pytest.raises(CorruptSegment):
        plaintext_length(True, 1000)  # not whole AES blocks
    with pytest.raises(CorruptSegment):
        plaintext_length(True, 16 * 20)  # no whole number of packets encrypts to it
    with pytest.raises(CorruptSegment):
        plaintext_length(False, 189)


# --- LiveSegment -------------------------------------------------------------------------------

async def _collect(chunks: AsyncIterator[bytes]) -> bytes:
    return b"".join([c async for c in chunks])


def test_a_reader_gets_bytes_as_they_are_appended() -> None:
    async def main() -> None:
        live = LiveSegment(0)
        live.set_length(6)
        reader = live.chunks()
        live.append(b"abc")
        assert await anext(reader) == b"abc"
        pending = asyncio.ensure_future(anext(reader))
        await asyncio.sleep(0)
        assert not pending.done()
        live.append(b"def")
        assert await pending == b"def"
        assert live.seal() == b"abcdef"
        with pytest.raises(StopAsyncIteration):
            await anext(reader)
    asyncio.run(main())


def test_a_restart_is_compared_and_only_the_confirmed_prefix_is_readable() -> None:
    async def main() -> None:
        live = LiveSegment(0)
        live.set_length(8)
        reader = live.chunks()
        live.append(b"abcd")
        assert await anext(reader) == b"abcd"
        live.restart()  # e.g. corrupt after 4 bytes: the whole file again from another edge
        live.append(b"ab")
        pending = asyncio.ensure_future(anext(reader))
        await asyncio.sleep(0)
        assert not pending.done()  # bytes 0-3 are already out; nothing new yet
        live.append(b"Xdefgh")  # byte 2 differs from what was handed out
        assert live.differed_at == 2 and not live.tainted
        assert await pending == b"efgh"  # the reader goes on with the right bytes
        assert live.seal() == b"abXdefgh"
    asyncio.run(main())


def test_a_rendition_change_after_bytes_went_out_aborts_readers() -> None:
    async def main() -> None:
        live = LiveSegment(0)
        live.set_length(4)
        reader = live.chunks()
        live.append(b"ab")
        await anext(reader)
        live.reset()
        assert live.tainted and not live.streamable
        with pytest.raises(SegmentAborted):
            await anext(reader)
        failing = LiveSegment(1)
        failing.set_length(4)
        failing.fail(SegmentSourceError("every edge is down"))
        with pytest.raises(SegmentSourceError):
            await _collect(failing.chunks())
    asyncio.run(main())


# --- the bridge --------------------------------------------------------------------------------

class Trickle(StaticSegments):
    """Streams segment 0 in two halves; the second waits for ``go``."""

    def __init__(self, data: bytes, *, fail: BaseException | None = None) -> None:
        super().__init__([data], [2.0])
        self.data = data
        self.go = asyncio.Event()
        self.fail = fail

    async def stream(self, index: int) -> SegmentStream:
        half = len(self.data) // 2

        async def chunks() -> AsyncIterator[bytes]:
            yield self.data[:half]
            await self.go.wait()
            if self.fail is not None:
                raise self.fail
            yield self.data[half:]

        return SegmentStream(len(self.data), chunks())


def _run(source: Trickle, scenario: Any) -> LoopbackBridge:
    async def main() -> LoopbackBridge:
        bridge = LoopbackBridge(source)
        await bridge.start()
        try:
            await asyncio.wait_for(scenario(bridge), 10.0)
        finally:
            await bridge.close()
        return bridge
    return asyncio.run(main())


DATA = bytes(range(256)) * 40


def test_the_bridge_streams_bytes_before_the_source_finishes() -> None:
    source = Trickle(DATA)

    async def scenario(bridge: LoopbackBridge) -> None:
        async with Client(bridge) as client:
            await client.send(f"GET {client.base}/seg/0.ts HTTP/1.1\r\nHost: x\r\n"
                              "Range: bytes=0-\r\n\r\n".encode())
            head = await client.reader.readuntil(b"\r\n\r\n")
            assert b"206" in head and f"Content-Length: {len(DATA)}".encode() in head
            first = await client.reader.readexactly(len(DATA) // 2)  # before `go`
            assert first == DATA[:len(DATA) // 2]
            source.go.set()
            assert await client.reader.readexactly(len(DATA) - len(first)) == DATA[len(first):]
            again = await client.request(f"{client.base}/seg/0.ts", headers="Range: bytes=100-\r\n")
            assert again.status == 206 and again.body == DATA[100:]
    _run(source, scenario)


def test_a_stream_that_cannot_go_on_is_cut_mid_body() -> None:
    source = Trickle(DATA, fail=SegmentAborted("corrupt"))

    async def scenario(bridge: LoopbackBridge) -> None:
        async with Client(bridge) as client:
            await client.send(f"GET {client.base}/seg/0.ts HTTP/1.1\r\nHost: x\r\n\r\n".encode())
            await client.reader.readuntil(b"\r\n\r\n")
            await client.reader.readexactly(len(DATA) // 2)
            source.go.set()
            assert await client.closed_by_server()
    bridge = _run(source, scenario)
    assert bridge.error is None  # one response cut, the stream goes on


def test_a_dead_stream_mid_body_ends_the_bridge_stream() -> None:
    errors: list[BaseException] = []
    source = Trickle(DATA, fail=SegmentSourceError("every edge is down"))

    async def scenario(bridge: LoopbackBridge) -> None:
        bridge._on_error = errors.append
        async with Client(bridge) as client:
            await client.send(f"GET {client.base}/seg/0.ts HTTP/1.1\r\nHost: x\r\n\r\n".encode())
            await client.reader.readuntil(b"\r\n\r\n")
            await client.reader.readexactly(len(DATA) // 2)
            source.go.set()
            assert await client.closed_by_server()
        async with Client(bridge) as client:
            assert (await client.request(f"{client.base}/seg/0.ts")).status == 503
    bridge = _run(source, scenario)
    assert isinstance(bridge.error, SegmentSourceError) and len(errors) == 1


def test_head_requests_still_get_the_whole_segment_length() -> None:
    source = Trickle(DATA)

    async def scenario(bridge: LoopbackBridge) -> None:
        async with Client(bridge) as client:
            await client.send(f"HEAD {client.base}/seg/0.ts HTTP/1.1\r\nHost: x\r\n\r\n".encode())
            response = await read_response(client.reader, head=True)
            assert response.status == 200
            assert response.headers["content-length"] == str(len(DATA))
    _run(source, scenario)
