"""``python -m abr bench``: every policy and the optimal bound on every trace, summarised per
trace class (see docs/abr.md for the commands and the numbers)."""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from abr.optimal import OptimalConfig, offline_optimal
from abr.policies import BASELINES, POLICIES
from abr.sim.movie import Movie
from abr.sim.simulator import SimConfig, simulate
from abr.sim.trace import Trace

DEFAULT_PAIRING = {
    "hsdpa": "pensieve_envivio.json",
    "fcc": "pensieve_envivio.json",
    "lte": "sabre_bbb4k.json",
}
"""Trace class -> movie file in the movies folder next to the traces folder."""
OPTIMAL = "optimal"
OPTIMAL_PLAN = "optimal_plan"
"""The best *feasible* plan the same dynamic programme finds when it keeps exact times (no
optimistic snapping): a schedule the simulator scores exactly so, hence a lower bound on the true
optimum. The true optimum lies between ``optimal_plan`` and ``optimal``."""
FEASIBLE_GRID_S = 0.5
"""Merge grid of the feasible plan, seconds (its value is achievable at any grid; 0.5 s keeps
it cheap)."""


@dataclass(frozen=True)
class Job:
    trace_path: str
    trace_class: str
    movie_path: str
    max_buffer_s: float
    grid_s: float
    with_optimal: bool
    cached_optimal: dict[str, float] | None = None


def trace_classes(traces_dir: Path) -> dict[Path, str]:
    """Each trace file with its class: from index.json (in the folder or its parent) when there
    is one, else the file name up to the first underscore."""
    files = sorted(p for p in traces_dir.glob("*.json") if p.name != "index.json")
    classes = {p: p.name.split("_", 1)[0] for p in files}
    for index_path in (traces_dir / "index.json", traces_dir.parent / "index.json"):
        if index_path.exists():
            for entry in json.loads(index_path.read_text()):
                for base in (index_path.parent, traces_dir):
                    path = base / entry["file"]
                    if path in classes:
                        classes[path] = entry["class"]
            break
    return classes


def run_job(job: Job) -> dict[str, Any]:
    trace = Trace.load(job.trace_path)
    movie = Movie.load(job.movie_path)
    sim_config = SimConfig(max_buffer_s=job.max_buffer_s)
    sessions: dict[str, dict[str, float]] = {}
    for name, factory in POLICIES.items():
        result = simulate(factory(job.max_buffer_s), trace, movie, sim_config)
        q = result.qoe
        sessions[name] = {
            "qoe_lin": q.qoe_lin,
            "rebuffer_ratio": q.rebuffer_ratio,
            "rebuffer_events": q.rebuffer_events,
            "switches_per_min": q.switches_per_min,
            "avg_bitrate_kbps": q.avg_bitrate_bps / 1000.0,
            "startup_delay_s": q.startup_delay_s,
        }
    if job.cached_optimal is not None:
        sessions[OPTIMAL] = {"qoe_lin": job.cached_optimal[OPTIMAL]}
        sessions[OPTIMAL_PLAN] = {"qoe_lin": job.cached_optimal[OPTIMAL_PLAN]}
    elif job.with_optimal:
        best = offline_optimal(
            trace, movie, OptimalConfig(grid_s=job.grid_s, max_buffer_s=job.max_buffer_s)
        )
        feasible = offline_optimal(
            trace,
            movie,
            OptimalConfig(
                grid_s=max(job.grid_s, FEASIBLE_GRID_S),
                max_buffer_s=job.max_buffer_s,
                optimistic=False,
            ),
        )
        sessions[OPTIMAL] = {"qoe_lin": best.qoe_lin}
        sessions[OPTIMAL_PLAN] = {"qoe_lin": feasible.qoe_lin}
    return {
        "trace": trace.name,
        "class": job.trace_class,
        "movie": movie.name,
        "sessions": sessions,
    }


def _p10(values: Sequence[float]) -> float:
    if len(values) < 2:
        return values[0]
    return statistics.quantiles(values, n=10, method="inclusive")[0]


