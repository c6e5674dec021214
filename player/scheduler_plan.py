"""What the scheduler fetches next: the position, whether a second fetch may run, the rung cap.

Pure decisions over the buffer and the ABR policy; the scheduler acts on them. Positions are
segment indices; ``target_s`` is the forward buffer's target (seconds).

**One fetch at a time**, by default: on one link, two downloads share the bandwidth, so a second
only helps when the first is latency-bound. With ``parallel_fetch`` on, a second position is
fetched alongside when the buffer is under ``parallel_below_s`` *and* the throughput estimate is
at least ``parallel_headroom`` × the current rung's bitrate (both halves of the link still arrive
faster than real time).
"""

from __future__ import annotations

from collections.abc import Container, Sequence

from abr.interface import AbrPolicy, Decision
from player.buffer import SegmentBuffer
from player.scheduler_config import SchedulerConfig


def next_position(buffer: SegmentBuffer, inflight: Container[int], *, target_s: float,
                  held: bool) -> int | None:
    """The position to fetch next: the first one at or after the buffered run that is neither
    buffered nor being fetched; ``buffer.count`` when every position to the end is; None when
    nothing should start now (the buffer reaches ``target_s``, or the start-up hold allows
    no further than one segment past the playhead)."""
    k = buffer.contiguous_end()
    while k < buffer.count and (k in buffer or k in inflight):
        k += 1
    if k >= buffer.count:
        return buffer.count
    if buffer.seconds_between(buffer.playhead, k) >= target_s:
        return None
    if held and k > buffer.playhead + 1:
        return None
    return k


def will_fetch(buffer: SegmentBuffer, inflight: Container[int], index: int, *,
               target_s: float) -> bool:
    """Position ``index`` is being fetched, or will be without moving the playhead."""
    return index in inflight or (
        buffer.playhead <= index and buffer.seconds_between(buffer.playhead, index) < target_s)


def parallel_ok(config: SchedulerConfig, estimate_bps: float | None,
                bitrates_bps: Sequence[int], rung: int | None, buffer_s: float) -> bool:
    """A second fetch may run alongside: allowed, the buffer is under ``parallel_below_s`` and
    the estimate is at least ``parallel_headroom`` × the current rung's bitrate."""
    if not config.parallel_fetch or estimate_bps is None or buffer_s >= config.parallel_below_s:
        return False
    current = min(rung or 0, len(bitrates_bps) - 1)
    return estimate_bps >= config.parallel_headroom * bitrates_bps[current]


def capped_choice(policy: AbrPolicy, cap: int | None, index: int, buffer_s: float,
                  now_s: float) -> Decision:
    """The policy's choice with its ``max_rung`` lowered to ``cap`` for this one call (the first
    segment, and the start-up hold); None: the policy's own cap."""
    saved = policy.max_rung
    if cap is not None:
        policy.max_rung = cap if saved is None else min(saved, cap)
    try:
        return policy.choose(index, buffer_s, now_s)
    finally:
        policy.max_rung = saved
