import json
from pathlib import Path

import pytest

from abr.__main__ import main


def write_inputs(folder: Path) -> tuple[Path, Path]:
    traces = folder / "train"
    traces.mkdir()
    for name, kbps in (("fast_a", 8000), ("fast_b", 6000), ("slow_a", 900)):
        periods = [{"duration_ms": 5000, "bandwidth_kbps": kbps, "latency_ms": 80}] * 4
        periods += [{"duration_ms": 5000, "bandwidth_kbps": kbps / 4, "latency_ms": 80}]
        (traces / f"{name}.json").write_text(json.dumps(periods))
    movie = folder / "movie.json"
    ladder = [300, 750, 1200, 1850, 2850, 4300]
    movie.write_text(
        json.dumps(
            {
                "segment_duration_ms": 4000,
                "bitrates_kbps": ladder,
                "segment_sizes_bits": [[b * 4000 for b in ladder]] * 8,
            }
        )
    )
    return traces, movie


def test_bench_runs_every_policy_per_class_and_writes_json(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    traces, movie = write_inputs(tmp_path)
    out = tmp_path / "bench.json"
    assert (
        main(
            [
                "bench",
                "--traces",
                str(traces),
                "--movie",
                f"fast={movie}",
                "--movie",
                f"slow={movie}",
                "--json",
                str(out),
                "--grid-s",
                "0.2",
            ]
        )
        == 0
    )
    printed = capsys.readouterr().out
    assert "hysteresis" in printed and "optimal" in printed
    data = json.loads(out.read_text())
    assert set(data["summary"]) == {"fast", "slow"}
    fast = data["summary"]["fast"]
    assert fast["traces"] == 2
    names = {
        "hysteresis",
        "throughput",
        "bba",
        "bola",
        "dynamic",
        "robust_mpc",
        "optimal",
        "optimal_plan",
    }
    assert set(fast["policies"]) == names
    for row in fast["policies"].values():
        assert {"qoe_mean", "qoe_median", "qoe_p10"} <= set(row)
    assert fast["policies"]["hysteresis"]["above_bound"] == 0
    assert 0 < fast["policies"]["hysteresis"]["pct_of_bound"] <= 100.0 + 1e-9
    assert fast["pct_eligible"] == 2 and fast["pct_of_bound"] is not None
    assert len(data["runs"]) == 3 and set(data["targets"]) == {"fast", "slow"}
    assert data["targets"]["fast"]["best_baseline"] in {"throughput", "bba", "bola", "dynamic"}
    assert "cells meet every target" in printed


def test_matrix_runs_every_movie_and_cap_and_refuses_a_percentage(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    traces, movie = write_inputs(tmp_path)
    movies = tmp_path / "movies"
    movies.mkdir()
    for name in ("pensieve_envivio", "sabre_bbb4k"):
        (movies / f"{name}.json").write_text(movie.read_text())
    slow = traces / "slow_a.json"  # 0.72 Mbit/s mean: below a 1 Mbit/s lowest rung
    out = tmp_path / "m.json"
    args = ["bench", "--traces", str(traces), "--matrix", "--caps", "15,30", "--classes", "slow"]
    assert main([*args, "--grid-s", "0.5", "--no-feasible", "--json", str(out)]) == 0
    data = json.loads(out.read_text())
    movie_names = ("pensieve_envivio", "sabre_bbb4k")
    assert set(data["summary"]) == {f"slow/{m}/{c}s" for m in movie_names for c in (15, 30)}
    ladder = json.loads(movie.read_text())
    ladder["bitrates_kbps"] = [1000 * (i + 1) for i in range(6)]  # lowest 1 Mbit/s
    (movies / "sabre_bbb4k.json").write_text(json.dumps(ladder))
    assert main([*args, "--grid-s", "0.5", "--no-feasible", "--json", str(out)]) == 0
    summary = json.loads(out.read_text())["summary"]
    for cap in (15, 30):  # the 0.72 Mbit/s trace does not reach the lowest rung: no percentage
        refused = summary[f"slow/sabre_bbb4k/{cap}s"]
        assert refused["pct_of_bound"] is None and "lowest rung" in refused["pct_refused"]
        judged = summary[f"slow/pensieve_envivio/{cap}s"]
        assert judged["pct_eligible"] == (1 if judged["pct_of_bound"] is not None else 0)
    assert slow.exists() and "no % of bound" in capsys.readouterr().out


def test_cached_bounds_only_refuses_a_median_over_part_of_a_cell(tmp_path: Path) -> None:
    traces, movie = write_inputs(tmp_path)
    cache = tmp_path / "cache.json"
    args = ["bench", "--traces", str(traces), "--movie", str(movie), "--grid-s", "0.5"]
    assert main([*args, "--optimal-cache", str(cache), "--no-feasible"]) == 0
    stored = json.loads(cache.read_text())
    del stored[next(k for k in stored if k.startswith("fast_a"))]
    cache.write_text(json.dumps(stored))
    out = tmp_path / "c.json"
    only = ["--optimal-cache", str(cache), "--cached-bounds-only", "--json", str(out)]
    assert main([*args, *only]) == 0
    summary = json.loads(out.read_text())["summary"]
    assert summary["fast"]["pct_of_bound"] is None
    assert "missing for 1" in summary["fast"]["pct_refused"]
    assert json.loads(cache.read_text()) == stored  # nothing was computed or written
