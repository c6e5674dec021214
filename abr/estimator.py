"""Throughput estimate from download samples: two EWMAs, fast and slow; the lower one wins.

Taking the lower of a fast and a slow average (Shaka's ``EwmaBandwidthEstimator``) drops quickly
when throughput falls and rises only when both agree. Samples are weighted by their transfer time,
so a long download counts more than a short one. Small downloads are dominated by latency and TCP
slow start: a sample under ``min_sample_bytes`` is ignored, time to first byte is taken out of the
transfer time and tracked on its own, and no estimate is given until ``min_total_bytes`` have been
seen.
"""

from __future__ import annotations

from dataclasses import dataclass

from abr.ewma import Ewma


@dataclass(frozen=True)
class EstimatorConfig:
    fast_half_life_s: float = 2.0
    """Half-life of the fast average, seconds of transfer time. Default 2.0 (Shaka)."""
    slow_half_life_s: float = 5.0
    """Half-life of the slow average, seconds of transfer time. Default 5.0 (Shaka)."""
    min_sample_bytes: int = 16_000
    """Downloads smaller than this (bytes) are not sampled. Default 16 000 (Shaka)."""
    min_total_bytes: int = 128_000
    """No estimate until this many bytes have been sampled. Default 128 000 (Shaka)."""
    min_transfer_s: float = 0.001
    """Floor on a sample's transfer time (seconds) so a near-zero one cannot explode.
    Default 0.001."""


class EwmaEstimator:
    """Fast/slow EWMA throughput estimator, in bits per second."""

    def __init__(self, config: EstimatorConfig | None = None) -> None:
        self.config = config or EstimatorConfig()
        self._fast = Ewma(self.config.fast_half_life_s)
        self._slow = Ewma(self.config.slow_half_life_s)
        self._ttfb = Ewma(self.config.slow_half_life_s)
        self._bytes_sampled = 0

    def sample(self, bytes_: int, seconds: float, ttfb_s: float = 0.0) -> None:
        """One download: ``bytes_`` in ``seconds`` from request to last byte, ``ttfb_s`` of which
        went before the first byte."""
        if seconds <= 0 or bytes_ < self.config.min_sample_bytes:
            return
        ttfb_s = min(max(ttfb_s, 0.0), seconds)
        transfer_s = max(seconds - ttfb_s, self.config.min_transfer_s)
        bps = 8.0 * bytes_ / transfer_s
        self._fast.sample(transfer_s, bps)
        self._slow.sample(transfer_s, bps)
        self._ttfb.sample(1.0, ttfb_s)
        self._bytes_sampled += bytes_

    def has_estimate(self) -> bool:
        return self._bytes_sampled > 0 and self._bytes_sampled >= self.config.min_total_bytes

    def estimate_bps(self) -> float | None:
        """min(fast, slow), or None before ``min_total_bytes`` were sampled."""
        if not self.has_estimate():
            return None
        return min(self._fast.estimate(), self._slow.estimate())

    def ttfb_s(self) -> float:
        """Average time to first byte (0.0 before any sample)."""
        return self._ttfb.estimate()
