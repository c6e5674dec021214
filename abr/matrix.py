"""The bench's verdict per cell (trace class × buffer cap × movie): the issue's targets, judged
against the best baseline of the same cell, and the one table that shows them all.

* **% of bound** is the *per-trace median* of policy QoE ÷ the optimal bound, over the traces
  whose bound is positive and whose mean bandwidth reaches the lowest rung ("eligible"). A cell
  without an eligible trace (or without bounds) gets no percentage: ``None``, printed "—", with
  the reason in ``pct_refused``; a ratio of class means is never reported.
* **Best baseline**: of ``BASELINES``, the highest mean QoE_lin in the cell.
* Targets: QoE ≥ best × 1.05 (best + 0.1 when the best is below 2), rebuffer ratio ≤ the best
  baseline's, switches/min ≤ the best baseline's × 1.2, per-trace median ≥ 85 % of the bound.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Sequence
from typing import Any

PRODUCT = "hysteresis"
QOE_GAIN = 1.05
"""The product must beat the best baseline's mean QoE by 5 % ..."""
QOE_GAIN_ABSOLUTE = 0.1
"""... or by 0.1 Mbit/s per segment where the best is below ``SMALL_QOE``."""
SMALL_QOE = 2.0
SWITCH_ALLOWANCE = 1.2
"""Switches/min at most the best-QoE baseline's × this."""
PCT_TARGET = 85.0


def pct_of_bound(runs: Sequence[dict[str, Any]], policy: str, bound: str) -> tuple[float | None,
                                                                                    int, str]:
    """(per-trace median %, eligible traces, reason when refused)."""
    ratios = []
    missing = 0
    for run in runs:
        sessions = run["sessions"]
        if not run.get("eligible", False):
            continue
        if bound not in sessions:
            missing += 1
            continue
        best = sessions[bound]["qoe_lin"]
        if best > 0:
            ratios.append(100.0 * sessions[policy]["qoe_lin"] / best)
    if ratios and missing:  # a median over some of the traces would not be the cell's
        return None, 0, f"bounds missing for {missing} eligible traces"
    if not ratios:
        eligible = [run for run in runs if run.get("eligible", False)]
        if not eligible:
            why = "no trace whose mean bandwidth reaches the lowest rung"
        elif not any(bound in run["sessions"] for run in eligible):
            why = "no bounds computed"
        else:
            why = "no eligible trace has a positive bound"
        return None, 0, why
    return statistics.median(ratios), len(ratios), ""


def judge(block: dict[str, Any], baselines: Sequence[str]) -> dict[str, Any]:
    """The targets of one cell, with the numbers they compare."""
    rows = block["policies"]
    hyst = rows[PRODUCT]
    best = max(baselines, key=lambda n: rows[n]["qoe_mean"])
    best_row = rows[best]
    best_qoe = best_row["qoe_mean"]
    needed = best_qoe + QOE_GAIN_ABSOLUTE if best_qoe < SMALL_QOE else QOE_GAIN * best_qoe
    verdict: dict[str, Any] = {
        "best_baseline": best,
        "best_qoe": best_qoe,
        "needed_qoe": needed,
        "qoe": hyst["qoe_mean"],
        "qoe_met": hyst["qoe_mean"] >= needed,
        "rebuffer": hyst["rebuffer_ratio"],
        "best_rebuffer": best_row["rebuffer_ratio"],
        "rebuffer_met": hyst["rebuffer_ratio"] <= best_row["rebuffer_ratio"] + 1e-12,
        "switches": hyst["switches_per_min"],
        "best_switches": best_row["switches_per_min"],
        "switches_met": hyst["switches_per_min"]
        <= SWITCH_ALLOWANCE * best_row["switches_per_min"] + 1e-12,
        "pct_of_bound": block.get("pct_of_bound"),
        "pct_eligible": block.get("pct_eligible", 0),
        "pct_refused": block.get("pct_refused", ""),
    }
    pct = verdict["pct_of_bound"]
    verdict["pct_met"] = None if pct is None else pct >= PCT_TARGET
    return verdict


def format_matrix(verdicts: dict[str, dict[str, Any]], traces: dict[str, int]) -> str:
    """One line per cell: the product against its best baseline, each target met or not."""

    def mark(ok: bool | None) -> str:
        return "—" if ok is None else ("ok" if ok else "NO")

    lines = [
        f"{'cell (class/movie/cap)':34} {'n':>3} {'QoE':>7} {'best baseline':>18} {'need':>7} "
        f"{'':2} {'rebuf %':>13} {'':2} {'sw/min':>11} {'':2} {'% bound (n)':>12} {'':2}"
    ]
    for cell, v in verdicts.items():
        pct = "—" if v["pct_of_bound"] is None else f"{v['pct_of_bound']:.1f} ({v['pct_eligible']})"
        lines.append(
            f"{cell:34} {traces[cell]:3d} {v['qoe']:7.3f} {v['best_baseline']:>9} "
            f"{v['best_qoe']:8.3f} {v['needed_qoe']:7.3f} {mark(v['qoe_met']):2} "
            f"{100 * v['rebuffer']:6.3f}/{100 * v['best_rebuffer']:6.3f} "
            f"{mark(v['rebuffer_met']):2} "
            f"{v['switches']:5.2f}/{v['best_switches']:5.2f} {mark(v['switches_met']):2} "
            f"{pct:>12} {mark(v['pct_met']):2}"
        )
    met = sum(
        1 for v in verdicts.values()
        if v["qoe_met"] and v["rebuffer_met"] and v["switches_met"] and v["pct_met"] is not False
    )
    lines.append(f"{met} of {len(verdicts)} cells meet every target that could be judged")
    return "\n".join(lines)


def time_choose(policy: Any, out: list[float]) -> None:
    """Record the wall time of every ``choose`` of ``policy`` in ``out``, microseconds."""
    inner = policy.choose

    def timed(*args: Any, **kwargs: Any) -> Any:
        start = time.perf_counter()
        decision = inner(*args, **kwargs)
        out.append((time.perf_counter() - start) * 1e6)
        return decision

    policy.choose = timed


def choose_p99_us(runs: Sequence[dict[str, Any]]) -> float | None:
    """p99 of the product policy's ``choose`` over every call of the run, microseconds."""
    values = sorted(v for run in runs for v in run.get("choose_us", []))
    return values[min(len(values) - 1, int(0.99 * len(values)))] if values else None
