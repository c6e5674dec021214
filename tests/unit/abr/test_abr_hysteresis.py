import pytest

from abr.config import HysteresisConfig
from abr.hysteresis import HysteresisPolicy
from abr.interface import AbrPolicy, Decision

LADDER = [300_000, 750_000, 1_200_000, 1_850_000, 2_850_000, 4_300_000]
SEG_S = 4.0


def feed(policy: HysteresisPolicy, bps: float, now_s: float, rung: int = 0) -> None:
    """One 2-second download at ``bps`` finishing at ``now_s``."""
    policy.on_download_complete(rung, int(bps * 2.0 / 8), 2.0, 0.0, now_s)


def started(**overrides: float) -> HysteresisPolicy:
    policy = HysteresisPolicy(HysteresisConfig(**overrides))  # type: ignore[arg-type]
    policy.start(LADDER, SEG_S)
    return policy


def test_is_an_abr_policy_and_returns_decisions() -> None:
    policy = started()
    assert isinstance(policy, AbrPolicy)
    decision = policy.choose(0, 0.0, 0.0)
    assert isinstance(decision, Decision) and decision.reason == "startup"


def test_starts_conservatively_or_from_persisted_estimate() -> None:
    assert started().choose(0, 0.0, 0.0).rung == 1  # 0.75 x 1 Mbit/s default -> 750k
    persisted = HysteresisPolicy(initial_estimate_bps=3_000_000)
    persisted.start(LADDER, SEG_S)
    assert persisted.estimate_bps == 3_000_000
    assert persisted.choose(0, 0.0, 0.0).rung == 3  # 0.75 x 3M = 2.25M -> 1.85M


def test_startup_climbs_at_once_only_with_double_headroom() -> None:
    policy = started()
    assert policy.choose(0, 0.0, 0.0).rung == 1
    feed(policy, 3.0e6, 1.0)  # 3 Mbit/s: half of it covers 1.2M (rung 2), not 1.85M
    decision = policy.choose(1, 4.0, 1.0)
    assert decision == Decision(2, "up: startup headroom")
    # once the buffer reached up_min_buffer_s the dwell rule applies again
    feed(policy, 20e6, 2.0)
    assert policy.choose(2, 12.0, 2.0).rung == 2
    feed(policy, 20e6, 3.0)
    assert policy.choose(3, 5.0, 3.0).rung == 2


def test_no_step_up_before_the_headroom_credit_reaches_the_dwell() -> None:
    policy = started(up_dwell_s=10.0)
    policy.choose(0, 0.0, 0.0)  # rung 1
    for t in (2.0, 4.0):  # each download credits at least its segment (4 s): 4, then 8 s
        feed(policy, 10e6, t)
        assert policy.choose(1, 20.0, t + 0.5).rung == 1
    feed(policy, 10e6, 6.0)  # 12 s of credit, capped at the 10 s dwell
    decision = policy.choose(2, 20.0, 6.0)
    assert decision.rung == 5 and decision.reason == "up: sustained headroom"


def test_a_short_dip_costs_credit_instead_of_resetting_it() -> None:
    policy = started(up_dwell_s=16.0)
    policy.choose(0, 0.0, 0.0)
    for t in (4.0, 8.0, 12.0):
        feed(policy, 20e6, t)
    assert policy.headroom_s(5) == 12.0
    feed(policy, 20e6, 13.0)  # 16 s: full credit
    policy.on_download_complete(0, 100_000, 4.0, 0.0, 17.0)  # one slow download (0.2 Mbit/s)
    assert 0.0 < policy.headroom_s(5) < 16.0  # the dip cost credit, it did not reset it
    for t in (21.0, 25.0):
        feed(policy, 20e6, t)
    assert policy.choose(5, 30.0, 25.0).reason == "up: sustained headroom"


def test_a_long_dip_empties_the_credit_and_a_step_needs_buffer() -> None:
    policy = started(up_dwell_s=12.0, buffer_up_horizon_s=1e9, startup_up_safety=0.0)
    policy.choose(0, 0.0, 0.0)
    feed(policy, 10e6, 0.0)
    feed(policy, 10e6, 2.0)
    assert policy.choose(1, 5.0, 5.0).rung == 1  # buffer 5 s < up_min_buffer_s
    for t in (6.0, 6.5, 7.0, 7.5):
        feed(policy, 0.2e6, t)  # a long dip: each sample costs twice its time in credit
    assert policy.headroom_s(2, 7.5) == 0.0
    for t in (8.0, 9.0):
        feed(policy, 50e6, t)
    assert policy.headroom_s(2, 9.0) == 8.0  # two downloads of a 4 s segment each
    assert policy.choose(2, 20.0, 9.0).rung == 1


