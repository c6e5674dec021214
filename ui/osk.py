"""``OnScreenKeyboard``: text entry with a remote (arrows + OK) for the TV's search and the
sign-in form.

One painted widget (not a button per key): a grid of letters, digits, space, backspace and
clear (and, for forms, symbols and a shift key), with the focused key drawn inverted (white,
black label) so it reads from a sofa. Arrows move inside the grid and report when they would
leave it, so the page can move the focus on; OK types. A physical keyboard still types into it.

Signals:
    text_changed(str): the text after every key.
"""

from __future__ import annotations

from PySide6.QtCore import QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QKeyEvent, QPainter, QPaintEvent
from PySide6.QtWidgets import QSizePolicy, QWidget

from ui.nav import Action
from ui.theme import FOCUS, SURFACE_HI, TEXT, Theme

SPACE, BACKSPACE, CLEAR, SHIFT = "space", "⌫", "clear", "shift"
Rows = tuple[tuple[str, ...], ...]
ROWS: Rows = (
    tuple("ABCDEFGHIJKLM"),
    tuple("NOPQRSTUVWXYZ"),
    (*"1234567890", SPACE, BACKSPACE, CLEAR),
)
"""Search: three rows of thirteen, wide and low, so the results fit under it at 1080p."""
FORM_ROWS: Rows = (*ROWS, ("@", ".", "-", "_", "+", "!", "?", "#", "$", "%", "&", ".com", SHIFT))
"""Email and password: a row of symbols and a shift key (letters are lower case unless
shifted)."""
MAX_LENGTH = 60


class OnScreenKeyboard(QWidget):
    text_changed = Signal(str)

    def __init__(self, theme: Theme, parent: QWidget | None = None, *,
                 rows: Rows = ROWS) -> None:
        super().__init__(parent)
        self.theme = theme
        self.rows = rows
        self.cased = any(SHIFT in row for row in rows)
        """With a shift key, letters show (and type) lower case until shifted."""
        self.upper = False
        self.text = ""
        self.row = 0
        self.col = 0
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Fixed)
        self.apply_theme(theme)

    # --- geometry ------------------------------------------------------------------------------

    def key_size(self) -> int:
        return round(self.theme.font_px * 2.6)

    def gap(self) -> int:
        return max(4, self.theme.font_px // 4)

    def sizeHint(self) -> QSize:
        k, g = self.key_size(), self.gap()
        cols = max(len(r) for r in self.rows)
        return QSize(cols * k + (cols - 1) * g, len(self.rows) * k + (len(self.rows) - 1) * g)

    def apply_theme(self, theme: Theme) -> None:
        self.theme = theme
        self.setFixedSize(self.sizeHint())
        self.update()

    def key_rect(self, row: int, col: int) -> QRectF:
        k, g = self.key_size(), self.gap()
        return QRectF(col * (k + g), row * (k + g), k, k)

    @property
    def current_key(self) -> str:
        return self.rows[self.row][self.col]

    # --- typing --------------------------------------------------------------------------------

    def set_text(self, text: str) -> None:
        text = text[:MAX_LENGTH]
        if text != self.text:
            self.text = text
            self.text_changed.emit(text)

    def press(self, key: str) -> None:
        if key == BACKSPACE:
            self.set_text(self.text[:-1])
        elif key == CLEAR:
            self.set_text("")
        elif key == SHIFT:
            self.upper = not self.upper
            self.update()
        elif key == SPACE:
            if self.cased or (self.text and not self.text.endswith(" ")):
                self.set_text(self.text + " ")
        else:  # search types lower case; a form what the key shows
            self.set_text(self.text + (self.label(key) if self.cased else key.lower()))

    def label(self, key: str) -> str:
        """What a key shows (with a shift key, letters are lower case unless shifted)."""
        if len(key) == 1 and key.isalpha():
            return key.upper() if self.upper or not self.cased else key.lower()
        return key

    def on_action(self, action: Action) -> bool:
        """Move or type; False when the move would leave the grid (the page takes it)."""
        if action == Action.SELECT:
            self.press(self.current_key)
            return True
        if action in (Action.LEFT, Action.RIGHT):
            step = 1 if action == Action.RIGHT else -1
            col = self.col + step
            if not 0 <= col < len(self.rows[self.row]):
                return True  # the ends of a row hold the focus
            self.col = col
        elif action in (Action.UP, Action.DOWN):
            row = self.row + (1 if action == Action.DOWN else -1)
            if not 0 <= row < len(self.rows):
                return False
            self.row, self.col = row, min(self.col, len(self.rows[row]) - 1)
        else:
            return False
        self.update()
        return True

    def focus_key(self, key: str) -> None:
        for r, row in enumerate(self.rows):
            if key in row:
                self.row, self.col = r, row.index(key)
                self.update()
                return

    def keyPressEvent(self, event: QKeyEvent) -> None:
        """A physical keyboard types too (what the router did not take as an action)."""
        text = event.text()
        if text and text.isprintable() and (self.cased or text.isalnum() or text == " "):
            if text == " ":
                self.press(SPACE)
            else:
                self.set_text(self.text + (text if self.cased else text.lower()))
            return
        super().keyPressEvent(event)

    # --- painting ------------------------------------------------------------------------------

    def paintEvent(self, event: QPaintEvent) -> None:
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        focused = self.hasFocus()
        radius = self.theme.focus_px
        for r, row in enumerate(self.rows):
            for c, key in enumerate(row):
                rect = self.key_rect(r, c)
                on = focused and (r, c) == (self.row, self.col)
                p.setPen(Qt.PenStyle.NoPen)
                p.setBrush(QColor(FOCUS if on else SURFACE_HI))
                p.drawRoundedRect(rect, radius, radius)
                small = len(key) > 1
                p.setFont(self.theme.font(round(self.theme.font_px * (0.75 if small else 1.15)),
                                          bold=True))
                p.setPen(QColor("#000000" if on else TEXT))
                shown = self.label(key)
                if key == SHIFT and self.upper:
                    shown = "SHIFT"
                p.drawText(rect, Qt.AlignmentFlag.AlignCenter, shown)
        p.end()
