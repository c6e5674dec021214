"""A network trace: consecutive constant-bandwidth periods that wrap around (Sabre's format).

File format: a JSON list of ``{"duration_ms", "bandwidth_kbps", "latency_ms"}``; kbit/s is bits
per millisecond. Times are measured from the start of the trace. A request made at time ``t``
waits the latency of the period containing ``t`` (the trace keeps running meanwhile), then its
bits flow at the bandwidth of whichever periods follow.
"""

from __future__ import annotations

import bisect
import json
import math
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Period:
    duration_ms: float
    bandwidth_kbps: float
    latency_ms: float


class Trace:
    """Cumulative-capacity view of a trace, for O(log n) download times."""

    def __init__(self, periods: list[Period], name: str = "") -> None:
        periods = [p for p in periods if p.duration_ms > 0]
        if not periods:
            raise ValueError("a trace needs at least one period with a positive duration")
        self.name = name
        self.periods = periods
        self._starts_s: list[float] = []
        self._cum_bits: list[float] = []
        t_s = 0.0
        bits = 0.0
        for period in periods:
            self._starts_s.append(t_s)
            self._cum_bits.append(bits)
            t_s += period.duration_ms / 1000.0
            bits += period.bandwidth_kbps * period.duration_ms
        self.period_s = t_s
        self.total_bits = bits
        if self.total_bits <= 0:
            raise ValueError("a trace must carry some bits")

    @classmethod
    def load(cls, path: str | Path) -> Trace:
        raw = json.loads(Path(path).read_text())
        periods = [
            Period(float(p["duration_ms"]), float(p["bandwidth_kbps"]), float(p["latency_ms"]))
            for p in raw
        ]
        return cls(periods, name=Path(path).stem)

    def _index(self, t_s: float) -> int:
        local_s = t_s % self.period_s
        return max(0, bisect.bisect_right(self._starts_s, local_s) - 1)

    def latency_s(self, t_s: float) -> float:
        return self.periods[self._index(t_s)].latency_ms / 1000.0

    def min_latency_s(self) -> float:
        return min(p.latency_ms for p in self.periods) / 1000.0

    def capacity_bits(self, t_s: float) -> float:
        """Bits the link could have carried from time 0 to ``t_s``."""
        laps, local_s = divmod(t_s, self.period_s)
        index = max(0, bisect.bisect_right(self._starts_s, local_s) - 1)
        period = self.periods[index]
        inside_ms = (local_s - self._starts_s[index]) * 1000.0
        return laps * self.total_bits + self._cum_bits[index] + period.bandwidth_kbps * inside_ms

    def time_for_capacity(self, bits: float) -> float:
        """The earliest time by which the link has carried ``bits`` since time 0."""
        laps, rest = divmod(bits, self.total_bits)
        if rest == 0 and laps > 0:
            laps, rest = laps - 1, self.total_bits
        index = bisect.bisect_left(self._cum_bits, rest) - 1
        index = max(index, 0)
        # skip zero-bandwidth periods that cannot carry the remainder
        while index + 1 < len(self._cum_bits) and self._cum_bits[index + 1] < rest:
            index += 1
        period = self.periods[index]
        inside_bits = rest - self._cum_bits[index]
        inside_s = inside_bits / period.bandwidth_kbps / 1000.0 if inside_bits > 0 else 0.0
        return laps * self.period_s + self._starts_s[index] + inside_s

    def download_s(self, start_s: float, bits: float) -> tuple[float, float]:
        """(total seconds, time to first byte) for ``bits`` requested at ``start_s``."""
        ttfb_s = self.latency_s(start_s)
        first_byte_s = start_s + ttfb_s
        if bits <= 0:
            return ttfb_s, ttfb_s
        end_s = self.time_for_capacity(self.capacity_bits(first_byte_s) + bits)
        return max(end_s - start_s, ttfb_s), ttfb_s

    def bits_by(self, start_s: float, ttfb_s: float, elapsed_s: float) -> float:
        """Bits of a request made at ``start_s`` that have arrived after ``elapsed_s``."""
        if elapsed_s <= ttfb_s:
            return 0.0
        first_byte_s = start_s + ttfb_s
        return self.capacity_bits(start_s + elapsed_s) - self.capacity_bits(first_byte_s)

    def mean_bps(self) -> float:
        return self.total_bits * 1000.0 / (self.period_s * 1000.0) if self.period_s else math.nan
