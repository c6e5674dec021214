"""What the scheduler fetches next: the position, the second fetch, the capped choice."""

from __future__ import annotations

from typing import Any

from abr.interface import Decision
from player.buffer import BufferConfig, BufferedSegment, SegmentBuffer
from player.scheduler_config import SchedulerConfig
from player.scheduler_plan import capped_choice, next_position, parallel_ok, will_fetch


def _buffer(count: int = 10, held: tuple[int, ...] = ()) -> SegmentBuffer:
    buffer = SegmentBuffer([4.0] * count, BufferConfig(target_s=12.0))
    for k in held:
        buffer.put(BufferedSegment(k, b"x", "r0", 0, 4.0))
    return buffer


def test_next_position_skips_what_is_buffered_or_in_flight() -> None:
    buffer = _buffer(held=(0, 1))
    assert next_position(buffer, {2}, target_s=60.0, held=False) == 3
    assert next_position(buffer, set(), target_s=12.0, held=False) == 2


def test_next_position_stops_at_the_target_and_under_the_hold() -> None:
    buffer = _buffer(held=(0, 1, 2))
    assert next_position(buffer, set(), target_s=12.0, held=False) is None
    assert next_position(buffer, set(), target_s=60.0, held=False) == 3
    assert next_position(_buffer(held=(0, 1)), set(), target_s=60.0, held=True) is None
    assert next_position(_buffer(held=(0,)), set(), target_s=60.0, held=True) == 1


def test_next_position_is_the_count_when_everything_is_buffered_or_coming() -> None:
    buffer = _buffer(count=3, held=(0, 1))
    assert next_position(buffer, {2}, target_s=60.0, held=False) == 3


def test_will_fetch_within_the_target_only() -> None:
    buffer = _buffer()
    buffer.set_playhead(2)
    assert will_fetch(buffer, set(), 4, target_s=12.0)
    assert not will_fetch(buffer, set(), 5, target_s=12.0)
    assert not will_fetch(buffer, set(), 1, target_s=12.0)
    assert will_fetch(buffer, {1}, 1, target_s=12.0)


def test_parallel_needs_the_switch_a_low_buffer_and_headroom() -> None:
    on = SchedulerConfig(parallel_fetch=True, parallel_below_s=10.0, parallel_headroom=2.0)
    bitrates = (1_000_000, 3_000_000)
    assert parallel_ok(on, 6e6, bitrates, 1, buffer_s=4.0)
    assert not parallel_ok(on, 5.9e6, bitrates, 1, buffer_s=4.0)
    assert not parallel_ok(on, 6e6, bitrates, 1, buffer_s=10.0)
    assert not parallel_ok(on, None, bitrates, 1, buffer_s=4.0)
    assert not parallel_ok(SchedulerConfig(), 6e9, bitrates, 1, buffer_s=4.0)
    assert parallel_ok(on, 2e6, bitrates, None, buffer_s=4.0)  # no decision yet: rung 0


class _Policy:
    def __init__(self, max_rung: int | None) -> None:
        self.max_rung = max_rung
        self.seen: list[Any] = []

    def choose(self, index: int, buffer_s: float, now_s: float) -> Decision:
        self.seen.append(self.max_rung)
        return Decision(rung=5 if self.max_rung is None else self.max_rung, reason="test")


def test_capped_choice_lowers_the_cap_for_one_call_only() -> None:
    policy = _Policy(max_rung=3)
    assert capped_choice(policy, 1, 0, 0.0, 0.0).rung == 1  # type: ignore[arg-type]
    assert capped_choice(policy, 4, 0, 0.0, 0.0).rung == 3  # type: ignore[arg-type]
    assert policy.max_rung == 3
    free = _Policy(max_rung=None)
    assert capped_choice(free, 2, 0, 0.0, 0.0).rung == 2  # type: ignore[arg-type]
    assert capped_choice(free, None, 0, 0.0, 0.0).rung == 5  # type: ignore[arg-type]
    assert free.max_rung is None
