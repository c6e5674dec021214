"""Small widgets the pages share: ``RowView`` (a horizontal row of tiles), ``Page`` (a screen
that takes actions), ``ButtonBar`` (left/right between buttons), ``Toast`` (messages)."""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import QModelIndex, QPoint, Qt, QTimer, QVariantAnimation, Signal
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QAbstractSpinBox,
    QApplication,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListView,
    QPushButton,
    QWidget,
)
from shiboken6 import isValid

from ui.message import Message
from ui.nav import Action, action_for
from ui.theme import GROW_MS, Theme

GROW_SPILL = 8
"""How far past its tile the focused poster's ring may reach (px): the enlarge animation
repaints the tile's rect grown by this, not the whole row."""


class Page(QWidget):
    """A screen. ``on_action`` returns True when it used the action; ``focus_default`` puts the
    focus where a person would expect it when the page appears."""

    title = ""

    def on_action(self, action: Action) -> bool:
        return False

    def focus_default(self) -> None:
        self.setFocus()

    def apply_theme(self, theme: Theme) -> None:
        m = theme.margin_px
        v = round(m * 9 / 16) if theme.tv else m // 2  # TV: 5 % of the height too
        layout = self.layout()
        if layout is not None:
            layout.setContentsMargins(m, v, m, v)


class RowView(QListView):
    """One row of tiles. Left/right move along it and stop at its ends (the focus stays).

    Signals:
        chosen(QModelIndex): a tile was activated (Enter/OK or a click).
    """

    chosen = Signal(QModelIndex)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setFlow(QListView.Flow.LeftToRight)
        self.setWrapping(False)
        self.setUniformItemSizes(True)
        self.setHorizontalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setMouseTracking(True)
        self.clicked.connect(self.chosen)
        self.grow = 0.0
        """0 → 1: how far the focused tile has grown (the delegate scales its poster)."""
        self._grow = QVariantAnimation(self)
        self._grow.setDuration(GROW_MS)
        self._grow.setStartValue(0.0)
        self._grow.setEndValue(1.0)
        self._grow.valueChanged.connect(self._set_grow)

    def _set_grow(self, value: object) -> None:
        self.grow = float(value)  # type: ignore[arg-type]
        rect = self.visualRect(self.currentIndex())
        if rect.isValid():  # the focused tile only (its ring may reach a pixel past it)
            self.viewport().update(rect.adjusted(-GROW_SPILL, -GROW_SPILL, GROW_SPILL, GROW_SPILL))
        else:
            self.viewport().update()

    def currentChanged(self, current: QModelIndex, previous: QModelIndex) -> None:  # type: ignore[override]
        super().currentChanged(current, previous)
        if self.hasFocus():
            self._grow.stop()
            self._grow.start()

    def ensure_current(self) -> None:
        model = self.model()
        if model is not None and model.rowCount() and not self.currentIndex().isValid():
            self.setCurrentIndex(model.index(0, 0))

    def step(self, step: int) -> bool:
        model = self.model()
        if model is None or not model.rowCount():
            return False
        self.ensure_current()
        row = max(0, min(model.rowCount() - 1, self.currentIndex().row() + step))
        self.setCurrentIndex(model.index(row, 0))
        self.scrollTo(self.currentIndex(), QAbstractItemView.ScrollHint.EnsureVisible)
        return True

    def current_x(self) -> int:
        rect = self.visualRect(self.currentIndex())
        return rect.center().x() if rect.isValid() else 0

    def focus_near_x(self, x: int) -> None:
        """Take the focus on the tile nearest ``x`` (viewport coordinates of the row above or
        below): moving up and down keeps the column."""
        model = self.model()
        if model is not None and model.rowCount():
            index = self.indexAt(QPoint(max(1, x), 10))
            if not index.isValid():
                last = self.indexAt(self.viewport().rect().bottomLeft())
                index = last if last.isValid() else model.index(model.rowCount() - 1, 0)
                if x < self.viewport().width() // 2:
                    index = model.index(0, 0)
            self.setCurrentIndex(index)
        self.setFocus(Qt.FocusReason.OtherFocusReason)

    def on_action(self, action: Action) -> bool:
        if action == Action.LEFT:
            self.step(-1)
            return True
        if action == Action.RIGHT:
            self.step(1)
            return True
        if action == Action.SELECT and self.currentIndex().isValid():
            self.chosen.emit(self.currentIndex())
            return True
        return False

    def focusInEvent(self, event: object) -> None:
        self.ensure_current()
        super().focusInEvent(event)  # type: ignore[arg-type]
        self._grow.stop()
        self._grow.start()

    def focusOutEvent(self, event: object) -> None:
        self._grow.stop()
        self.grow = 0.0
        super().focusOutEvent(event)  # type: ignore[arg-type]