def summarise(runs: Sequence[dict[str, Any]]) -> dict[str, Any]:
    summary: dict[str, Any] = {}
    for cls in sorted({run["class"] for run in runs}):
        in_class = [run for run in runs if run["class"] == cls]
        names = list(in_class[0]["sessions"])
        optimal_mean = (
            statistics.fmean(r["sessions"][OPTIMAL]["qoe_lin"] for r in in_class)
            if OPTIMAL in names
            else None
        )
        rows: dict[str, Any] = {}
        for name in names:
            qoe = [r["sessions"][name]["qoe_lin"] for r in in_class]
            row: dict[str, Any] = {
                "qoe_mean": statistics.fmean(qoe),
                "qoe_median": statistics.median(qoe),
                "qoe_p10": _p10(qoe),
            }
            if name == OPTIMAL_PLAN and optimal_mean is not None:
                row["pct_of_optimal"] = 100.0 * row["qoe_mean"] / optimal_mean
                row["above_bound"] = sum(
                    1
                    for r in in_class
                    if r["sessions"][name]["qoe_lin"] > r["sessions"][OPTIMAL]["qoe_lin"] + 1e-9
                )
            if name not in (OPTIMAL, OPTIMAL_PLAN):
                for key in (
                    "rebuffer_ratio",
                    "switches_per_min",
                    "avg_bitrate_kbps",
                    "startup_delay_s",
                    "rebuffer_events",
                ):
                    row[key] = statistics.fmean(r["sessions"][name][key] for r in in_class)
                if optimal_mean is not None:
                    row["pct_of_optimal"] = 100.0 * row["qoe_mean"] / optimal_mean
                    row["above_bound"] = sum(
                        1
                        for r in in_class
                        if r["sessions"][name]["qoe_lin"] > r["sessions"][OPTIMAL]["qoe_lin"] + 1e-9
                    )
            rows[name] = row
        summary[cls] = {"traces": len(in_class), "movie": in_class[0]["movie"], "policies": rows}
    return summary


def targets(summary: dict[str, Any]) -> dict[str, dict[str, bool]]:
    """The issue's targets for the hysteresis policy, per class."""
    checks: dict[str, dict[str, bool]] = {}
    for cls, block in summary.items():
        rows = block["policies"]
        hyst = rows["hysteresis"]
        best = max(BASELINES, key=lambda n: rows[n]["qoe_mean"])
        best_qoe = rows[best]["qoe_mean"]
        needed = best_qoe + 0.1 if best_qoe < 1.0 else 1.10 * best_qoe
        checks[cls] = {
            "qoe_vs_best_baseline": hyst["qoe_mean"] >= needed,
            "rebuffer_vs_best_baseline": hyst["rebuffer_ratio"] <= rows[best]["rebuffer_ratio"],
            "switches_half_of_throughput": hyst["switches_per_min"]
            <= 0.5 * rows["throughput"]["switches_per_min"],
        }
        if "pct_of_optimal" in hyst:
            checks[cls]["pct_of_optimal_85"] = hyst["pct_of_optimal"] >= 85.0
    return checks


def format_table(summary: dict[str, Any]) -> str:
    lines = []
    header = (
        f"{'class':6} {'policy':11} {'QoE mean':>9} {'median':>7} {'p10':>7} {'rebuf %':>8} "
        f"{'sw/min':>7} {'kbit/s':>7} {'% opt':>6}"
    )
    for cls, block in summary.items():
        lines.append(f"{cls}: {block['traces']} traces, movie {block['movie']}")
        lines.append(header)
        for name, row in block["policies"].items():
            rebuf = f"{100 * row['rebuffer_ratio']:8.3f}" if "rebuffer_ratio" in row else " " * 8
            switches = f"{row['switches_per_min']:7.2f}" if "switches_per_min" in row else " " * 7
            kbps = f"{row['avg_bitrate_kbps']:7.0f}" if "avg_bitrate_kbps" in row else " " * 7
            pct = f"{row['pct_of_optimal']:6.1f}" if "pct_of_optimal" in row else " " * 6
            lines.append(
                f"{cls:6} {name:11} {row['qoe_mean']:9.3f} {row['qoe_median']:7.3f} "
                f"{row['qoe_p10']:7.3f} {rebuf} {switches} {kbps} {pct}"
            )
        lines.append("")
    return "\n".join(lines)