def test_immediate_step_down_when_projected_buffer_under_reservoir() -> None:
    policy = started(reservoir_s=8.0)
    policy.last_rung = 5
    for t in (1.0, 2.0, 3.0):
        feed(policy, 2.0e6, t, rung=5)
    # 4.3 Mbit/s x 4 s takes 8.6 s at 2 Mbit/s: 12 - 8.6 + 4 = 7.4 s < 8 s reservoir
    decision = policy.choose(3, 12.0, 3.0)
    assert decision.reason == "down: buffer at risk"
    assert decision.rung == 4  # 2.85M x 4 / 2M = 5.7 s: 12 - 5.7 + 4 = 10.3 s >= 8
    # with a full buffer the dip is ridden out
    policy.last_rung = 5
    assert policy.choose(4, 40.0, 4.0).rung == 5


def _stalled_at_the_top(policy: HysteresisPolicy, gap_s: float) -> Decision:
    """Play at the top rung out of startup, then a 12 s outage download; the next ``choose``
    comes ``gap_s`` after the last one, which had 8 s buffered."""
    policy.choose(0, 0.0, 0.0)
    for t in (1.0, 2.0, 3.0):
        feed(policy, 20e6, t)
    assert policy.choose(1, 6.0, 3.0).rung == 5  # the startup probe
    assert policy.choose(2, 12.0, 4.0).rung == 5  # out of startup
    assert policy.choose(3, 8.0, 10.0).rung == 5
    policy.on_download_complete(5, int(0.3e6 * 12.0 / 8), 12.0, 0.0, 10.0 + gap_s)
    return policy.choose(4, 4.0, 10.0 + gap_s)


def test_after_a_stall_the_latest_download_lifts_the_rung_as_at_the_start() -> None:
    policy = started()
    down = _stalled_at_the_top(policy, gap_s=12.0)  # 12 s without a choose, 8 s buffered
    assert down.reason == "down: buffer at risk" and down.rung <= 1
    policy.on_download_complete(down.rung, int(20e6 * 0.5 / 8), 0.5, 0.0, 22.5)  # fast again
    up = policy.choose(5, 7.5, 22.5)  # under up_min_buffer_s: no dwell step could fire
    assert up == Decision(5, "up: headroom after a stall")


def test_without_a_stall_or_with_the_restart_off_the_rung_is_held() -> None:
    for policy, gap_s in ((started(restart_after_stall=False), 12.0), (started(), 7.9)):
        down = _stalled_at_the_top(policy, gap_s=gap_s)
        assert down.reason == "down: buffer at risk"
        now_s = 10.0 + gap_s + 0.5
        policy.on_download_complete(down.rung, int(20e6 * 0.5 / 8), 0.5, 0.0, now_s)
        assert policy.choose(5, 7.5, now_s) == Decision(down.rung, "hold")


def test_max_rung_cap_is_honoured() -> None:
    policy = started(up_dwell_s=0.0)
    policy.max_rung = 2
    policy.choose(0, 0.0, 0.0)
    for t in (1.0, 2.0):
        feed(policy, 100e6, t)
    assert policy.choose(1, 30.0, 3.0).rung == 2
    policy.max_rung = 1
    assert policy.choose(2, 30.0, 4.0) == Decision(1, "cap")
    with pytest.raises(ValueError):
        policy.max_rung = -1


def test_abandons_a_download_that_would_drain_the_buffer() -> None:
    policy = started(abandon_prior_s=0.0)  # judged on the download's own rate alone
    feed(policy, 5e6, 1.0, rung=4)
    total = int(4_300_000 * SEG_S / 8)  # 2.15 MB
    # 1 s in, 125 kB arrived: 1 Mbit/s, 2.03 MB left takes ~16 s with a 6 s buffer
    lower = policy.should_abandon(5, 125_000, total, 1.0, 6.0, 2.0)
    assert lower is not None and lower < 5
    # the lower rung must fit in the buffer at 1 Mbit/s: 750k x 4 s = 3 s <= 5 s, 1.2M: 4.8 s
    assert lower == 2
    assert policy.last_rung == 2


