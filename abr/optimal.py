"""The offline-optimal bound: dynamic programming over a whole trace with perfect knowledge.

It plays by the simulator's rules (buffer cap and idling, latency, startup after the first
segment, stalls charged to the segment being fetched, QoE_lin per segment) but knows every
future bandwidth and never needs to abandon. The state after segment k is (wall time, buffer,
rung of k). States are merged on a grid of ``grid_s`` seconds in time and buffer; a merged state
keeps the best QoE so far and is snapped *optimistically* (time rounded down, buffer rounded up),
and dominated states are dropped (see :func:`_pareto`). Both rest on "earlier, with more buffer,
is never worse", which is exact without a buffer cap; with one, a fuller buffer can force idling
into a worse bandwidth period, so the bound is not a proof in every corner case. Tests check it
against every policy and the bench counts any trace where a policy beats it.

The snapping is per step, so its optimism compounds over the movie; ``optimistic=False`` runs
the same programme on exact values (states sharing a grid cell are merged, best QoE wins), which
yields a *feasible* plan whose value the simulator reproduces exactly: a lower bound on the true
optimum. The bench reports both.

The cost is ~segments × states × rungs: with a 0.1 s grid, 1–25 s per trace of the 48-segment
envivio movie; the 199-segment bbb4k movie is run with 0.5 s (the feasible mode keeps more states
and takes longer, about 15 s per bbb4k trace at 0.5 s).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from abr.sim.movie import Movie
from abr.sim.qoe import REBUFFER_PENALTY
from abr.sim.trace import Trace


@dataclass(frozen=True)
class OptimalConfig:
    grid_s: float = 0.1
    """Time and buffer resolution of merged states, seconds. Default 0.1."""
    max_buffer_s: float = 60.0
    """The buffer cap, as the simulator's, seconds. Default 60."""
    optimistic: bool = True
    """True: snap states optimistically to the grid (the upper bound). False: keep each state's
    exact time and playout end and only merge states that share a grid cell (the best QoE wins),
    so the plan found is feasible and its value is exactly what the simulator would score: a
    lower bound on the true optimum. Default True."""


@dataclass(frozen=True)
class OptimalResult:
    qoe_lin: float
    """Mean per-segment QoE_lin of the best plan, Mbit/s."""
    rungs: tuple[int, ...]
    states_explored: int


State = tuple[float, float, float, int]
"""(qoe sum so far, wall time s, playout end s = wall time + buffer, parent index)."""


def offline_optimal(
    trace: Trace, movie: Movie, config: OptimalConfig | None = None
) -> OptimalResult:
    config = config or OptimalConfig()
    grid = config.grid_s
    seg_s = movie.segment_duration_s
    mbps = [b / 1e6 for b in movie.bitrates_bps]
    rungs = range(len(mbps))
    layer: list[list[State]] = []
    for rung in rungs:
        seconds, _ = trace.download_s(0.0, movie.segment_bits[0][rung])
        layer.append([(mbps[rung], seconds, seconds + seg_s, -1)])
    history = [layer]
    explored = 0
    for k in range(1, movie.segment_count):
        candidates: list[list[State]] = [[] for _ in rungs]
        sizes = movie.segment_bits[k]
        for prev in rungs:
            for index, (value, t_s, end_s, _) in enumerate(layer[prev]):
                if end_s - t_s + seg_s > config.max_buffer_s:
                    t_s = end_s + seg_s - config.max_buffer_s
                parent = prev * 1_000_000 + index
                first_byte_s = t_s + trace.latency_s(t_s)
                carried_bits = trace.capacity_bits(first_byte_s)
                for rung in rungs:
                    explored += 1
                    done_s = trace.time_for_capacity(carried_bits + sizes[rung])
                    stall_s = done_s - end_s if done_s > end_s else 0.0
                    gain = mbps[rung] - REBUFFER_PENALTY * stall_s - abs(mbps[rung] - mbps[prev])
                    new_end_s = (end_s if end_s > done_s else done_s) + seg_s
                    candidates[rung].append((value + gain, done_s, new_end_s, parent))
        layer = [_pareto(states, grid, config.optimistic) for states in candidates]
        history.append(layer)
    best_rung, best_index, best_value = 0, 0, -math.inf
    for rung in rungs:
        for index, state in enumerate(layer[rung]):
            if state[0] > best_value:
                best_rung, best_index, best_value = rung, index, state[0]
    plan = []
    rung, index = best_rung, best_index
    for step in range(movie.segment_count - 1, -1, -1):
        plan.append(rung)
        parent = history[step][rung][index][3]
        rung, index = divmod(parent, 1_000_000)
    plan.reverse()
    return OptimalResult(best_value / movie.segment_count, tuple(plan), explored)


def _pareto(states: list[State], grid_s: float, optimistic: bool = True) -> list[State]:
    """Snap optimistically (time down, playout end up) and drop dominated states.

    With ``optimistic=False`` nothing is snapped: of the states sharing a grid cell only the one
    with the best QoE is kept, with its exact values, so every kept state is reachable.

    A beats B when A is no later, has at least B's QoE, and its QoE surplus pays for any
    playout-end deficit at the rebuffer price (a second of buffer can save at most a second of
    stall): ``W_A >= W_B`` and ``W_A + 4.3 * end_A >= W_B + 4.3 * end_B``.
    """
    if optimistic:
        snapped = sorted(
            (
                (
                    math.floor(t_s / grid_s) * grid_s,
                    math.ceil(end_s / grid_s - 1e-9) * grid_s,
                    value,
                    p,
                )
                for value, t_s, end_s, p in states
            ),
            key=lambda s: (s[0], -s[2], -s[1]),
        )
    else:
        cells: dict[tuple[int, int], tuple[float, float, float, int]] = {}
        for value, t_s, end_s, p in states:
            cell = (math.floor(t_s / grid_s), math.ceil(end_s / grid_s - 1e-9))
            held = cells.get(cell)
            if held is None or value > held[2]:
                cells[cell] = (t_s, end_s, value, p)
        snapped = sorted(cells.values(), key=lambda s: (s[0], -s[2], -s[1]))
    kept: list[State] = []
    # staircase over kept states of (u, w): u descending, w ascending
    us: list[float] = []
    ws: list[float] = []
    for t_s, end_s, value, parent in snapped:
        u = value + REBUFFER_PENALTY * end_s
        lo, hi = 0, len(us)
        while lo < hi:
            mid = (lo + hi) // 2
            if us[mid] >= u:
                lo = mid + 1
            else:
                hi = mid
        if lo > 0 and ws[lo - 1] >= value:
            continue
        kept.append((value, t_s, end_s, parent))
        drop = lo
        while drop < len(us) and ws[drop] <= value:
            drop += 1
        us[lo:drop] = [u]
        ws[lo:drop] = [value]
    return kept
