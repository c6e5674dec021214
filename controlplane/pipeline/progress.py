"""Human-readable progress lines ("[3/8] Night Harbor: encoding 5 renditions… 40%")."""

from __future__ import annotations

import threading
from collections.abc import Callable

ProgressFn = Callable[[str], None]

PERCENT_STEP = 10
"""Report encode progress every this many percent."""


def silent(_line: str) -> None:
    """The progress sink used when the caller passes none."""


class TitleProgress:
    """Progress of one title; safe to call from worker threads (lines are serialised)."""

    _lock = threading.RLock()

    def __init__(self, sink: ProgressFn, index: int, total: int, name: str) -> None:
        self._sink = sink
        self._prefix = f"[{index}/{total}] {name}" if total else name
        self._stage = ""
        self._last_percent = -PERCENT_STEP
        self._weights: dict[str, float] = {}
        self._done: dict[str, float] = {}

    def stage(self, text: str) -> None:
        self._stage = text
        self._last_percent = -PERCENT_STEP
        self._emit(f"{self._prefix}: {text}")

    def set_parts(self, weights: dict[str, float]) -> None:
        """Split the current stage into parts that run at once, weighted by expected cost."""
        self._weights = dict(weights)
        self._done = dict.fromkeys(weights, 0.0)

    def part_fraction(self, part: str, done: float) -> None:
        """Progress of one part; reported as the weighted progress of the whole stage."""
        with TitleProgress._lock:
            self._done[part] = done
            self._weights.setdefault(part, 1.0)
            total = sum(self._weights.values()) or 1.0
            overall = sum(self._weights[k] * v for k, v in self._done.items()) / total
        self.fraction(overall)

    def fraction(self, done: float) -> None:
        percent = int(done * 100)
        with TitleProgress._lock:
            if percent - self._last_percent >= PERCENT_STEP and percent < 100:
                self._last_percent = percent - percent % PERCENT_STEP
                self._emit(f"{self._prefix}: {self._stage} {self._last_percent}%")

    def _emit(self, line: str) -> None:
        with TitleProgress._lock:
            self._sink(line)