class ButtonBar(QWidget):
    """Buttons in a row; left/right move the focus between them and stop at the ends."""

    def __init__(self, buttons: Sequence[QPushButton] = (), parent: QWidget | None = None,
                 spacing: int = 12) -> None:
        super().__init__(parent)
        self.row = QHBoxLayout(self)
        self.row.setContentsMargins(0, 0, 0, 0)
        self.row.setSpacing(spacing)
        self.buttons: list[QWidget] = []
        for b in buttons:
            self.add(b)

    def add(self, widget: QWidget, stretch: int = 0) -> None:
        self.row.addWidget(widget, stretch)
        if widget.focusPolicy() != Qt.FocusPolicy.NoFocus:
            self.buttons.append(widget)

    def visible_buttons(self) -> list[QWidget]:
        return [b for b in self.buttons if b.isVisibleTo(self) and b.isEnabled()]

    def focused_index(self) -> int:
        buttons = self.visible_buttons()
        for i, b in enumerate(buttons):
            if b.hasFocus():
                return i
        return -1

    def focus_first(self) -> None:
        buttons = self.visible_buttons()
        if buttons:
            buttons[0].setFocus(Qt.FocusReason.OtherFocusReason)

    def contains_focus(self) -> bool:
        return self.focused_index() >= 0

    def on_action(self, action: Action) -> bool:
        buttons = self.visible_buttons()
        i = self.focused_index()
        if i < 0:
            return False
        if action in (Action.LEFT, Action.RIGHT):
            j = max(0, min(len(buttons) - 1, i + (1 if action == Action.RIGHT else -1)))
            buttons[j].setFocus(Qt.FocusReason.OtherFocusReason)
            return True
        button = buttons[i]
        if action == Action.SELECT and isinstance(button, QPushButton):
            button.click()
            return True
        return False


