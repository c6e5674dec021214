from pathlib import Path

import pytest

from abr.base import PolicyBase
from abr.baselines.bba import Bba
from abr.baselines.bola import Bola, BolaConfig
from abr.baselines.dynamic import Dynamic
from abr.baselines.throughput import ThroughputRule
from abr.interface import Decision
from abr.optimal import OptimalConfig, offline_optimal
from abr.policies import POLICIES
from abr.sim.movie import Movie
from abr.sim.simulator import simulate
from abr.sim.trace import Period, Trace

from .sim_helpers import cbr_movie, constant_trace

LADDER = [300_000, 750_000, 1_200_000, 1_850_000, 2_850_000, 4_300_000]
SHARED = Path(__file__).resolve().parents[4] / "shared" / "traces"


class PlanReplay(PolicyBase):
    """Fetches a fixed rung sequence."""

    name = "plan"

    def __init__(self, plan: tuple[int, ...]) -> None:
        super().__init__()
        self.plan = plan

    def choose(self, segment_index: int, buffer_s: float, now_s: float) -> Decision:
        return self._decide(self.plan[segment_index], "plan")


def bumpy_traces() -> list[Trace]:
    traces = [
        Trace([Period(20_000, 3000, 80), Period(15_000, 400, 80), Period(25_000, 1500, 80)]),
        Trace([Period(5_000, 5000, 80), Period(5_000, 200, 80)]),
        Trace([Period(30_000, 900, 80), Period(10_000, 6000, 80)]),
    ]
    for pattern in ("fcc_trace_8747_*.json", "hsdpa_bus.ljansbakken*.json", "hsdpa_metro*.json"):
        traces.extend(Trace.load(path) for path in sorted((SHARED / "train").glob(pattern))[:1])
    return traces


def short_movie() -> Movie:
    path = SHARED / "movies" / "pensieve_envivio.json"
    if path.exists():
        full = Movie.load(path)
        return Movie(full.segment_duration_s, full.bitrates_bps, full.segment_bits[:14], "short")
    return cbr_movie([b // 1000 for b in LADDER], segments=14)


def test_optimal_is_at_least_every_policy() -> None:
    movie = short_movie()
    for trace in bumpy_traces():
        bound = offline_optimal(trace, movie, OptimalConfig(grid_s=0.1)).qoe_lin
        for name, factory in POLICIES.items():
            achieved = simulate(factory(60.0), trace, movie).qoe.qoe_lin
            assert bound >= achieved - 1e-9, (trace.name, name, bound, achieved)


def test_optimal_plays_top_on_a_fast_link_and_returns_its_plan() -> None:
    movie = cbr_movie([b // 1000 for b in LADDER], segments=8)
    result = offline_optimal(constant_trace(20_000), movie)
    assert result.rungs == (5,) * 8
    assert result.qoe_lin == pytest.approx(4.3)


def test_throughput_rule_uses_mean_of_last_four_with_safety() -> None:
    rule = ThroughputRule()
    rule.start(LADDER, 4.0)
    assert rule.choose(0, 0.0, 0.0).rung == 1  # dash.js's initial 1000 kbit/s -> 750k
    for bps in (1e6, 1e6, 1e6, 1e6, 3e6):  # window: 1,1,1,3 -> 1.5M x 0.9 = 1.35M
        rule.on_download_complete(0, int(bps / 8), 1.0, 0.0, 0.0)
    assert rule.estimate_bps == pytest.approx(1.5e6)
    assert rule.choose(1, 10.0, 1.0).rung == 2


def test_bba_rate_map_and_hysteresis() -> None:
    bba = Bba()
    bba.start(LADDER, 4.0)
    assert bba.choose(0, 3.0, 0.0).rung == 0  # reservoir
    assert bba.choose(1, 16.0, 0.0).rung == 5  # past reservoir + cushion
    # f(11 s) = 0.3 + 4.0 * 0.6 = 2.7 Mbit/s: between rungs 3 and 4; from the top it steps to
    # the lowest rate above f, rung 4; then holds while f stays between its neighbours
    assert bba.choose(2, 11.0, 0.0).rung == 4
    assert bba.choose(3, 11.5, 0.0).rung == 4


def test_bola_prefers_higher_rungs_with_more_buffer_and_guards_oscillation() -> None:
    bola = Bola()
    bola.start(LADDER, 4.0)
    rungs = [bola.rung_from_buffer(b) for b in (5.0, 15.0, 30.0, 45.0, 56.0)]
    assert rungs == sorted(rungs) and rungs[0] == 0 and rungs[-1] == 5
    bola.on_download_complete(0, int(1e6 / 8), 1.0, 0.0, 0.0)  # 1 Mbit/s: throughput rung 1
    bola.choose(0, 4.0, 0.0)
    bola.last_rung = 1
    decision = bola.choose(1, 56.0, 1.0)  # buffer says top, throughput says 1
    assert decision.rung == 1 and decision.reason.startswith("bola-o")


def test_feasible_plan_scores_what_the_simulator_scores_and_stays_under_the_bound() -> None:
    movie = short_movie()
    for trace in bumpy_traces()[:4]:
        bound = offline_optimal(trace, movie, OptimalConfig(grid_s=0.1)).qoe_lin
        feasible = offline_optimal(trace, movie, OptimalConfig(grid_s=0.5, optimistic=False))
        replayed = simulate(PlanReplay(feasible.rungs), trace, movie).qoe.qoe_lin
        assert replayed == pytest.approx(feasible.qoe_lin, abs=1e-9)
        assert feasible.qoe_lin <= bound + 1e-9


def test_bola_keeps_its_startup_rung_through_the_placeholder_buffer() -> None:
    bola = Bola()
    bola.start(LADDER, 4.0)
    assert bola.choose(0, 0.0, 0.0).rung == 1  # initial bitrate, no estimate yet
    bola.on_download_complete(1, int(3e6 * 2 / 8), 2.0, 0.0, 2.0)  # 3 Mbit/s: 0.9x -> rung 3
    assert bola.choose(1, 4.0, 2.0).rung == 3  # startup: throughput rung
    assert bola.placeholder_s > 0
    bola.on_download_complete(3, int(3e6 * 2 / 8), 2.0, 0.0, 4.0)
    # 6 s of real buffer alone would say rung 0; the placeholder keeps rung 3
    assert bola.choose(2, 6.0, 4.0).rung == 3
    without = Bola(BolaConfig(placeholder=False))
    without.start(LADDER, 4.0)
    without.choose(0, 0.0, 0.0)
    without.on_download_complete(1, int(3e6 * 2 / 8), 2.0, 0.0, 2.0)
    without.choose(1, 4.0, 2.0)
    without.on_download_complete(3, int(3e6 * 2 / 8), 2.0, 0.0, 4.0)
    assert without.choose(2, 6.0, 4.0).rung == 0


def test_insufficient_buffer_rule_caps_bola_and_dynamic() -> None:
    for policy in (Bola(), Dynamic()):
        policy.start(LADDER, 4.0)
        policy.choose(0, 0.0, 0.0)
        for k in range(3):
            policy.on_download_complete(3, int(4e6 * 2 / 8), 2.0, 0.0, 2.0 * (k + 1))
        policy.last_rung = 5
        # 4 Mbit/s x 0.5 x (2 s / 4 s) = 1 Mbit/s -> at most rung 1
        assert policy.choose(3, 2.0, 8.0).rung <= 1
