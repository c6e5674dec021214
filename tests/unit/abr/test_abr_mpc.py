import pytest

from abr.interface import AbrPolicy
from abr.mpc import MpcConfig, RobustMpcPolicy, RobustPredictor, plan_first_rung

LADDER = [300_000, 750_000, 1_200_000, 1_850_000, 2_850_000, 4_300_000]
SEG_S = 4.0


def sample(predictor: RobustPredictor, bps: float) -> None:
    predictor.sample(int(bps * 2.0 / 8), 2.0, 0.0)


def test_predictor_is_the_harmonic_mean_discounted_by_the_worst_recent_error() -> None:
    predictor = RobustPredictor()
    assert predictor.robust_bps() is None
    sample(predictor, 1e6)
    assert predictor.robust_bps() == pytest.approx(1e6)  # no prediction error yet
    sample(predictor, 2e6)  # predicted 1e6, got 2e6: relative error 0.5
    mean = 2 / (1 / 1e6 + 1 / 2e6)
    assert predictor.harmonic_mean_bps() == pytest.approx(mean)
    assert predictor.robust_bps() == pytest.approx(mean / 1.5)
    predictor.sample(1000, 1.0, 0.0)  # too small to count
    assert predictor.harmonic_mean_bps() == pytest.approx(mean)


def plan(buffer_s: float, current: int, bps: float, **overrides: float) -> int:
    config = MpcConfig(**overrides)  # type: ignore[arg-type]
    rung, _ = plan_first_rung(LADDER, SEG_S, buffer_s, current, bps, 0.08, 60.0, 5, config)
    return rung


def test_plan_steps_up_with_headroom_and_down_when_the_buffer_is_short() -> None:
    assert plan(30.0, 1, 6e6) == 3  # at most `reach` (2) rungs above the current one
    assert plan(30.0, 1, 6e6, reach=5) == 5
    assert plan(2.0, 4, 1e6) < 4  # 2.85 Mbit/s at 1 Mbit/s with 2 s buffered would stall
    # RobustMPC's myopia: 30 s of buffer funds 2.85 Mbit/s at 1.3 Mbit/s for 5 segments ...
    assert plan(30.0, 2, 1.3e6) == 4
    # ... unless the plan must end with that buffer
    assert plan(30.0, 2, 1.3e6, terminal_buffer_s=30.0, terminal_weight=1.0) == 2


def test_switch_penalty_and_terminal_buffer_make_the_plan_more_cautious() -> None:
    assert plan(12.0, 1, 1.6e6) == 3
    assert plan(12.0, 1, 1.6e6, switch_penalty=5.0) == 1
    assert plan(12.0, 1, 1.6e6, terminal_buffer_s=30.0, terminal_weight=1.0) == 0


def test_the_widest_plan_steps_no_further_than_reach() -> None:
    """Ten rungs, a 5-segment horizon, mid-ladder: the widest search the player asks for (its
    cost is measured by ``tests/bench/abr_cost.py``). At 2.5 Mbit/s with 20 s buffered the plan
    climbs as far as ``reach`` lets it, and with a wider reach stops where the buffer runs out:
    5 Mbit/s fits a 5-segment horizon, 6 Mbit/s does not."""
    ten = [230_000, 331_000, 477_000, 688_000, 991_000, 1_427_000, 2_056_000, 2_962_000,
           5_027_000, 6_000_000]

    def first(reach: int) -> int:
        config = MpcConfig(reach=reach)
        return plan_first_rung(ten, 3.0, 20.0, 5, 2.5e6, 0.05, 60.0, 9, config)[0]

    assert [first(reach) for reach in (1, 2, 3, 4)] == [6, 7, 8, 8]


def test_robust_mpc_policy_runs_the_plan() -> None:
    policy = RobustMpcPolicy()
    assert isinstance(policy, AbrPolicy)
    policy.start(LADDER, SEG_S)
    assert policy.choose(0, 0.0, 0.0).rung == 1  # 0.75 x 1 Mbit/s
    for t in range(1, 6):
        policy.on_download_complete(1, int(8e6 * 2.0 / 8), 2.0, 0.0, float(t))
    decision = policy.choose(5, 20.0, 6.0)
    assert decision.rung == 3 and decision.reason == "mpc"
    policy.max_rung = 2
    assert policy.choose(6, 20.0, 7.0).rung == 2
