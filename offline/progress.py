"""What a download reports while it runs: :class:`DownloadProgress` (also the shape
``edgeplay downloads list --json`` prints) and the transfer rate it carries."""

from __future__ import annotations

import collections
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from offline.journal import Download


@dataclass(frozen=True)
class DownloadProgress:
    """One progress event (also the shape ``edgeplay downloads list --json`` prints)."""

    id: str
    title_id: str
    title_name: str
    state: str
    segments_done: int
    segment_count: int
    bytes_done: int
    bytes_total: int
    """The whole download's size: exact once complete, extrapolated before."""
    rate_bps: float | None
    """Bytes per second over the last few seconds; None before a measurement."""
    eta_s: float | None
    error_code: str | None = None
    error: str | None = None

    @property
    def fraction(self) -> float:
        return self.segments_done / self.segment_count if self.segment_count else 0.0

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "title_id": self.title_id, "title": self.title_name,
                "state": self.state, "segments_done": self.segments_done,
                "segment_count": self.segment_count, "bytes_done": self.bytes_done,
                "bytes_total": self.bytes_total, "rate_bps": self.rate_bps,
                "eta_s": self.eta_s, "error_code": self.error_code, "error": self.error}


def progress_of(d: Download, rate_bps: float | None = None) -> DownloadProgress:
    total = d.estimated_bytes
    eta = ((total - d.bytes_done) / rate_bps if rate_bps and d.state == "downloading"
           else None)
    return DownloadProgress(d.id, d.title_id, d.title_name, d.state, d.segments_done,
                            d.segment_count, d.bytes_done, total, rate_bps, eta,
                            d.error_code, d.error)


class Rate:
    """Bytes per second over a sliding window."""

    def __init__(self, window_s: float = 5.0, clock: Callable[[], float] = time.monotonic):
        self.window_s = window_s
        self.clock = clock
        self.samples: collections.deque[tuple[float, int]] = collections.deque()

    def add(self, size: int) -> None:
        now = self.clock()
        self.samples.append((now, size))
        while self.samples and self.samples[0][0] < now - self.window_s:
            self.samples.popleft()

    def bps(self) -> float | None:
        if len(self.samples) < 2:
            return None
        span = self.samples[-1][0] - self.samples[0][0]
        return (sum(s for _, s in self.samples) - self.samples[0][1]) / span if span > 0 \
            else None
