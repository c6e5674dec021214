"""The forward buffer: levels, byte accounting, eviction, waiters."""

from __future__ import annotations

import asyncio

import pytest

from player.buffer import BufferConfig, BufferedSegment, SegmentBuffer


def seg(index: int, size: int = 100) -> BufferedSegment:
    return BufferedSegment(index, bytes(size), "360p", 0, 4.0)


def make(count: int = 20, **kw: float) -> SegmentBuffer:
    return SegmentBuffer([4.0] * count, BufferConfig(**kw))


def test_level_is_the_contiguous_run_from_the_playhead() -> None:
    buffer = make()
    for k in (0, 1, 2, 4):
        buffer.put(seg(k))
    assert buffer.buffer_s == 12.0 and buffer.contiguous_end() == 3
    assert buffer.bytes_ == 400 and buffer.level_bytes == 300
    buffer.put(seg(3))
    assert buffer.buffer_s == 20.0


def test_replacing_a_segment_keeps_byte_accounting_right() -> None:
    buffer = make()
    buffer.put(seg(0, 100))
    buffer.put(seg(0, 250))
    assert buffer.bytes_ == 250 and buffer.bytes_stored == 350


def test_moving_the_playhead_evicts_behind_the_back_buffer() -> None:
    buffer = make(back_buffer_s=8.0)
    for k in range(8):
        buffer.put(seg(k))
    gone = buffer.set_playhead(5)
    assert gone == [0, 1, 2]  # 3 and 4 are within 8 s behind
    assert buffer.indices == [3, 4, 5, 6, 7] and buffer.bytes_ == 500
    assert buffer.buffer_s == 12.0


def test_a_far_jump_evicts_beyond_the_window() -> None:
    buffer = make(count=100, max_ahead_s=40.0)
    buffer.put(seg(50))
    buffer.set_playhead(0)
    assert 50 not in buffer and buffer.bytes_ == 0


def test_waiters_wake_on_put_and_fail_on_error() -> None:
    async def main() -> None:
        buffer = make()
        waiter = asyncio.create_task(buffer.wait_for(2))
        await asyncio.sleep(0)
        buffer.put(seg(2))
        assert (await waiter).index == 2
        other = asyncio.create_task(buffer.wait_for(3))
        await asyncio.sleep(0)
        buffer.fail(RuntimeError("down"))
        with pytest.raises(RuntimeError, match="down"):
            await other
        with pytest.raises(RuntimeError):
            await buffer.wait_for(4)
        assert (await buffer.wait_for(2)).index == 2  # buffered positions still play
    asyncio.run(main())


def test_a_cancelled_waiter_leaves_nothing_behind() -> None:
    async def main() -> None:
        buffer = make()
        waiter = asyncio.create_task(buffer.wait_for(1))
        await asyncio.sleep(0)
        waiter.cancel()
        with pytest.raises(asyncio.CancelledError):
            await waiter
        assert not buffer._waiters
    asyncio.run(main())