class Toast(QWidget):
    """A non-blocking message at the foot of the window, with one action button and Dismiss.

    Reachable without a pointer: :meth:`focus_action` (the window calls it when an actionable
    message appears, or on Tab / ↓ past the page's end) remembers where the focus was and puts
    it on the action; then ←/→ move between the buttons, Enter/OK presses, Back dismisses, ↑
    leaves the message (it stays up). When the message goes, the focus goes back where it was.
    It does not time out while it has the focus.

    Signals:
        focus_left(): the focus left the message (given back, or the message went away).
    """

    focus_left = Signal()

    def __init__(self, parent: QWidget) -> None:
        super().__init__(parent)
        self.setObjectName("toast")
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, True)
        row = QHBoxLayout(self)
        row.setContentsMargins(18, 12, 12, 12)
        self.label = QLabel()
        self.label.setWordWrap(True)
        self.button = QPushButton()
        self.close_button = QPushButton("Dismiss")
        for b in (self.button, self.close_button):
            b.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
            b.setAutoDefault(False)
        row.addWidget(self.label, 1)
        row.addWidget(self.button)
        row.addWidget(self.close_button)
        self.close_button.clicked.connect(self.dismiss)
        self.button.clicked.connect(self._act)
        self._timer = QTimer(self, singleShot=True)
        self._timer.timeout.connect(self.dismiss)
        self.message: Message | None = None
        self.bottom_px = 40
        self._return_to: QWidget | None = None
        app = QApplication.instance()
        if isinstance(app, QApplication):
            app.focusChanged.connect(self._focus_changed)
        self.hide()

    def show_message(self, message: Message) -> None:
        had_focus = self.contains_focus()
        self.message = message
        self.label.setText(message.text)
        self.button.setVisible(message.action is not None)
        self.button.setText(message.action_label or "")
        if not had_focus:
            self._timer.start(int(message.timeout_s * 1000))
        self.place()
        self.show()
        self.raise_()
        if had_focus:  # a new message while the user is on the old one: stay on it
            (self.button if message.action is not None else self.close_button).setFocus(
                Qt.FocusReason.OtherFocusReason)

    def waiting(self) -> bool:
        """A message with an action is up and the focus is elsewhere."""
        return self.isVisible() and self.button.isVisibleTo(self) and not self.contains_focus()

    @staticmethod
    def typing() -> bool:
        """The user is typing: a message must not take the focus now."""
        return isinstance(QApplication.focusWidget(), QLineEdit | QAbstractSpinBox)

    def buttons(self) -> list[QPushButton]:
        return [b for b in (self.button, self.close_button) if b.isVisibleTo(self)]

    def contains_focus(self) -> bool:
        focus = QApplication.focusWidget()
        return focus is not None and self.isVisible() and self.isAncestorOf(focus)

    def focus_action(self) -> bool:
        """Put the focus on the action (Dismiss when there is none), remembering where it was.
        False when no message is up."""
        if not self.isVisible():
            return False
        if not self.contains_focus():
            self._return_to = QApplication.focusWidget()
        buttons = self.buttons()
        buttons[0].setFocus(Qt.FocusReason.OtherFocusReason)
        return True

    def leave(self) -> None:
        """Give the focus back to where it was before the message took it (if it still can)."""
        back, self._return_to = self._return_to, None
        if back is not None and isValid(back) and back.isVisible() and back.isEnabled() \
                and back.window() is self.window():
            back.setFocus(Qt.FocusReason.OtherFocusReason)
        self.focus_left.emit()

    def on_key(self, event: QKeyEvent) -> bool:
        """Keys while the focus is on the message: the actions, Space (press), Tab/Backtab
        (the other button, then back where the focus came from)."""
        key = event.key()
        if key in (Qt.Key.Key_Tab, Qt.Key.Key_Backtab):
            buttons = self.buttons()
            at = next((i for i, b in enumerate(buttons) if b.hasFocus()), 0)
            nxt = at + (1 if key == Qt.Key.Key_Tab else -1)
            if 0 <= nxt < len(buttons):
                buttons[nxt].setFocus(Qt.FocusReason.TabFocusReason)
            else:
                self.leave()
            return True
        action = Action.SELECT if key == Qt.Key.Key_Space else action_for(event)
        return action is not None and self.on_action(action)

    def on_action(self, action: Action) -> bool:
        """The actions while the focus is on the message."""
        buttons = self.buttons()
        focus = QApplication.focusWidget()
        i = next((n for n, b in enumerate(buttons) if b is focus), 0)
        if action in (Action.LEFT, Action.RIGHT):
            j = max(0, min(len(buttons) - 1, i + (1 if action == Action.RIGHT else -1)))
            buttons[j].setFocus(Qt.FocusReason.OtherFocusReason)
            return True
        if action == Action.SELECT:
            buttons[i].click()
            return True
        if action == Action.BACK:
            self.dismiss()
            return True
        if action == Action.UP:
            self.leave()
            return True
        return action == Action.DOWN  # the message is the foot of the window

    def act(self) -> bool:
        """Run the action (the window maps a key to it). True when there was one."""
        if self.isVisible() and self.message is not None and self.message.action is not None:
            self._act()
            return True
        return False

    def dismiss(self) -> None:
        """Close the message; the focus goes back where it was."""
        had_focus = self.contains_focus()
        self._timer.stop()
        self.hide()
        if had_focus:
            self.leave()
        else:
            self._return_to = None

    def _act(self) -> None:
        action = self.message.action if self.message else None
        self.dismiss()
        if action is not None:
            action()

    def _focus_changed(self, old: QWidget | None, new: QWidget | None) -> None:
        if not self.isVisible():
            return
        if new is not None and self.isAncestorOf(new):
            self._timer.stop()  # no timeout while the user is on it
        elif old is not None and self.isAncestorOf(old) and not self._timer.isActive():
            self._timer.start(int((self.message.timeout_s if self.message else 8.0) * 1000))

    def place(self) -> None:
        parent = self.parentWidget()
        if parent is None:
            return
        width = min(parent.width() - 80, 900)
        self.setFixedWidth(width)
        self.adjustSize()
        self.move((parent.width() - width) // 2, parent.height() - self.height() - self.bottom_px)


def focus_spot() -> tuple[QWidget | None, int]:
    """Where the focus is, down to the current tile of a row (did an action move it?)."""
    focus = QApplication.focusWidget()
    row = focus.currentIndex().row() if isinstance(focus, QAbstractItemView) else -1
    return focus, row
