"""An exponentially weighted moving average whose weights are durations (after Shaka's ``ewma``).

A sample of weight ``w`` seconds moves the average by ``1 - alpha**w`` where
``alpha = 0.5 ** (1 / half_life_s)``: after ``half_life_s`` seconds of samples, older samples
count half. The estimate is corrected for the zero it starts from, so the first sample is
returned exactly.
"""

from __future__ import annotations

import math


class Ewma:
    """Duration-weighted EWMA with a half-life in seconds."""

    def __init__(self, half_life_s: float) -> None:
        if half_life_s <= 0:
            raise ValueError("half_life_s must be positive")
        self._alpha = math.exp(math.log(0.5) / half_life_s)
        self._estimate = 0.0
        self._total_weight_s = 0.0

    def sample(self, weight_s: float, value: float) -> None:
        """Add ``value`` observed over ``weight_s`` seconds."""
        if weight_s <= 0:
            return
        adjusted_alpha = float(self._alpha**weight_s)
        self._estimate = value * (1 - adjusted_alpha) + adjusted_alpha * self._estimate
        self._total_weight_s += weight_s

    @property
    def total_weight_s(self) -> float:
        return self._total_weight_s

    def estimate(self) -> float:
        """The zero-corrected average (0.0 before any sample)."""
        if self._total_weight_s == 0:
            return 0.0
        zero_factor = 1.0 - float(self._alpha**self._total_weight_s)
        return self._estimate / zero_factor
