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
    assert 0 < fast["policies"]["hysteresis"]["pct_of_optimal"] <= 100.0 + 1e-9
    assert len(data["runs"]) == 3 and set(data["targets"]) == {"fast", "slow"}


def test_optimal_cache_is_written_then_reused(tmp_path: Path) -> None:
    traces, movie = write_inputs(tmp_path)
    cache = tmp_path / "cache.json"
    args = ["bench", "--traces", str(traces), "--movie", str(movie), "--grid-s", "0.5"]
    assert main([*args, "--optimal-cache", str(cache), "--json", str(tmp_path / "a.json")]) == 0
    stored = json.loads(cache.read_text())
    assert len(stored) == 3
    for key in stored:  # poison the cache: a reused value must show up in the next run
        stored[key]["optimal"] = 99.0
    cache.write_text(json.dumps(stored))
    assert main([*args, "--optimal-cache", str(cache), "--json", str(tmp_path / "b.json")]) == 0
    data = json.loads((tmp_path / "b.json").read_text())
    assert all(run["sessions"]["optimal"]["qoe_lin"] == 99.0 for run in data["runs"])
