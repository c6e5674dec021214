"""Key presses as a remote sends them: to whatever has the keyboard focus."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication


def focused() -> Any:
    """The focus widget; fails naming the active window when nothing has the focus (a key
    press would go nowhere: the sofa's remote would look dead)."""
    focus = QApplication.focusWidget()
    if focus is None:
        active = QApplication.activeWindow()
        raise AssertionError(f"focus was lost (active window: {active!r}, "
                             f"top-level widgets: {len(QApplication.topLevelWidgets())})")
    return focus


def press(qtbot: Any, key: Qt.Key, times: int = 1) -> None:
    for _ in range(times):
        qtbot.keyClick(focused(), key)
