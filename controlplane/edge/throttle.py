"""Pacing response bodies to a fixed rate or a replayed bandwidth trace.

One :class:`Pacer` models one edge's uplink: every response on that edge reserves link time for
each slice it sends, in the order the slices ask, so concurrent responses share the rate (their
sum is the rate; each gets a fair share slice by slice). Rates are kbit/s, which is bit/ms; time
starts when the pacer is made (when the slow fault is set) and a trace wraps around at its end.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Protocol

from controlplane.edge.trace import TraceSegment

SLICE_MS = 50.0
"""A paced body is written in slices of about this much link time (ms; default 50)."""
MIN_SLICE_BYTES = 1024
MAX_SLICE_BYTES = 64 * 1024


class RateSchedule(Protocol):
    def bandwidth_kbps(self, at_ms: float) -> float: ...

    def latency_ms(self, at_ms: float) -> float: ...

    def finish_ms(self, start_ms: float, bits: float) -> float:
        """When ``bits`` that start at ``start_ms`` have all crossed the link."""
        ...


@dataclass(frozen=True)
class FixedRate:
    rate_kbps: float

    def bandwidth_kbps(self, at_ms: float) -> float:
        return self.rate_kbps

    def latency_ms(self, at_ms: float) -> float:
        return 0.0

    def finish_ms(self, start_ms: float, bits: float) -> float:
        return start_ms + bits / self.rate_kbps


class TraceRate:
    """A Sabre trace replayed in a loop from time 0."""

    def __init__(self, segments: tuple[TraceSegment, ...]) -> None:
        if not any(s.bandwidth_kbps > 0 for s in segments):
            raise ValueError("a trace needs some bandwidth")
        self._segments = segments
        self._starts_ms: list[float] = []
        total_ms = 0.0
        for seg in segments:
            self._starts_ms.append(total_ms)
            total_ms += seg.duration_ms
        self.period_ms = total_ms
        self.bits_per_period = sum(s.duration_ms * s.bandwidth_kbps for s in segments)

    def _index(self, at_ms: float) -> int:
        phase = at_ms % self.period_ms
        return max(0, bisect.bisect_right(self._starts_ms, phase) - 1)

    def bandwidth_kbps(self, at_ms: float) -> float:
        return self._segments[self._index(at_ms)].bandwidth_kbps

    def latency_ms(self, at_ms: float) -> float:
        return self._segments[self._index(at_ms)].latency_ms

    def finish_ms(self, start_ms: float, bits: float) -> float:
        if bits <= 0:
            return start_ms
        # Any whole period delivers bits_per_period, whatever its phase; keep some bits to walk.
        periods = max(0, math.ceil(bits / self.bits_per_period) - 1)
        t_ms = start_ms + periods * self.period_ms
        left = bits - periods * self.bits_per_period
        index = self._index(t_ms)
        cycle_start_ms = t_ms - (t_ms % self.period_ms)
        while True:
            seg = self._segments[index]
            seg_end_ms = cycle_start_ms + self._starts_ms[index] + seg.duration_ms
            capacity = max(0.0, seg_end_ms - t_ms) * seg.bandwidth_kbps
            if seg.bandwidth_kbps > 0 and left <= capacity:
                return t_ms + left / seg.bandwidth_kbps
            left -= capacity
            t_ms = max(t_ms, seg_end_ms)
            index += 1
            if index == len(self._segments):
                index = 0
                cycle_start_ms += self.period_ms


class Pacer:
    """One edge's paced link, shared by all its responses."""

    def __init__(
        self,
        schedule: RateSchedule,
        monotonic: Callable[[], float],
        sleep: Callable[[float], Awaitable[None]],
    ) -> None:
        self.schedule = schedule
        self._monotonic = monotonic
        self._sleep = sleep
        self._origin_s = monotonic()
        self._free_at_ms = 0.0

    def elapsed_ms(self) -> float:
        return (self._monotonic() - self._origin_s) * 1000.0

    def latency_ms(self) -> float:
        """Time to first byte for a request starting now (a trace's latency_ms; 0 for a rate)."""
        return self.schedule.latency_ms(self.elapsed_ms())

    def slice_bytes(self) -> int:
        """How many bytes to write at a time: about SLICE_MS of link time at the current rate."""
        bytes_per_ms = self.schedule.bandwidth_kbps(self.elapsed_ms()) / 8.0
        return int(min(MAX_SLICE_BYTES, max(MIN_SLICE_BYTES, bytes_per_ms * SLICE_MS)))

    def reserve(self, nbytes: int) -> float:
        """Book the link for ``nbytes``; return the delay (s) until they have crossed it."""
        now_ms = self.elapsed_ms()
        start_ms = max(now_ms, self._free_at_ms)
        self._free_at_ms = self.schedule.finish_ms(start_ms, nbytes * 8.0)
        return max(0.0, (self._free_at_ms - now_ms) / 1000.0)

    async def wait_for(self, nbytes: int) -> None:
        """Sleep until ``nbytes`` reserved now would have crossed the link."""
        delay_s = self.reserve(nbytes)
        if delay_s > 0:
            await self._sleep(delay_s)
