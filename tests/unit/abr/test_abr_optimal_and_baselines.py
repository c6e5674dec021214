from pathlib import Path

import pytest

from abr.baselines.bba import Bba
from abr.baselines.bola import Bola
from abr.baselines.throughput import ThroughputRule
from abr.optimal import OptimalConfig, offline_optimal
from abr.policies import POLICIES
from abr.sim.movie import Movie
from abr.sim.simulator import simulate
from abr.sim.trace import Period, Trace

from .sim_helpers import cbr_movie, constant_trace

LADDER = [300_000, 750_000, 1_200_000, 1_850_000, 2_850_000, 4_300_000]
SHARED = Path(__file__).resolve().parents[4] / "shared" / "traces"


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
    assert rule.choose(0, 0.0, 0.0).rung == 0
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
