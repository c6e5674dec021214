"""Shared plumbing for policies: the ladder, the rung cap, a throughput estimator, the session's
buffer cap and segment sizes.

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
        self.max_buffer_s: float | None = None
        """The caller's buffer cap for this session, seconds (None: not told)."""
        self.segment_sizes_bits: tuple[tuple[int, ...], ...] | None = None
        """``[k][rung]`` bits of every segment when the manifest knows them (None: nominal)."""
        self.estimator = EwmaEstimator(estimator_config)
        self._max_rung: int | None = None
        self.last_rung: int | None = None
        self._row: tuple[int, tuple[int, ...]] | None = None

    def start(
        self,
        bitrates_bps: Sequence[int],
        segment_duration_s: float,
        segment_count: int | None = None,
        *,
        max_buffer_s: float | None = None,
        segment_sizes_bits: Sequence[Sequence[int]] | None = None,
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
        if max_buffer_s is not None and max_buffer_s <= 0:
            raise ValueError("max_buffer_s must be positive")
        self.max_buffer_s = None if max_buffer_s is None else float(max_buffer_s)
        self.segment_sizes_bits = None
        if segment_sizes_bits is not None:
            table = tuple(tuple(int(b) for b in row) for row in segment_sizes_bits)
            if any(len(row) != len(self.bitrates_bps) for row in table):
                raise ValueError("segment_sizes_bits needs one size per rung for every segment")
            if any(b <= 0 for row in table for b in row):
                raise ValueError("segment sizes must be positive")
            self.segment_sizes_bits = table
        self._row = None

    def note_segment(self, segment_index: int, segment_bits: Sequence[int] | None) -> None:
        """Remember the sizes a ``choose`` call was given for its segment (one per rung)."""
        if segment_bits is None:
            self._row = None
            return
        if len(segment_bits) != len(self.bitrates_bps):
            raise ValueError("segment_bits needs one size per rung")
        self._row = (segment_index, tuple(int(b) for b in segment_bits))

    def segment_bits(self, rung: int, segment_index: int | None = None) -> float:
        """Bits of segment ``segment_index`` at ``rung``: the size the caller gave (to the
        current ``choose``, or the table given to :meth:`start`) when known, else the nominal
        bitrate × segment duration (also for ``segment_index`` None)."""
        if segment_index is not None:
            if self._row is not None and self._row[0] == segment_index:
                return float(self._row[1][rung])
            table = self.segment_sizes_bits
            if table is not None and 0 <= segment_index < len(table):
                return float(table[segment_index][rung])
        return self.bitrates_bps[rung] * self.segment_duration_s

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

    def choose(
        self,
        segment_index: int,
        buffer_s: float,
        now_s: float,
        segment_bits: Sequence[int] | None = None,
    ) -> Decision:
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
