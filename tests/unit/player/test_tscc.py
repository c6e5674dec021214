"""Continuity counters run on across rendition switches; nothing else in a packet changes."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

from player.tscc import NULL_PID, PACKET, ContinuityStitcher


def packet(pid: int, cc: int, payload: bool = True, fill: int = 0xAB) -> bytes:
    afc = 0x10 if payload else 0x20
    return bytes([0x47, (pid >> 8) & 0x1F, pid & 0xFF, afc | cc]) + bytes([fill]) * (PACKET - 4)


def segment(pid_ccs: list[tuple[int, int]]) -> bytes:
    return b"".join(packet(pid, cc) for pid, cc in pid_ccs)


def counters(data: bytes) -> list[tuple[int, int]]:
    return [(((data[k + 1] & 0x1F) << 8) | data[k + 2], data[k + 3] & 0x0F)
            for k in range(0, len(data), PACKET)]


def test_a_switch_continues_each_pids_counter() -> None:
    stitcher = ContinuityStitcher()
    low = segment([(0x100, 14), (0x101, 3), (0x100, 15)])  # rendition A, segment 0
    high = segment([(0x100, 7), (0x101, 9), (0x100, 8)])  # rendition B, segment 1
    first = stitcher.stitch(0, low)
    assert first == low  # nothing before it: as packaged
    assert counters(stitcher.stitch(1, high)) == [(0x100, 0), (0x101, 4), (0x100, 1)]


def test_only_the_counter_changes_and_packets_without_payload_repeat_it() -> None:
    stitcher = ContinuityStitcher()
    stitcher.stitch(0, segment([(0x100, 5)]))
    data = packet(0x100, 9, payload=False) + packet(0x100, 10) + packet(NULL_PID, 3)
    out = stitcher.stitch(1, data)
    assert counters(out) == [(0x100, 5), (0x100, 6), (NULL_PID, 3)]
    assert len(out) == len(data)
    assert [out[k + 4:k + PACKET] for k in range(0, len(out), PACKET)] == [
        data[k + 4:k + PACKET] for k in range(0, len(data), PACKET)]


def test_a_seek_starts_afresh_and_a_second_read_gets_the_same_bytes() -> None:
    stitcher = ContinuityStitcher()
    stitcher.stitch(0, segment([(0x100, 0)]))
    b = segment([(0x100, 9)])
    once = stitcher.stitch(1, b)
    assert stitcher.stitch(1, b) == once  # mpv read it again: the same counters
    assert stitcher.stitch(7, b) == b  # not the next one: a seek, as packaged


def test_streamed_chunks_of_any_size_give_the_same_bytes() -> None:
    a = segment([(0x100, k % 16) for k in range(20)])
    b = segment([(0x100, (k + 5) % 16) for k in range(20)]) + b"\x00" * 7  # a ragged tail

    async def chunks(data: bytes, size: int) -> AsyncIterator[bytes]:
        for k in range(0, len(data), size):
            yield data[k:k + size]

    async def streamed(size: int) -> bytes:
        stitcher = ContinuityStitcher()
        out = b""
        for index, data in enumerate((a, b)):
            async for piece in stitcher.stitch_stream(index, chunks(data, size)):
                out += piece
        return out

    whole = ContinuityStitcher()
    expected = whole.stitch(0, a) + whole.stitch(1, b)
    for size in (1, 100, 188, 1000, 10_000):
        assert asyncio.run(streamed(size)) == expected
    assert expected[len(a):len(a) + 4] != b[:4]  # the switch was rewritten
