"""BBA-0, the buffer-based algorithm of Huang et al., "A Buffer-Based Approach to Rate
Adaptation", SIGCOMM 2014, section 4 (Algorithm 1).

The rate map f(B) is the lowest bitrate up to the reservoir, the highest from reservoir +
cushion, and linear in between. The next rate changes only when f(B) crosses the neighbouring
rung (the algorithm's built-in hysteresis). Reservoir and cushion default to 5 s and 10 s, the
values Pensieve (Mao et al. 2017) used for BBA with this 60 s buffer.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from abr.base import PolicyBase
from abr.interface import Decision


@dataclass(frozen=True)
class BbaConfig:
    reservoir_s: float = 5.0
    """Buffer below which the lowest rung is used, seconds. Default 5 (Pensieve's BB)."""
    cushion_s: float = 10.0
    """Buffer span over which the rate map rises to the top rung, seconds. Default 10."""


class Bba(PolicyBase):
    name = "bba"

    def __init__(self, config: BbaConfig | None = None) -> None:
        super().__init__()
        self.config = config or BbaConfig()

    def rate_map_bps(self, buffer_s: float) -> float:
        low = self.bitrates_bps[0]
        high = self.bitrates_bps[self.top_rung]
        reservoir, cushion = self.config.reservoir_s, self.config.cushion_s
        if buffer_s <= reservoir:
            return low
        if buffer_s >= reservoir + cushion:
            return high
        return low + (high - low) * (buffer_s - reservoir) / cushion

    def choose(
        self,
        segment_index: int,
        buffer_s: float,
        now_s: float,
        segment_bits: Sequence[int] | None = None,
    ) -> Decision:
        rates = self.bitrates_bps
        top = self.top_rung
        previous = 0 if self.last_rung is None else min(self.last_rung, top)
        f = self.rate_map_bps(buffer_s)
        plus = min(previous + 1, top)
        minus = max(previous - 1, 0)
        if buffer_s <= self.config.reservoir_s:
            return self._decide(0, "bba: reservoir")
        if buffer_s >= self.config.reservoir_s + self.config.cushion_s:
            return self._decide(top, "bba: upper reservoir")
        if f >= rates[plus] and plus != previous:
            rung = max(i for i in range(top + 1) if rates[i] < f) if f > rates[0] else 0
            return self._decide(max(rung, previous), "bba: rate map up")
        if f <= rates[minus] and minus != previous:
            rung = min(i for i in range(top + 1) if rates[i] > f)
            return self._decide(min(rung, previous), "bba: rate map down")
        return self._decide(previous, "bba: hold")