def _movie_map(args: argparse.Namespace, traces_dir: Path) -> dict[str, Path]:
    mapping: dict[str, Path] = {}
    if args.pairing == "default":
        movies_dir = traces_dir.parent / "movies"
        mapping = {cls: movies_dir / name for cls, name in DEFAULT_PAIRING.items()}
    for item in args.movie or []:
        if "=" in item:
            cls, path = item.split("=", 1)
            mapping[cls] = Path(path)
        else:
            mapping["*"] = Path(item)
    if not mapping:
        raise SystemExit("give --movie FILE, --movie CLASS=FILE or --pairing default")
    return mapping


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--traces", required=True, type=Path, help="folder of trace .json files")
    parser.add_argument(
        "--movie", action="append", help="movie FILE for every class, or CLASS=FILE (repeatable)"
    )
    parser.add_argument(
        "--pairing",
        choices=["default"],
        help="hsdpa,fcc -> pensieve_envivio.json, lte -> sabre_bbb4k.json, "
        "from the movies/ folder next to --traces",
    )
    parser.add_argument("--json", type=Path, help="write the summary and per-trace runs here")
    parser.add_argument("--classes", help="comma-separated trace classes to run (default all)")
    parser.add_argument("--max-buffer-s", type=float, default=60.0)
    parser.add_argument(
        "--grid-s",
        action="append",
        help="optimal bound's grid in seconds, for every class (default 0.1) or "
        "CLASS=SECONDS (repeatable)",
    )
    parser.add_argument("--no-optimal", action="store_true", help="skip the optimal bound")
    parser.add_argument("--jobs", type=int, default=1, help="worker processes (at most 2)")
    parser.add_argument(
        "--optimal-cache",
        type=Path,
        help="JSON file of optimal bounds keyed by trace, movie, grid and buffer cap: read when "
        "it exists, bounds not in it are computed and the file is rewritten (the bound does "
        "not depend on any policy)",
    )


def cache_key(job: Job) -> str:
    """What the optimal bound depends on: trace file, movie file, grid and buffer cap."""
    return "|".join(
        (
            Path(job.trace_path).name,
            Path(job.movie_path).name,
            f"{job.grid_s:g}",
            f"{job.max_buffer_s:g}",
        )
    )


def main(args: argparse.Namespace) -> int:
    traces_dir: Path = args.traces
    movies = _movie_map(args, traces_dir)
    wanted = set(args.classes.split(",")) if args.classes else None
    grids = {"*": 0.1}
    for item in args.grid_s or []:
        cls, _, value = item.rpartition("=")
        grids[cls or "*"] = float(value)
    jobs = []
    for path, cls in trace_classes(traces_dir).items():
        if wanted is not None and cls not in wanted:
            continue
        movie = movies.get(cls, movies.get("*"))
        if movie is None:
            print(f"skipping {path.name}: no movie for class {cls}", file=sys.stderr)
            continue
        jobs.append(
            Job(
                str(path),
                cls,
                str(movie),
                args.max_buffer_s,
                grids.get(cls, grids["*"]),
                not args.no_optimal,
            )
        )
    cache: dict[str, dict[str, float]] = {}
    if args.optimal_cache is not None and args.optimal_cache.exists() and not args.no_optimal:
        cache = json.loads(args.optimal_cache.read_text())
        jobs = [replace(job, cached_optimal=cache.get(cache_key(job))) for job in jobs]
    workers = max(1, min(args.jobs, 2))
    if workers > 1:
        with ProcessPoolExecutor(max_workers=workers) as pool:
            runs = list(pool.map(run_job, jobs))
    else:
        runs = [run_job(job) for job in jobs]
    if args.optimal_cache is not None and not args.no_optimal:
        for job, run in zip(jobs, runs, strict=True):
            cache[cache_key(job)] = {
                key: run["sessions"][key]["qoe_lin"] for key in (OPTIMAL, OPTIMAL_PLAN)
            }
        args.optimal_cache.write_text(json.dumps(cache, indent=1, sort_keys=True))
    summary = summarise(runs)
    print(format_table(summary))
    checks = targets(summary)
    for cls, result in checks.items():
        print(f"{cls}: " + ", ".join(f"{k}={'yes' if v else 'NO'}" for k, v in result.items()))
    if args.json:
        args.json.write_text(
            json.dumps(
                {"summary": summary, "targets": checks, "runs": runs}, indent=1, sort_keys=True
            )
        )
    return 0
