"""Every model passes qtmodeltester."""

from __future__ import annotations

from typing import Any

from ui.models import ProfileModel, Role, TitleRowModel, fmt_clock, progress_fraction

from .conftest import make_title


def test_title_row_model(qtmodeltester: Any) -> None:
    model = TitleRowModel("g", "Genre", [make_title(i) for i in range(5)])
    qtmodeltester.check(model)
    model.set_titles([make_title(i, progress=60.0) for i in range(3)])
    qtmodeltester.check(model)
    assert model.index(0, 0).data(Role.PROGRESS) == 0.1
    assert model.index(0, 0).data(Role.SUBTITLE) == "9 min left"


def test_title_row_model_empty_and_large(qtmodeltester: Any) -> None:
    qtmodeltester.check(TitleRowModel())
    big = TitleRowModel("all", "All", [make_title(i) for i in range(10_000)])
    assert big.rowCount() == 10_000
    qtmodeltester.check(big)


def test_profile_model(qtmodeltester: Any) -> None:
    model = ProfileModel()
    qtmodeltester.check(model)
    model.set_profiles([{"id": "p1", "name": "Dana", "avatar_color": "#2e86de"}])
    qtmodeltester.check(model)
    assert model.rowCount() == 2
    assert model.index(1, 0).data(Role.ID) == ProfileModel.ADD


def test_formatting() -> None:
    assert fmt_clock(75) == "1:15"
    assert fmt_clock(3725) == "1:02:05"
    assert progress_fraction({"duration_s": 100, "progress": {"position_s": 25}}) == 0.25
    assert progress_fraction({"duration_s": 100}) is None
