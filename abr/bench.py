"""``python -m abr bench``: every policy and the optimal bound on every trace, summarised per
cell (trace class, or class × movie × buffer cap with ``--matrix``) and judged by
:mod:`abr.matrix` (see docs/abr.md for the commands and the numbers)."""

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

from abr.matrix import choose_p99_us, format_matrix, judge, pct_of_bound, time_choose
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
MATRIX_MOVIES = ("pensieve_envivio.json", "sabre_bbb4k.json")
MATRIX_CAPS_S = (15.0, 30.0, 60.0)
"""``--matrix``: every class with both movies (from the movies folder next to the first
``--traces``) at each of these buffer caps."""
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
    feasible: bool = True
    cell: str = ""


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
    eligible = trace.mean_bps() >= movie.bitrates_bps[0]
    sim_config = SimConfig(max_buffer_s=job.max_buffer_s)
    sessions: dict[str, dict[str, float]] = {}
    choose_us: list[float] = []
    for name, factory in POLICIES.items():
        policy = factory(job.max_buffer_s)
        if name == "hysteresis":
            time_choose(policy, choose_us)
        result = simulate(policy, trace, movie, sim_config)
        q = result.qoe
        sessions[name] = {
            "qoe_lin": q.qoe_lin,
            "rebuffer_ratio": q.rebuffer_ratio,
            "rebuffer_events": q.rebuffer_events,
            "switches_per_min": q.switches_per_min,
            "avg_bitrate_kbps": q.avg_bitrate_bps / 1000.0,
            "startup_delay_s": q.startup_delay_s,
        }
    cached = job.cached_optimal or {}
    if OPTIMAL in cached and (OPTIMAL_PLAN in cached or not job.feasible or not job.with_optimal):
        for key in (OPTIMAL, OPTIMAL_PLAN):
            if key in cached:
                sessions[key] = {"qoe_lin": cached[key]}
    elif job.with_optimal and eligible:  # the % of bound is only taken over eligible traces
        best = offline_optimal(
            trace, movie, OptimalConfig(grid_s=job.grid_s, max_buffer_s=job.max_buffer_s)
        )
        sessions[OPTIMAL] = {"qoe_lin": best.qoe_lin}
    if job.with_optimal and eligible and job.feasible and OPTIMAL_PLAN not in sessions:
        feasible = offline_optimal(
            trace,
            movie,
            OptimalConfig(
                grid_s=max(job.grid_s, FEASIBLE_GRID_S),
                max_buffer_s=job.max_buffer_s,
                optimistic=False,
            ),
        )
        sessions[OPTIMAL_PLAN] = {"qoe_lin": feasible.qoe_lin}
    return {
        "choose_us": sorted(choose_us),
        "trace": trace.name,
        "class": job.trace_class,
        "cell": job.cell or job.trace_class,
        "movie": movie.name,
        "max_buffer_s": job.max_buffer_s,
        "mean_kbps": trace.mean_bps() / 1000.0,
        "eligible": eligible,
        "sessions": sessions,
    }


def _p10(values: Sequence[float]) -> float:
    if len(values) < 2:
        return values[0]
    return statistics.quantiles(values, n=10, method="inclusive")[0]


def summarise(runs: Sequence[dict[str, Any]]) -> dict[str, Any]:
    summary: dict[str, Any] = {}
    for cls in sorted({run.get("cell", run["class"]) for run in runs}):
        in_class = [run for run in runs if run.get("cell", run["class"]) == cls]
        names = [n for n in in_class[0]["sessions"] if all(n in r["sessions"] for r in in_class)]
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
                row["pct_of_bound"] = pct_of_bound(in_class, name, OPTIMAL)[0]
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
                    row["pct_of_bound"] = pct_of_bound(in_class, name, OPTIMAL)[0]
                    row["above_bound"] = sum(
                        1
                        for r in in_class
                        if r["sessions"][name]["qoe_lin"] > r["sessions"][OPTIMAL]["qoe_lin"] + 1e-9
                    )
            rows[name] = row
        pct, eligible, refused = pct_of_bound(in_class, "hysteresis", OPTIMAL)
        summary[cls] = {
            "traces": len(in_class),
            "movie": in_class[0]["movie"],
            "max_buffer_s": in_class[0].get("max_buffer_s"),
            "policies": rows,
            "pct_of_bound": pct,
            "pct_eligible": eligible,
            "pct_refused": refused,
        }
    return summary