def test_does_not_abandon_a_download_that_fits() -> None:
    policy = started()
    feed(policy, 5e6, 1.0, rung=4)
    total = int(4_300_000 * SEG_S / 8)
    # 1 s in at 8 Mbit/s: 1.15 MB left takes ~1.15 s, buffer 6 s
    assert policy.should_abandon(5, 1_000_000, total, 1.0, 6.0, 2.0) is None
    # a slow download with a big buffer is left alone too
    assert policy.should_abandon(5, 125_000, total, 1.0, 40.0, 2.0) is None
    # too young to judge, and rung 0 has nowhere to go
    assert policy.should_abandon(5, 1_000, total, 0.2, 1.0, 2.0) is None
    assert policy.should_abandon(0, 1_000, total, 2.0, 1.0, 2.0) is None


def test_a_slow_first_half_second_is_weighed_against_the_estimate() -> None:
    total = int(4_300_000 * SEG_S / 8)  # 2.15 MB
    # 0.5 s in, 50 kB: 0.8 Mbit/s on a link measured at 5 Mbit/s, 6 s buffered
    own_rate = started(abandon_prior_s=0.0)
    feed(own_rate, 5e6, 1.0, rung=4)
    assert own_rate.should_abandon(5, 50_000, total, 0.5, 6.0, 1.5) is not None  # ~21 s left
    blended = started()
    feed(blended, 5e6, 1.0, rung=4)
    # half a second of the estimate weighs as much as the download's own: ~2.9 Mbit/s, ~5.8 s
    assert blended.abandon_rate_bps(50_000, 0.5) == pytest.approx(2.9e6)
    assert blended.should_abandon(5, 50_000, total, 0.5, 7.0, 1.5) is None
    # the longer the download stays slow, the less the estimate counts: 3 s in at 0.8 Mbit/s
    assert blended.should_abandon(5, 300_000, total, 3.0, 7.0, 4.0) is not None


def test_first_download_is_abandoned_only_past_the_startup_budget() -> None:
    policy = started()
    total = int(750_000 * SEG_S / 8)  # 375 kB
    # nothing buffered yet (buffer 0): 1 s in at 1.5 Mbit/s, ~1 s left: no stall is possible,
    # the start is barely delayed -> keep it (the old rule dropped it for want of buffer)
    assert policy.should_abandon(1, 187_500, total, 1.0, 0.0, 1.0) is None
    # at 0.2 Mbit/s the rest takes ~14 s, past the 4 s budget -> the lowest rung
    assert policy.should_abandon(1, 25_000, total, 1.0, 0.0, 1.0) == 0


def test_a_full_buffer_funds_a_step_with_the_ewma_estimate() -> None:
    def at_rung_two(**overrides: float) -> HysteresisPolicy:
        policy = started(**overrides)
        policy.last_rung = 2
        policy._in_startup = False
        # a bursty link: mostly 3 Mbit/s, with slow samples that hold the 20th percentile down
        for k in range(20):
            feed(policy, 900_000 if k % 4 == 0 else 3_000_000, 2.0 * k, rung=2)
        return policy

    # 54 s buffered in a 60 s cap: the client would idle, so the buffer funds rung 4 (2.85M)
    assert at_rung_two().choose(20, 54.0, 40.0).rung > 2
    # the same buffer when the cap is far away: judged with the cautious percentile
    assert at_rung_two(max_buffer_s=240.0).choose(20, 54.0, 40.0).rung == 2


