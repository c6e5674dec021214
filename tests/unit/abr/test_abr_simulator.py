from collections.abc import Sequence

import pytest

from abr.hysteresis import HysteresisPolicy
from abr.interface import Decision
from abr.sim.qoe import qoe_lin_terms
from abr.sim.simulator import SimConfig, simulate
from abr.sim.trace import Period, Trace

from .sim_helpers import cbr_movie, constant_trace

KBPS = [300, 750, 1200, 1850, 2850, 4300]


class Fixed:
    """Always the same rung; records what it was told."""

    name = "fixed"

    def __init__(self, rung: int) -> None:
        self.rung = rung
        self.completed: list[tuple[int, int, float, float]] = []
        self.buffers: list[float] = []
        self.max_rung: int | None = None

    def start(
        self,
        bitrates_bps: Sequence[int],
        segment_duration_s: float,
        segment_count: int | None = None,
        *,
        max_buffer_s: float | None = None,
        segment_sizes_bits: Sequence[Sequence[int]] | None = None,
    ) -> None:
        self.completed.clear()
        self.segment_count = segment_count
        self.max_buffer_s = max_buffer_s
        self.sizes = segment_sizes_bits

    def on_download_complete(
        self, rung: int, bytes_: int, seconds: float, ttfb_s: float, now_s: float
    ) -> None:
        self.completed.append((rung, bytes_, seconds, ttfb_s))

    def on_progress(self, *args: float) -> None:
        return None

    def choose(
        self,
        segment_index: int,
        buffer_s: float,
        now_s: float,
        segment_bits: Sequence[int] | None = None,
    ) -> Decision:
        self.buffers.append(buffer_s)
        return Decision(self.rung, "fixed")

    def should_abandon(self, *args: float) -> int | None:
        return None

    @property
    def estimate_bps(self) -> float | None:
        return None


def test_trace_download_time_wraps_around_and_adds_latency() -> None:
    trace = Trace([Period(1000, 1000, 50), Period(1000, 3000, 50)])  # 1 then 3 Mbit/s, 2 s loop
    # 0.95 s at 1M, 1 s at 3M, then 1 ms of the next lap
    seconds, ttfb = trace.download_s(0.0, 950_000 + 3_000_000 + 1_000)
    assert ttfb == pytest.approx(0.05)
    assert seconds == pytest.approx(0.05 + 0.95 + 1.0 + 0.001)
    assert trace.bits_by(0.0, 0.05, 1.0) == pytest.approx(950_000)


def test_constant_trace_above_top_rung_plays_top_without_rebuffering() -> None:
    movie = cbr_movie(KBPS, segments=20)
    result = simulate(Fixed(5), constant_trace(10_000, latency_ms=80), movie)
    assert all(r.rung == 5 and r.rebuffer_s == 0 for r in result.records)
    assert result.qoe.qoe_lin == pytest.approx(4.3)
    assert result.qoe.startup_delay_s == pytest.approx(0.08 + 4.3 * 4 / 10)
    # the product policy gets to the top and never stalls
    adaptive = simulate(HysteresisPolicy(), constant_trace(10_000, latency_ms=80), movie)
    assert adaptive.records[-1].rung == 5
    assert adaptive.qoe.rebuffer_s == 0.0


def test_constant_trace_below_lowest_rung_rebuffers_by_the_expected_amount() -> None:
    movie = cbr_movie(KBPS, segments=10)
    policy = Fixed(0)
    result = simulate(policy, constant_trace(200, latency_ms=100), movie)
    per_segment_s = 0.1 + 300 * 4 / 200  # 6.1 s for 4 s of media
    assert result.qoe.startup_delay_s == pytest.approx(per_segment_s)
    assert [r.rebuffer_s for r in result.records] == pytest.approx(
        [0.0] + [per_segment_s - 4.0] * 9
    )
    assert result.qoe.rebuffer_events == 9
    assert result.qoe.qoe_lin == pytest.approx((10 * 0.3 - 4.3 * 9 * 2.1) / 10)
    assert policy.completed[0] == (0, 150_000, pytest.approx(6.1), pytest.approx(0.1))


def test_buffer_cap_makes_the_client_idle() -> None:
    policy = Fixed(0)
    simulate(policy, constant_trace(100_000), cbr_movie(KBPS, segments=30), SimConfig(12.0))
    assert max(policy.buffers) <= 8.0 + 1e-9  # cap 12 s minus one 4 s segment


def test_abandonment_refetches_the_lower_rung_and_charges_the_stall() -> None:
    class AbandonOnce(Fixed):
        def should_abandon(self, rung: int, *args: float) -> int | None:
            return 0 if rung == 5 else None

    movie = cbr_movie(KBPS, segments=3)
    config = SimConfig(progress_interval_s=0.5)
    result = simulate(AbandonOnce(5), constant_trace(1_000), movie, config)
    assert [r.rung for r in result.records] == [0, 0, 0]
    assert [r.abandoned for r in result.records] == [1, 1, 1]
    # each segment: 0.5 s wasted on rung 5, then 1.2 s for rung 0
    assert result.records[1].download_s == pytest.approx(1.7)
    assert result.qoe.rebuffer_s == 0.0


def test_qoe_lin_terms() -> None:
    terms = qoe_lin_terms([1_000_000, 3_000_000, 2_000_000], [0.0, 0.5, 0.0])
    assert terms == pytest.approx([1.0, 3.0 - 2.15 - 2.0, 2.0 - 1.0])
