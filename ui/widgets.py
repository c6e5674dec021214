"""Small widgets the pages share: ``RowView`` (a horizontal row of tiles), ``Page`` (a screen
that takes actions), ``ButtonBar`` (left/right between buttons), ``Toast`` (messages)."""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import QModelIndex, QPoint, Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QLabel,
    QListView,
    QPushButton,
    QWidget,
)

from ui.message import Message
from ui.nav import Action
from ui.theme import Theme


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
        layout = self.layout()
        if layout is not None:
            layout.setContentsMargins(m, m // 2, m, m // 2)


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
    """A non-blocking message at the foot of the window, with one action button."""

    def __init__(self, parent: QWidget) -> None:
        super().__init__(parent)
        self.setObjectName("toast")
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, True)
        row = QHBoxLayout(self)
        row.setContentsMargins(18, 12, 12, 12)
        self.label = QLabel()
        self.label.setWordWrap(True)
        self.button = QPushButton()
        self.button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.close_button = QPushButton("Dismiss")
        self.close_button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        row.addWidget(self.label, 1)
        row.addWidget(self.button)
        row.addWidget(self.close_button)
        self.close_button.clicked.connect(self.hide)
        self.button.clicked.connect(self._act)
        self._timer = QTimer(self, singleShot=True)
        self._timer.timeout.connect(self.hide)
        self.message: Message | None = None
        self.hide()

    def show_message(self, message: Message) -> None:
        self.message = message
        self.label.setText(message.text)
        self.button.setVisible(message.action is not None)
        self.button.setText(message.action_label or "")
        self._timer.start(int(message.timeout_s * 1000))
        self.place()
        self.show()
        self.raise_()

    def act(self) -> bool:
        """Run the action (the window maps a key to it). True when there was one."""
        if self.isVisible() and self.message is not None and self.message.action is not None:
            self._act()
            return True
        return False

    def _act(self) -> None:
        action = self.message.action if self.message else None
        self.hide()
        if action is not None:
            action()

    def place(self) -> None:
        parent = self.parentWidget()
        if parent is None:
            return
        width = min(parent.width() - 80, 900)
        self.setFixedWidth(width)
        self.adjustSize()
        self.move((parent.width() - width) // 2, parent.height() - self.height() - 40)
