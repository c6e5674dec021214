"""The interface an outside simulator drives: cap and sizes in start/choose, the first-segment
rule, the abandonment contract, the cap warning; pure inputs, no clock."""

import warnings

import pytest

from abr.config import HysteresisConfig, Thresholds
from abr.hysteresis import AbrCapWarning, HysteresisPolicy

LADDER = [300_000, 750_000, 1_200_000, 1_850_000, 2_850_000, 4_300_000]
SEG_S = 4.0


def test_thresholds_scale_with_the_cap_down_to_one_segment() -> None:
    cfg = HysteresisConfig()
    at60 = Thresholds.scaled(cfg, 60.0, SEG_S)
    assert (at60.reservoir_s, at60.cushion_s, at60.up_dwell_s) == (8.0, 20.0, 15.0)
    at30 = Thresholds.scaled(cfg, 30.0, SEG_S)
    assert (at30.reservoir_s, at30.cushion_s) == (4.0, 10.0)
    assert at30.buffer_up_horizon_s == 4 * SEG_S  # 15 s scaled, floored at payback_segments
    at15 = Thresholds.scaled(cfg, 15.0, SEG_S)
    assert at15.reservoir_s == SEG_S and at15.full_buffer_margin_s == SEG_S  # floors
    assert at15.up_dwell_s == 2 * SEG_S and at15.up_min_buffer_s == 2 * SEG_S
    assert at15.reservoir_s + at15.cushion_s <= 15.0 - SEG_S  # reachable below the cap


def test_the_policy_uses_the_cap_it_is_given_and_warns_when_too_small() -> None:
    policy = HysteresisPolicy()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        policy.start(LADDER, SEG_S, max_buffer_s=15.0)
    assert policy.thresholds.max_buffer_s == 15.0 and policy.cap_warning is None
    with pytest.warns(AbrCapWarning, match="below"):
        policy.start(LADDER, SEG_S, max_buffer_s=8.0)
    assert policy.cap_warning is not None


def test_a_small_cap_lets_the_buffer_fund_a_step_up() -> None:
    policy = HysteresisPolicy()
    policy.start(LADDER, SEG_S, max_buffer_s=15.0)
    policy.choose(0, 0.0, 0.0)
    for t in range(1, 8):  # 3 Mbit/s, steadily
        policy.on_download_complete(1, 1_500_000, 4.0, 0.0, 4.0 * t)
    policy.last_rung = 2
    policy._in_startup = False
    decision = policy.choose(8, 11.0, 32.0)  # 11 s: the most a 15 s cap holds at a request
    assert decision.rung > 2 and decision.reason.startswith("up")


def test_blind_start_rung_and_persisted_estimate() -> None:
    blind = HysteresisPolicy(HysteresisConfig(blind_start_rung=0))
    blind.start(LADDER, SEG_S)
    assert blind.choose(0, 0.0, 0.0).rung == 0
    known = HysteresisPolicy(HysteresisConfig(blind_start_rung=0), initial_estimate_bps=8e6)
    known.start(LADDER, SEG_S)
    assert known.choose(0, 0.0, 0.0).rung == 5  # 0.75 × 8 Mbit/s covers the top


def test_the_first_download_is_a_probe_that_climbs_at_once() -> None:
    policy = HysteresisPolicy(HysteresisConfig(blind_start_rung=0))
    policy.start(LADDER, SEG_S)
    policy.choose(0, 0.0, 0.0)
    policy.on_download_complete(0, 400_000, 4.0, 0.0, 4.0)  # a slow start: 0.8 Mbit/s
    policy.on_download_complete(0, 150_000, 0.12, 0.0, 4.12)  # then 10 Mbit/s
    assert policy.estimator.estimate_bps() is not None
    assert policy.estimator.estimate_bps() < 2 * LADDER[5]  # the EWMA still remembers
    assert policy.choose(2, 8.0, 4.12).rung == 5  # the probe alone: 0.5 × 10 M ≥ 4.3 M


def test_segment_sizes_change_the_projection() -> None:
    flat = HysteresisPolicy()
    flat.start(LADDER, SEG_S)
    big = [[b * SEG_S * 3 for b in LADDER]] * 4  # a scene three times the nominal size
    vbr = HysteresisPolicy()
    vbr.start(LADDER, SEG_S, 4, segment_sizes_bits=big)
    for policy in (flat, vbr):
        policy.on_download_complete(0, 1_000_000, 4.0, 0.0, 4.0)  # 2 Mbit/s
    assert flat.projected_buffer_s(3, 10.0, 2e6, 1) > vbr.projected_buffer_s(3, 10.0, 2e6, 1)
    row = [b * SEG_S * 3 for b in LADDER]
    flat.choose(1, 10.0, 5.0, segment_bits=row)  # the size given with choose counts the same
    assert flat.segment_bits(3, 1) == vbr.segment_bits(3, 1)
    with pytest.raises(ValueError):
        vbr.start(LADDER, SEG_S, segment_sizes_bits=[[1, 2]])


def test_should_abandon_none_changes_nothing_and_a_rung_is_binding() -> None:
    policy = HysteresisPolicy()
    policy.start(LADDER, SEG_S)
    policy.choose(0, 0.0, 0.0)
    policy.on_download_complete(1, 400_000, 1.0, 0.0, 1.0)
    policy.last_rung = 5
    before = (policy.last_rung, policy._completed)
    assert policy.should_abandon(5, 2_000_000, 2_150_000, 2.0, 30.0, 3.0) is None
    assert (policy.last_rung, policy._completed) == before
    lower = policy.should_abandon(5, 50_000, 2_150_000, 2.0, 3.0, 3.0)
    assert lower is not None and lower < 5
    policy.on_download_complete(5, 50_000, 2.0, 0.0, 3.0)  # the dropped download's bytes
    assert policy._completed == before[1]  # not a completed segment
    again = policy.choose(1, 1.0, 3.0)  # a driver that asks again gets the same rung
    assert again.rung == lower and again.reason == "down: abandoned"
    policy.on_download_complete(lower, 100_000, 1.0, 0.0, 4.0)
    assert policy.choose(2, 4.0, 4.0).reason != "down: abandoned"


def test_a_comfortable_buffer_waits_out_a_stalled_download() -> None:
    policy = HysteresisPolicy()
    policy.start(LADDER, SEG_S, max_buffer_s=60.0)  # reservoir + cushion: 28 s
    policy.choose(0, 0.0, 0.0)
    policy.on_download_complete(1, 2_000_000, 1.0, 0.0, 1.0)
    policy.last_rung = 5
    # an outage: 10 kB of 2.15 MB after 10 s (even with half a second of the 16 Mbit/s
    # estimate blended in, the rest takes ~22 s)
    assert policy.should_abandon(5, 10_000, 2_150_000, 10.0, 40.0, 11.0) is None
    assert policy.should_abandon(5, 10_000, 2_150_000, 10.0, 20.0, 11.0) is not None
