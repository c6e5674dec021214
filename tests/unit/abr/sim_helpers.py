"""Helpers for the abr unit tests: tiny traces and movies built in memory."""

from __future__ import annotations

from abr.sim.movie import Movie
from abr.sim.trace import Period, Trace


def constant_trace(kbps: float, latency_ms: float = 0.0, seconds: float = 100.0) -> Trace:
    return Trace([Period(seconds * 1000.0, kbps, latency_ms)], name=f"const{kbps:g}")


def cbr_movie(bitrates_kbps: list[int], segments: int = 10, segment_s: float = 4.0) -> Movie:
    bits = tuple(tuple(int(b * 1000 * segment_s) for b in bitrates_kbps) for _ in range(segments))
    return Movie(segment_s, tuple(b * 1000 for b in bitrates_kbps), bits, name="cbr")
