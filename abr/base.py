"""Shared plumbing for policies: the ladder, the rung cap, a throughput estimator.

Subclasses implement :meth:`choose`; the defaults never abandon and ignore progress.
"""

from __future__ import annotations

from collections.abc import Sequence

from abr.estimator import EstimatorConfig, EwmaEstimator
from abr.interface import Decision
from abr.ladder import clamp_rung


class PolicyBase:
    name = "base"

    def __init__(self, estimator_config: EstimatorConfig | None = None) -> None:
        self._estimator_config = estimator_config
        self.bitrates_bps: tuple[int, ...] = ()
        self.segment_duration_s = 0.0
        self.segment_count: int | None = None
        self.estimator = EwmaEstimator(estimator_config)
        self._max_rung: int | None = None
        self.last_rung: int | None = None

    def start(
        self,
        bitrates_bps: Sequence[int],
        segment_duration_s: float,
        segment_count: int | None = None,
    ) -> None:
        if not bitrates_bps or list(bitrates_bps) != sorted(bitrates_bps):
            raise ValueError("bitrates_bps must be a non-empty ascending ladder")
        if segment_duration_s <= 0:
            raise ValueError("segment_duration_s must be positive")
        self.bitrates_bps = tuple(int(b) for b in bitrates_bps)
        self.segment_duration_s = float(segment_duration_s)
        self.last_rung = None
        if segment_count is not None and segment_count < 1:
            raise ValueError("segment_count must be positive")
        self.segment_count = segment_count

    def on_download_complete(
        self, rung: int, bytes_: int, seconds: float, ttfb_s: float, now_s: float
    ) -> None:
        self.estimator.sample(bytes_, seconds, ttfb_s)

    def on_progress(
        self, rung: int, bytes_so_far: int, total_bytes: int, elapsed_s: float, now_s: float
    ) -> None:
        return None

    def should_abandon(
        self,
        rung: int,
        bytes_so_far: int,
        total_bytes: int,
        elapsed_s: float,
        buffer_s: float,
        now_s: float,
    ) -> int | None:
        return None

    def choose(self, segment_index: int, buffer_s: float, now_s: float) -> Decision:
        raise NotImplementedError

    @property
    def estimate_bps(self) -> float | None:
        return self.estimator.estimate_bps()

    @property
    def max_rung(self) -> int | None:
        return self._max_rung

    @max_rung.setter
    def max_rung(self, rung: int | None) -> None:
        if rung is not None and rung < 0:
            raise ValueError("max_rung must be >= 0")
        self._max_rung = rung

    @property
    def top_rung(self) -> int:
        """The highest rung allowed now (ladder top, lowered by the cap)."""
        return clamp_rung(len(self.bitrates_bps) - 1, len(self.bitrates_bps), self._max_rung)

    def _decide(self, rung: int, reason: str) -> Decision:
        rung = clamp_rung(rung, len(self.bitrates_bps), self._max_rung)
        self.last_rung = rung
        return Decision(rung, reason)
