"""Trivial ABR policies for tests (the product policy is abr.hysteresis)."""

from __future__ import annotations

from collections.abc import Sequence

from abr.interface import Decision


class FixedPolicy:
    """A trivial AbrPolicy: always ``rung``; abandons ``abandon_rung`` downloads once asked."""

    name = "fixed"

    def __init__(self, rung: int = 0, abandon_to: int | None = None) -> None:
        self.rung = rung
        self.abandon_to = abandon_to
        self._max_rung: int | None = None
        self.completed: list[tuple[int, int]] = []
        self.progress: list[tuple[int, int]] = []
        self.started: tuple[Sequence[int], float] | None = None
        self.segment_count: int | None = None
        self.max_buffer_s: float | None = None

    def start(self, bitrates_bps: Sequence[int], segment_duration_s: float,
              segment_count: int | None = None, *, max_buffer_s: float | None = None,
              segment_sizes_bits: Sequence[Sequence[int]] | None = None) -> None:
        self.started = (tuple(bitrates_bps), segment_duration_s)
        self.segment_count = segment_count
        self.max_buffer_s = max_buffer_s

    def on_download_complete(self, rung: int, bytes_: int, seconds: float, ttfb_s: float,
                             now_s: float) -> None:
        self.completed.append((rung, bytes_))

    def on_progress(self, rung: int, bytes_so_far: int, total_bytes: int, elapsed_s: float,
                    now_s: float) -> None:
        self.progress.append((bytes_so_far, total_bytes))

    def choose(self, segment_index: int, buffer_s: float, now_s: float,
               segment_bits: Sequence[int] | None = None) -> Decision:
        rung = self.rung if self._max_rung is None else min(self.rung, self._max_rung)
        return Decision(rung, "fixed")

    def should_abandon(self, rung: int, bytes_so_far: int, total_bytes: int, elapsed_s: float,
                       buffer_s: float, now_s: float) -> int | None:
        if self.abandon_to is not None and rung > self.abandon_to:
            return self.abandon_to
        return None

    @property
    def estimate_bps(self) -> float | None:
        return 50e6

    @property
    def max_rung(self) -> int | None:
        return self._max_rung

    @max_rung.setter
    def max_rung(self, rung: int | None) -> None:
        self._max_rung = rung
