import math

import pytest

from abr.estimator import EstimatorConfig, EwmaEstimator
from abr.ewma import Ewma
from abr.percentile import PercentileConfig, SlidingPercentileEstimator


def test_ewma_first_sample_is_exact_and_second_mixes_by_half_life() -> None:
    ewma = Ewma(half_life_s=2.0)
    ewma.sample(1.0, 100.0)
    assert ewma.estimate() == pytest.approx(100.0)
    # second sample of weight 2 s (= one half-life) at 200:
    # raw = 200*(1-0.5) + 0.5*raw1, raw1 = 100*(1-a) with a = 0.5**0.5
    a = 0.5**0.5
    raw1 = 100.0 * (1 - a)
    raw2 = 200.0 * 0.5 + 0.5 * raw1
    expected = raw2 / (1 - 0.5**1.5)
    ewma.sample(2.0, 200.0)
    assert ewma.estimate() == pytest.approx(expected)
    assert ewma.estimate() == pytest.approx(177.3459, rel=1e-5)


def test_ewma_ignores_zero_weight_and_rejects_bad_half_life() -> None:
    ewma = Ewma(1.0)
    ewma.sample(0.0, 5.0)
    assert ewma.estimate() == 0.0
    with pytest.raises(ValueError):
        Ewma(0.0)


def test_estimator_takes_the_lower_of_fast_and_slow() -> None:
    est = EwmaEstimator(EstimatorConfig(min_total_bytes=0))
    est.sample(1_000_000, 1.0)  # 8 Mbit/s over 1 s
    est.sample(250_000, 1.0)  # 2 Mbit/s over 1 s
    fast_alpha = 0.5 ** (1 / 2.0)
    slow_alpha = 0.5 ** (1 / 5.0)

    def two(alpha: float) -> float:
        raw = 8e6 * (1 - alpha)
        raw = 2e6 * (1 - alpha) + alpha * raw
        return raw / (1 - alpha**2)

    assert est.estimate_bps() == pytest.approx(min(two(fast_alpha), two(slow_alpha)))
    assert est.estimate_bps() == pytest.approx(two(fast_alpha))  # the fast one fell further


def test_estimator_removes_ttfb_and_ignores_small_downloads() -> None:
    est = EwmaEstimator(EstimatorConfig(min_total_bytes=0))
    est.sample(10_000, 0.2, ttfb_s=0.19)  # latency-dominated: dropped
    assert est.estimate_bps() is None
    est.sample(500_000, 1.1, ttfb_s=0.1)  # 4 Mbit over 1.0 s of transfer
    assert est.estimate_bps() == pytest.approx(4e6)
    assert est.ttfb_s() == pytest.approx(0.1)


def test_estimator_waits_for_min_total_bytes() -> None:
    est = EwmaEstimator()  # 128 kB needed
    est.sample(100_000, 1.0)
    assert est.estimate_bps() is None
    est.sample(100_000, 1.0)
    assert est.estimate_bps() == pytest.approx(800_000)


def test_percentile_is_weighted_by_transfer_time() -> None:
    est = SlidingPercentileEstimator(PercentileConfig(window=3, percentile=50))
    est.sample(125_000, 1.0)  # 1 Mbit/s for 1 s
    est.sample(250_000, 1.0)  # 2 Mbit/s for 1 s
    est.sample(1_500_000, 4.0)  # 3 Mbit/s for 4 s: holds 4 of 6 s
    assert est.estimate_bps() == pytest.approx(3e6)
    est2 = SlidingPercentileEstimator(PercentileConfig(window=3, percentile=20))
    for args in ((125_000, 1.0), (250_000, 1.0), (1_500_000, 4.0)):
        est2.sample(*args)
    assert est2.estimate_bps() == pytest.approx(2e6)  # 20 % of 6 s = 1.2 s -> second sample


def test_percentile_window_slides_and_filters_small() -> None:
    est = SlidingPercentileEstimator(PercentileConfig(window=2, percentile=0))
    assert est.estimate_bps() is None
    est.sample(125_000, 1.0)
    est.sample(250_000, 1.0)
    est.sample(375_000, 1.0)  # pushes out the 1 Mbit/s sample
    est.sample(1_000, 0.001)  # too small
    assert est.estimate_bps() == pytest.approx(2e6)
    assert not math.isnan(est.estimate_bps() or 0.0)
