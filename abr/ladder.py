"""Small helpers over a bitrate ladder (ascending bits per second)."""

from __future__ import annotations

from collections.abc import Sequence


def highest_rung_at_most(bitrates_bps: Sequence[int], bps: float, top: int | None = None) -> int:
    """The highest rung whose bitrate is at most ``bps`` (0 if none), never above ``top``."""
    last = len(bitrates_bps) - 1 if top is None else min(top, len(bitrates_bps) - 1)
    rung = 0
    for index in range(last + 1):
        if bitrates_bps[index] <= bps:
            rung = index
    return rung


def clamp_rung(rung: int, count: int, top: int | None) -> int:
    """``rung`` within 0..count-1 and not above ``top`` (when given)."""
    highest = count - 1 if top is None else max(0, min(top, count - 1))
    return max(0, min(rung, highest))
