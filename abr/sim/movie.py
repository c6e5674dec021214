"""A movie manifest in Sabre's format: segment duration, ladder and per-segment sizes."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Movie:
    segment_duration_s: float
    bitrates_bps: tuple[int, ...]
    segment_bits: tuple[tuple[int, ...], ...]
    """``segment_bits[k][rung]``: size of segment k at that rung, bits."""
    name: str = ""

    @classmethod
    def load(cls, path: str | Path) -> Movie:
        raw = json.loads(Path(path).read_text())
        return cls(
            segment_duration_s=raw["segment_duration_ms"] / 1000.0,
            bitrates_bps=tuple(round(b * 1000) for b in raw["bitrates_kbps"]),
            segment_bits=tuple(tuple(int(s) for s in row) for row in raw["segment_sizes_bits"]),
            name=Path(path).stem,
        )

    @property
    def segment_count(self) -> int:
        return len(self.segment_bits)

    @property
    def duration_s(self) -> float:
        return self.segment_count * self.segment_duration_s
