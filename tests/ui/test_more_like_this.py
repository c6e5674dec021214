"""More like this on the details page: focusable tiles that open their details; Back returns to
the title before, on the tile opened, then home, on the tile opened there."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from tests.ui.keys import press
from ui.models import Role
from ui.widgets import RowView

from .conftest import FakeControlPlane, Harness, make_title

K = Qt.Key


class SimilarControlPlane(FakeControlPlane):
    async def title(self, title_id: str, profile_id: str) -> dict[str, Any]:
        title = await super().title(title_id, profile_id)
        n = int(title_id[1:])
        title["more_like_this"] = [make_title(n + 10), make_title(n + 20)]
        return title


def focused_id() -> str:
    view = QApplication.focusWidget()
    assert isinstance(view, RowView), view
    return str(view.currentIndex().data(Role.ID))


def test_more_like_this_opens_details_and_back_walks_the_way_back(qtbot: Any,
                                                                  harness: Harness) -> None:
    w = harness.window
    w.backend.client = SimilarControlPlane()  # type: ignore[assignment]
    press(qtbot, K.Key_Down)  # the first genre row
    press(qtbot, K.Key_Right)
    opened = focused_id()
    assert opened == "t1"
    press(qtbot, K.Key_Return)
    assert w.current_name() == "details"
    qtbot.waitUntil(lambda: w.details.more.isVisible(), timeout=3000)
    assert [t["id"] for t in w.details.more.model.titles()] == ["t11", "t21"]
    assert w.details.more.label.text() == "More like this"
    assert w.details.buttons.contains_focus()
    press(qtbot, K.Key_Down)
    assert QApplication.focusWidget() is w.details.more.view
    press(qtbot, K.Key_Right)
    assert focused_id() == "t21"
    press(qtbot, K.Key_Return)
    qtbot.waitUntil(lambda: w.details.title_json.get("id") == "t21"
                    and "more_like_this" in w.details.title_json, timeout=3000)
    assert w.details.name.text() == "Title 21"
    assert w.details.buttons.contains_focus()
    press(qtbot, K.Key_Escape)  # back to Title 1, on the tile opened
    qtbot.waitUntil(lambda: w.details.title_json.get("id") == "t1", timeout=3000)
    qtbot.wait(50)  # the details answer arrives and re-renders
    assert QApplication.focusWidget() is w.details.more.view and focused_id() == "t21"
    press(qtbot, K.Key_Up)
    assert w.details.buttons.contains_focus()
    press(qtbot, K.Key_Escape)
    assert w.current_name() == "home"
    assert focused_id() == opened