def targets(summary: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The issue's targets for the hysteresis policy, per cell (see :mod:`abr.matrix`)."""
    return {cell: judge(block, BASELINES) for cell, block in summary.items()}


def format_table(summary: dict[str, Any]) -> str:
    lines = []
    header = (
        f"{'class':6} {'policy':11} {'QoE mean':>9} {'median':>7} {'p10':>7} {'rebuf %':>8} "
        f"{'sw/min':>7} {'kbit/s':>7} {'% bnd':>6}"
    )
    for cls, block in summary.items():
        lines.append(
            f"{cls}: {block['traces']} traces, movie {block['movie']}, "
            f"cap {block['max_buffer_s']:g} s; % bnd = per-trace median of QoE / bound over "
            f"{block['pct_eligible']} eligible traces"
        )
        lines.append(header)
        for name, row in block["policies"].items():
            rebuf = f"{100 * row['rebuffer_ratio']:8.3f}" if "rebuffer_ratio" in row else " " * 8
            switches = f"{row['switches_per_min']:7.2f}" if "switches_per_min" in row else " " * 7
            kbps = f"{row['avg_bitrate_kbps']:7.0f}" if "avg_bitrate_kbps" in row else " " * 7
            pct = f"{row['pct_of_bound']:6.1f}" if row.get("pct_of_bound") is not None else " " * 6
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
    parser.add_argument(
        "--traces",
        required=True,
        type=Path,
        action="append",
        help="folder of trace .json files (repeatable; movies/ is looked up next to the first)",
    )
    parser.add_argument(
        "--matrix",
        action="store_true",
        help="every class with pensieve_envivio and sabre_bbb4k at buffer caps 15, 30 and 60 s",
    )
    parser.add_argument(
        "--caps", help="comma-separated buffer caps for --matrix, seconds (default 15,30,60)"
    )
    parser.add_argument(
        "--cached-bounds-only",
        action="store_true",
        help="take the bounds from --optimal-cache and compute none (a cell whose eligible "
        "traces are not all cached gets no percentage)",
    )
    parser.add_argument(
        "--no-feasible",
        action="store_true",
        help="skip the feasible plan (the lower bound): half the optimal's cost",
    )
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
        "CLASS=SECONDS or MOVIE=SECONDS (movie file stem; the class wins; repeatable)",
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


def _jobs(args: argparse.Namespace) -> list[Job]:
    folders: list[Path] = args.traces
    wanted = set(args.classes.split(",")) if args.classes else None
    grids = {"*": 0.1}
    for item in args.grid_s or []:
        cls, _, value = item.rpartition("=")
        try:
            grids[cls or "*"] = float(value)
        except ValueError:
            raise SystemExit(f"--grid-s {item!r}: not a number of seconds") from None
    classes: dict[Path, str] = {}
    for folder in folders:
        if not folder.is_dir():
            raise SystemExit(f"--traces {folder}: not a folder")
        classes.update(trace_classes(folder))
    if args.matrix:
        movies_dir = folders[0].parent / "movies"
        movie_files = [movies_dir / name for name in MATRIX_MOVIES]
        try:
            caps = [float(c) for c in args.caps.split(",")] if args.caps else list(MATRIX_CAPS_S)
        except ValueError:
            raise SystemExit(f"--caps {args.caps!r}: give seconds such as 15,30,60") from None
    else:
        movies = _movie_map(args, folders[0])
        caps = [args.max_buffer_s]
    jobs = []
    for path, cls in classes.items():
        if wanted is not None and cls not in wanted:
            continue
        if not args.matrix:
            movie = movies.get(cls, movies.get("*"))
            if movie is None:
                print(f"skipping {path.name}: no movie for class {cls}", file=sys.stderr)
                continue
            movie_files = [movie]
        for movie in movie_files:
            if not movie.exists():
                raise SystemExit(f"movie {movie} does not exist")
            for cap in caps:
                cell = f"{cls}/{movie.stem}/{cap:g}s" if args.matrix else cls
                grid = grids.get(cls, grids.get(movie.stem, grids["*"]))
                with_optimal = not args.no_optimal and not args.cached_bounds_only
                jobs.append(
                    Job(str(path), cls, str(movie), cap, grid, with_optimal,
                        feasible=not args.no_feasible, cell=cell)
                )
    # movie by movie, cap by cap: with a cache, the cheap bounds are kept first
    order = {str(movie): n for n, movie in enumerate(movie_files if args.matrix else [])}
    return sorted(jobs, key=lambda job: (order.get(job.movie_path, 0), job.max_buffer_s))


class _Inline:
    """``map`` in this process (``--jobs 1``), lazily, like a pool's."""

    def __enter__(self) -> _Inline:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def map(self, fn: Any, items: Sequence[Job]) -> Any:
        return (fn(item) for item in items)


def _write_cache(path: Path, cache: dict[str, dict[str, float]]) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(cache, indent=1, sort_keys=True))
    tmp.replace(path)


def main(args: argparse.Namespace) -> int:
    jobs = _jobs(args)
    if not jobs:
        raise SystemExit("no traces to run")
    cache: dict[str, dict[str, float]] = {}
    if args.cached_bounds_only and args.optimal_cache is None:
        raise SystemExit("--cached-bounds-only needs --optimal-cache FILE")
    if args.optimal_cache is not None and args.optimal_cache.exists() and not args.no_optimal:
        cache = json.loads(args.optimal_cache.read_text())
        jobs = [replace(job, cached_optimal=cache.get(cache_key(job))) for job in jobs]
    workers = max(1, min(args.jobs, 2))
    keep = args.optimal_cache is not None and not args.no_optimal
    runs: list[dict[str, Any]] = []
    with ProcessPoolExecutor(max_workers=workers) if workers > 1 else _Inline() as pool:
        for job, run in zip(jobs, pool.map(run_job, jobs), strict=True):
            runs.append(run)
            if keep and job.cached_optimal is None and OPTIMAL in run["sessions"]:
                cache[cache_key(job)] = {
                    key: run["sessions"][key]["qoe_lin"]
                    for key in (OPTIMAL, OPTIMAL_PLAN)
                    if key in run["sessions"]
                }
                _write_cache(args.optimal_cache, cache)  # a long run keeps what it computed
    summary = summarise(runs)
    print(format_table(summary))
    checks = targets(summary)
    print(format_matrix(checks, {cell: block["traces"] for cell, block in summary.items()}))
    p99 = choose_p99_us(runs)
    if p99 is not None:
        print(f"hysteresis choose(): p99 {p99:.1f} µs over {sum(len(r['choose_us']) for r in runs)}"
              " calls (wall time, this machine, under the bench's own load)")
    for run in runs:
        run.pop("choose_us", None)
    for cell, block in summary.items():
        if block["pct_refused"]:
            print(f"{cell}: no % of bound: {block['pct_refused']}")
    if args.json:
        args.json.write_text(
            json.dumps(
                {"summary": summary, "targets": checks, "runs": runs}, indent=1, sort_keys=True
            )
        )
    return 0
