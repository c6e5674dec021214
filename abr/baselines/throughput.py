"""Throughput rule, as dash.js's ``ThroughputRule`` (and hls.js's EWMA estimator) do it.

Fetch the highest rung whose bitrate is at most ``safety_factor`` times the throughput estimate.
The estimate is dash.js's default for on-demand streams (``ThroughputHistory`` with
``movingAverageMethod: slidingWindow``): the arithmetic mean of the last 4 segment throughputs
(dash.js's adaptive widening of that window is left out). ``window=0`` selects dash.js's other
method, the EWMA pair (fast 3 s, slow 8 s half-lives, the lower wins). As dash.js's
``AbrController.getQualityForBitrate``, the safe throughput is reduced by the dead-time ratio
``latency / segment duration`` (latency = mean time to first byte). Before any estimate the first
segment is the highest rung at most dash.js's initial bitrate (``DEFAULT_VIDEO_BITRATE`` =
1000 kbit/s, the lowest rung if none is that low), as dash.js starts. No hysteresis, no buffer
input.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass

from abr.base import PolicyBase
from abr.estimator import EstimatorConfig
from abr.interface import Decision
from abr.ladder import highest_rung_at_most


@dataclass(frozen=True)
class ThroughputConfig:
    safety_factor: float = 0.9
    """Fraction of the estimate a rung's bitrate may use. Default 0.9 (dash.js
    ``bandwidthSafetyFactor``)."""
    fast_half_life_s: float = 3.0
    """Fast EWMA half-life, seconds. Default 3 (dash.js ``throughputFastHalfLifeSeconds``)."""
    slow_half_life_s: float = 8.0
    """Slow EWMA half-life, seconds. Default 8 (dash.js ``throughputSlowHalfLifeSeconds``)."""
    window: int = 4
    """Samples in the sliding-window mean; 0 uses the EWMA pair. Default 4 (dash.js
    ``AVERAGE_THROUGHPUT_SAMPLE_AMOUNT_VOD``)."""
    initial_bitrate_bps: float = 1_000_000.0
    """Bitrate the first segment may use before any measurement, bit/s. Default 1 000 000
    (dash.js ``DEFAULT_VIDEO_BITRATE``)."""


class ThroughputRule(PolicyBase):
    name = "throughput"

    def __init__(self, config: ThroughputConfig | None = None) -> None:
        self.config = config or ThroughputConfig()
        self.samples = 0
        """Segment downloads measured so far."""
        super().__init__(
            EstimatorConfig(
                fast_half_life_s=self.config.fast_half_life_s,
                slow_half_life_s=self.config.slow_half_life_s,
                min_total_bytes=0,
            )
        )

    def start(
        self,
        bitrates_bps: Sequence[int],
        segment_duration_s: float,
        segment_count: int | None = None,
        *,
        max_buffer_s: float | None = None,
        segment_sizes_bits: Sequence[Sequence[int]] | None = None,
    ) -> None:
        super().start(
            bitrates_bps,
            segment_duration_s,
            segment_count,
            max_buffer_s=max_buffer_s,
            segment_sizes_bits=segment_sizes_bits,
        )
        self._window_bps: deque[float] = deque(maxlen=max(self.config.window, 1))
        self.samples = 0

    def on_download_complete(
        self, rung: int, bytes_: int, seconds: float, ttfb_s: float, now_s: float
    ) -> None:
        super().on_download_complete(rung, bytes_, seconds, ttfb_s, now_s)
        transfer_s = seconds - min(max(ttfb_s, 0.0), seconds)
        if bytes_ > 0 and transfer_s > 0:
            self._window_bps.append(8.0 * bytes_ / transfer_s)
            self.samples += 1

    @property
    def estimate_bps(self) -> float | None:
        if self.config.window <= 0:
            return self.estimator.estimate_bps()
        if not self._window_bps:
            return None
        return sum(self._window_bps) / len(self._window_bps)

    def rung_for_bitrate(self, bps: float) -> int:
        """dash.js ``getQualityForBitrate``: the highest rung at most ``bps`` after taking out
        the dead time (mean latency / segment duration); the lowest when latency exceeds a
        segment."""
        latency_s = self.estimator.ttfb_s()
        if latency_s > self.segment_duration_s:
            return 0
        bps *= 1.0 - latency_s / self.segment_duration_s
        return highest_rung_at_most(self.bitrates_bps, bps, self.top_rung)

    def rung_for_throughput(self) -> int | None:
        estimate = self.estimate_bps
        if estimate is None:
            return None
        return self.rung_for_bitrate(estimate * self.config.safety_factor)

    def initial_rung(self) -> int:
        """The first segment's rung: the highest at most the initial bitrate."""
        return highest_rung_at_most(
            self.bitrates_bps, self.config.initial_bitrate_bps, self.top_rung
        )

    def choose(
        self,
        segment_index: int,
        buffer_s: float,
        now_s: float,
        segment_bits: Sequence[int] | None = None,
    ) -> Decision:
        rung = self.rung_for_throughput()
        if rung is None:
            return self._decide(self.initial_rung(), "startup: initial bitrate")
        return self._decide(rung, "throughput")
