"""Keys-only navigation in TV mode: rows, pages, and focus that is never lost."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from tests.ui.keys import press
from ui.models import Role
from ui.widgets import RowView

from .conftest import Harness

K = Qt.Key


def focused_row(h: Harness) -> int | None:
    return h.window.home.focused_section_index()


def test_rows_left_right_stop_at_edges(qtbot: Any, harness: Harness) -> None:
    home = harness.window.home
    assert focused_row(harness) == 0
    press(qtbot, K.Key_Left, 3)
    view = QApplication.focusWidget()
    assert isinstance(view, RowView) and view.currentIndex().row() == 0
    press(qtbot, K.Key_Down)
    press(qtbot, K.Key_Right, 20)  # past the end of a 6-tile row
    view = QApplication.focusWidget()
    assert isinstance(view, RowView)
    assert view.currentIndex().row() == 5
    assert focused_row(harness) == 1
    press(qtbot, K.Key_Down, 10)  # past the last row
    assert focused_row(harness) == len(home.visible_sections()) - 1
    press(qtbot, K.Key_Up, 10)  # up past the first row: the top bar
    assert home.top.bar.contains_focus()
    press(qtbot, K.Key_Up, 3)
    assert home.top.bar.contains_focus()
    press(qtbot, K.Key_Down)  # the billboard, then the first row
    assert home.hero.play_button.hasFocus()
    press(qtbot, K.Key_Down)
    assert focused_row(harness) == 0


def test_up_down_keep_the_column(qtbot: Any, harness: Harness) -> None:
    press(qtbot, K.Key_Down)
    press(qtbot, K.Key_Right, 3)
    press(qtbot, K.Key_Down)
    view = QApplication.focusWidget()
    assert isinstance(view, RowView)
    assert view.currentIndex().row() == 3


def test_pages_by_keys(qtbot: Any, harness: Harness) -> None:
    w = harness.window
    press(qtbot, K.Key_Down)
    press(qtbot, K.Key_Return)
    assert w.current_name() == "details"
    assert w.details.buttons.contains_focus()
    assert w.details.title_json["id"] == "t0"
    press(qtbot, K.Key_Up, 2)
    press(qtbot, K.Key_Left, 3)
    assert w.details.buttons.contains_focus()
    press(qtbot, K.Key_Escape)
    assert w.current_name() == "home"
    assert isinstance(QApplication.focusWidget(), RowView)
    # The top bar reaches Settings and Downloads; Back returns home with a tile focused.
    press(qtbot, K.Key_Up, 3)  # the first row, the billboard, the top bar
    press(qtbot, K.Key_Right, 2)
    assert w.home.top.settings.hasFocus()
    press(qtbot, K.Key_Return)
    assert w.current_name() == "settings"
    press(qtbot, K.Key_Down, 20)
    assert w.settings_page.isAncestorOf(QApplication.focusWidget())
    press(qtbot, K.Key_Escape)
    assert w.current_name() == "home"
    assert w.home.isAncestorOf(QApplication.focusWidget())


def test_continue_watching_tile_opens_resume(qtbot: Any, harness: Harness) -> None:
    w = harness.window
    view = QApplication.focusWidget()
    assert isinstance(view, RowView)
    assert view.currentIndex().data(Role.PROGRESS) is not None
    press(qtbot, K.Key_Return)
    assert w.details.resume.text().endswith("2:00")
    assert w.details.start.isVisible()


def test_tv_toggle_keeps_focus(qtbot: Any, harness: Harness) -> None:
    w = harness.window
    w.set_tv(False)
    assert w.theme.name == "desktop"
    assert w.home.isAncestorOf(QApplication.focusWidget())
    w.set_tv(True)
    assert w.theme.name == "tv"
    assert w.home.isAncestorOf(QApplication.focusWidget())
