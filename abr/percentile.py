"""A sliding-window percentile of throughput, weighted by transfer time.

Keeps the last ``window`` samples and answers the throughput below which ``percentile`` percent
of the *transfer time* in the window was spent. A low percentile is a cautious estimate that one
fast burst cannot lift. Small, latency-dominated downloads are filtered as in
:mod:`abr.estimator`.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass


@dataclass(frozen=True)
class PercentileConfig:
    window: int = 20
    """Samples kept (count). Default 20."""
    percentile: float = 20.0
    """Which percentile to report, 0–100. Default 20."""
    min_sample_bytes: int = 16_000
    """Downloads smaller than this (bytes) are not sampled. Default 16 000."""
    min_transfer_s: float = 0.001
    """Floor on a sample's transfer time, seconds. Default 0.001."""


class SlidingPercentileEstimator:
    """Duration-weighted percentile over the last ``window`` samples, in bits per second."""

    def __init__(self, config: PercentileConfig | None = None) -> None:
        self.config = config or PercentileConfig()
        if not 0 <= self.config.percentile <= 100:
            raise ValueError("percentile must be within 0..100")
        self._samples: deque[tuple[float, float]] = deque(maxlen=self.config.window)

    def sample(self, bytes_: int, seconds: float, ttfb_s: float = 0.0) -> None:
        if seconds <= 0 or bytes_ < self.config.min_sample_bytes:
            return
        transfer_s = max(seconds - min(max(ttfb_s, 0.0), seconds), self.config.min_transfer_s)
        self._samples.append((8.0 * bytes_ / transfer_s, transfer_s))

    def estimate_bps(self) -> float | None:
        """The weighted percentile: the smallest sample value at which the cumulative weight
        reaches ``percentile`` percent of the total. None when empty."""
        if not self._samples:
            return None
        ordered = sorted(self._samples)
        total_s = sum(weight for _, weight in ordered)
        threshold_s = total_s * self.config.percentile / 100.0
        cumulative_s = 0.0
        for bps, weight_s in ordered:
            cumulative_s += weight_s
            if cumulative_s >= threshold_s:
                return bps
        return ordered[-1][0]