def test_the_deeper_the_buffer_the_less_of_the_estimates_spread_a_step_keeps() -> None:
    def at_rung_two() -> HysteresisPolicy:
        policy = started()
        policy.last_rung = 2
        policy._in_startup = False
        # a bursty link: EWMA about 1.8 Mbit/s (no headroom for rung 3), 20th percentile 0.7
        for k in range(20):
            feed(policy, 700_000 if k % 4 == 0 else 2_000_000, 2.0 * k, rung=2)
        return policy

    # 60 s cap: reservoir + cushion 28 s, full from 52 s
    rungs = [at_rung_two().choose(20, buffer_s, 40.0).rung for buffer_s in (28.0, 40.0, 46.0, 52.0)]
    assert rungs == sorted(rungs)  # never a lower rung for a deeper buffer
    assert rungs[0] == 2  # just above the cushion: the cautious percentile, no step
    assert 2 < rungs[2] < rungs[3]  # in between: a step, smaller than the full buffer's
    policy = at_rung_two()
    ewma, pct = policy.estimate_bps, policy.percentile.estimate_bps()
    assert ewma is not None and pct is not None
    funding = [policy.funding_estimate_bps(b, ewma, pct) for b in (20.0, 28.0, 40.0, 52.0, 58.0)]
    assert funding[0] == funding[1] == pct and funding[3] == funding[4] == ewma
    assert pct < funding[2] < ewma


def test_at_a_small_cap_a_funded_step_must_last_the_payback_segments() -> None:
    def at_cap_15(bps: float, **overrides: float) -> HysteresisPolicy:
        policy = HysteresisPolicy(HysteresisConfig(**overrides))  # type: ignore[arg-type]
        policy.start(LADDER, SEG_S, max_buffer_s=15.0)
        policy.last_rung = 2
        policy._in_startup = False
        for k in range(10):  # a steady link: no headroom credit for rung 3 (1.85M)
            policy.on_download_complete(2, int(bps * 2.0 / 8), 2.0, 0.0, 4.0 * k)
        return policy

    # 11 s buffered of a 15 s cap (full), 1.5 Mbit/s: rung 3 drains 0.93 s per segment, so the
    # 2 s above reservoir + cushion last about two segments: a step up then down would cost
    # more in switches than the two segments gain
    assert at_cap_15(1_500_000).choose(10, 11.0, 40.0).rung == 2
    assert at_cap_15(1_500_000, payback_segments=1).choose(10, 11.0, 40.0).rung == 3
    # at 1.7 Mbit/s the same buffer carries rung 3 for more than four segments: taken
    assert at_cap_15(1_700_000).choose(10, 11.0, 40.0).rung == 3


def near_the_end(rung: int, segment_count: int | None = 48) -> HysteresisPolicy:
    """A 48-segment title (192 s) at ``rung`` after startup, measured at a steady 2 Mbit/s."""
    policy = HysteresisPolicy()
    policy.start(LADDER, SEG_S, segment_count)
    policy.last_rung = rung
    policy._in_startup = False
    for k in range(20):
        feed(policy, 2.0e6, 2.0 * k, rung=rung)
    return policy


def test_endgame_spends_the_buffer_on_the_last_segments_once() -> None:
    # 4 segments left (16 s <= 60 s horizon), 20 s buffered. Fetch time at 2 Mbit/s: 2.85M x 4 s
    # -> 5.7 s each, the last lands at 4 x 5.7 - 3 x 4 = 10.8 s <= 20 - 8 (reservoir): rung 4;
    # 4.3M -> 8.6 s each: 4 x 8.6 - 12 = 22.4 s > 12: not rung 5.
    policy = near_the_end(2)
    decision = policy.choose(44, 20.0, 40.0)
    assert decision == Decision(4, "end: buffer spent on the last segments")
    # only once per session: later, rung 5 would fit (3 x 8.6 - 8 = 17.8 <= 30 - 8) but is not taken
    assert policy.choose(45, 30.0, 44.0).rung == 4
    # the same moment without the title's length, or far from its end: the steady rules hold
    assert near_the_end(2, segment_count=None).choose(44, 20.0, 40.0) == Decision(2, "hold")
    assert near_the_end(2).choose(10, 20.0, 40.0) == Decision(2, "hold")


def test_endgame_skips_a_step_down_only_while_the_rung_finishes_the_title() -> None:
    # rung 5 at 2 Mbit/s with 12 s buffered: 12 - 8.6 + 4 = 7.4 s < 8 s reservoir -> down
    # 2 segments left: the last lands at 2 x 8.6 - 4 = 13.2 s > 12 s: the step down stands
    assert near_the_end(5).choose(46, 12.0, 40.0).reason == "down: buffer at risk"
    # 1 segment left: it lands at 8.6 s <= 12 s, the title ends without a stall: hold
    assert near_the_end(5).choose(47, 12.0, 40.0) == Decision(
        5, "end: current rung finishes the title")
