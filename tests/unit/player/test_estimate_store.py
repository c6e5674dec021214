"""The saved throughput estimate: used when fresh and sane, ignored (a blind start) otherwise."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest

from player.estimate_store import CEILING_BPS, FLOOR_BPS, MAX_AGE_S, EstimateStore


class Clock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture()
def clock() -> Clock:
    return Clock()


def test_a_saved_estimate_comes_back_after_a_restart(tmp_path: Path, clock: Clock) -> None:
    EstimateStore(tmp_path / "d" / "t.json", clock=clock).save(24_000_000.0)
    clock.now += 60
    assert EstimateStore(tmp_path / "d" / "t.json", clock=clock).load() == 24_000_000.0
    assert stat.S_IMODE((tmp_path / "d" / "t.json").stat().st_mode) == 0o600
    assert stat.S_IMODE((tmp_path / "d").stat().st_mode) == 0o700


def test_an_old_estimate_or_one_from_the_future_is_not_used(tmp_path: Path,
                                                            clock: Clock) -> None:
    store = EstimateStore(tmp_path / "t.json", clock=clock)
    store.save(24_000_000.0)
    clock.now += MAX_AGE_S + 1
    assert store.load() is None  # another network, maybe
    clock.now -= MAX_AGE_S + 3600
    assert store.load() is None  # the clock went back: the age is unknown


@pytest.mark.parametrize("body", [
    "", "{", "[]", "null", '{"estimate_bps": "fast", "measured_at": 1}',
    '{"estimate_bps": NaN, "measured_at": 1800000000}',
    '{"estimate_bps": -5, "measured_at": 1800000000}',
    '{"measured_at": 1800000000}', "x" * 100_000,
])
def test_a_damaged_file_is_a_blind_start_not_an_error(tmp_path: Path, clock: Clock,
                                                      body: str) -> None:
    (tmp_path / "t.json").write_text(body)
    assert EstimateStore(tmp_path / "t.json", clock=clock).load() is None


def test_absurd_values_are_clamped(tmp_path: Path, clock: Clock) -> None:
    path = tmp_path / "t.json"
    for bps, expected in ((1.0, FLOOR_BPS), (1e15, CEILING_BPS)):
        path.write_text(json.dumps({"estimate_bps": bps, "measured_at": clock.now}))
        assert EstimateStore(path, clock=clock).load() == expected


def test_nothing_is_saved_without_an_estimate_and_a_folder_that_cannot_be_written_is_no_error(
        tmp_path: Path, clock: Clock) -> None:
    store = EstimateStore(tmp_path / "t.json", clock=clock)
    for value in (None, 0.0, float("nan"), float("inf")):
        store.save(value)
    assert not (tmp_path / "t.json").exists()
    blocked = tmp_path / "file"
    blocked.write_text("not a folder")
    EstimateStore(blocked / "t.json", clock=clock).save(1e6)  # logged, not raised
    assert EstimateStore(blocked / "t.json", clock=clock).load() is None
