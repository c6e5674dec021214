"""Rate and trace pacing math, with an injected clock (no real sleeping)."""

from __future__ import annotations

import asyncio

import pytest

from controlplane.edge.throttle import FixedRate, Pacer, TraceRate
from controlplane.edge.trace import TraceSegment
from tests.helpers.fake_time import FakeTime

TRACE = TraceRate(
    (
        TraceSegment(duration_ms=1000, bandwidth_kbps=4000, latency_ms=100),
        TraceSegment(duration_ms=1000, bandwidth_kbps=1000, latency_ms=50),
    )
)


def test_fixed_rate_is_bits_over_kbps() -> None:
    rate = FixedRate(2000)
    assert rate.finish_ms(0, 4_000_000) == pytest.approx(2000)  # 500 KB at 2 Mbit/s
    assert rate.finish_ms(500, 8000) == pytest.approx(504)
    assert rate.latency_ms(123) == 0


@pytest.mark.parametrize(
    ("start_ms", "bits", "finish_ms"),
    [
        (0, 4_000_000, 1000),  # exactly the first segment
        (0, 5_000_000, 2000),  # both segments
        (0, 4_500_000, 1500),
        (500, 2_000_000, 1000),
        (500, 2_500_000, 1500),
        (1500, 500_000, 2000),
        (1500, 900_000, 2100),  # wraps into the next period at 4000 kbit/s
        (0, 15_000_000, 6000),  # three whole periods
        (100, 15_000_000, 6100),  # whole periods from any phase
        (2000, 10, 2000.0025),
    ],
)
def test_trace_finish_times(start_ms: float, bits: float, finish_ms: float) -> None:
    assert TRACE.finish_ms(start_ms, bits) == pytest.approx(finish_ms)


def test_trace_bandwidth_and_latency_wrap_around() -> None:
    assert TRACE.period_ms == 2000
    assert [TRACE.bandwidth_kbps(t) for t in (0, 999, 1000, 1999, 2000, 3500)] == [
        4000, 4000, 1000, 1000, 4000, 1000
    ]
    assert TRACE.latency_ms(2100) == 100 and TRACE.latency_ms(1100) == 50


def test_zero_bandwidth_segments_are_waited_out() -> None:
    outage = TraceRate((TraceSegment(1000, 0), TraceSegment(1000, 1000)))
    assert outage.finish_ms(0, 1000) == pytest.approx(1001)
    assert outage.finish_ms(1900, 200_000) == pytest.approx(3100)
    with pytest.raises(ValueError):
        TraceRate((TraceSegment(1000, 0),))


def test_pacer_paces_one_body_at_the_rate() -> None:
    fake = FakeTime()
    pacer = Pacer(FixedRate(2000), fake.monotonic, fake.sleep)

    async def send(total: int) -> None:
        sent = 0
        while sent < total:
            step = min(pacer.slice_bytes(), total - sent)
            await pacer.wait_for(step)
            sent += step

    asyncio.run(send(500_000))
    assert fake.now_s - 100.0 == pytest.approx(2.0)
    assert pacer.slice_bytes() == 12_500  # 50 ms at 2000 kbit/s


def test_concurrent_bodies_share_the_edge_rate() -> None:
    fake = FakeTime()
    pacer = Pacer(FixedRate(1000), fake.monotonic, fake.sleep)
    done: dict[str, float] = {}

    async def body(name: str) -> None:
        for _ in range(10):
            await pacer.wait_for(6250)  # 50 ms of link each
        done[name] = fake.now_s - 100.0

    async def both() -> None:
        await asyncio.gather(body("a"), body("b"))

    asyncio.run(both())
    # 2 x 62.5 KB = 1,000 kbit: the pair takes 1 s, as one 125 KB body would.
    assert max(done.values()) == pytest.approx(1.0)


def test_pacer_time_starts_when_it_is_made() -> None:
    fake = FakeTime()
    fake.now_s = 1001.2
    pacer = Pacer(TRACE, fake.monotonic, fake.sleep)
    assert pacer.elapsed_ms() == 0
    assert pacer.latency_ms() == 100
    fake.now_s += 1.5
    assert pacer.latency_ms() == 50
    assert pacer.reserve(62_500) == pytest.approx(0.5)  # 500 kbit at 1000 kbit/s
    assert pacer.reserve(62_500) == pytest.approx(0.5 + 0.125)  # then at 4000 kbit/s


def test_slice_size_is_clamped() -> None:
    fake = FakeTime()
    assert Pacer(FixedRate(10), fake.monotonic, fake.sleep).slice_bytes() == 1024
    assert Pacer(FixedRate(10**6), fake.monotonic, fake.sleep).slice_bytes() == 64 * 1024
