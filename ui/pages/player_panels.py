"""The player's panels: the side panel (audio, subtitles, subtitle size and quality, picked by
name) and post-play (next up with a countdown, back to details)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import QFrame, QLabel, QPushButton, QVBoxLayout, QWidget

from ui.nav import Action
from ui.theme import Theme
from ui.widgets import ButtonBar

Option = tuple[str, Any, bool]
"""(label, value, selected)"""
QUALITY_LABELS = ["240p", "360p", "480p", "720p", "1080p"]
SUBTITLE_SIZES = (("Small", 40), ("Medium", 55), ("Large", 75))


def player_groups(ctl: Any, subtitle_px: int) -> list[tuple[str, list[Option]]]:
    """Audio, Subtitles, Subtitle size and Quality of the controller's title, by name, the
    current one selected."""
    title = ctl.title
    audio = [(str(a.get("name") or a.get("language")), str(a.get("language")),
              str(a.get("language")) == ctl.audio) for a in title.get("audio") or []]
    subs: list[Option] = [("Off", None, ctl.subtitles is None)]
    subs += [(str(x.get("name") or x.get("language")), str(x.get("language")),
              str(x.get("language")) == ctl.subtitles) for x in title.get("subtitles") or []]
    size = [(name, px, px == subtitle_px) for name, px in SUBTITLE_SIZES]
    names = ctl.renditions or QUALITY_LABELS
    quality: list[Option] = [("Auto", None, ctl.max_rung is None)]
    quality += [(str(n), i, ctl.max_rung == i) for i, n in enumerate(names)]
    return [("Audio", audio), ("Subtitles", subs), ("Subtitle size", size),
            ("Quality", quality)]


class SidePanel(QFrame):
    """The player's side panel: groups of options picked by name (Audio: English / Spanish,
    Subtitles: Off / English, Subtitle size, Quality: Auto / 240p … 1080p). ↑/↓ move, Enter/OK
    picks, Back or ← closes.

    Signals:
        picked(str, object): the group's name and the option's value.
        closed(): the panel closed itself (Back or ←).
    """

    picked = Signal(str, object)
    closed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("sidepanel")
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, True)
        self.box = QVBoxLayout(self)
        self.box.setSpacing(2)
        self.options: list[tuple[QPushButton, str, Any]] = []
        self.hide()

    def set_groups(self, groups: Sequence[tuple[str, Sequence[Option]]]) -> None:
        focused = self.focused()
        while self.box.count():
            item = self.box.takeAt(0)
            w = item.widget() if item is not None else None
            if w is not None:
                w.setParent(None)
                w.deleteLater()
        self.options = []
        for name, options in groups:
            if not options:
                continue
            header = QLabel(name)
            header.setObjectName("h2")
            if self.options:
                self.box.addSpacing(8)
            self.box.addWidget(header)
            for label, value, selected in options:
                button = QPushButton(("✓  " if selected else "     ") + label)
                button.setObjectName("option")
                button.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
                button.setAutoDefault(False)
                button.clicked.connect(lambda _=False, n=name, v=value: self.picked.emit(n, v))
                self.box.addWidget(button)
                button.setVisible(True)  # at once: the focus may go to it now
                self.options.append((button, name, value))
        self.box.addStretch(1)
        if focused is not None:
            self.focus_option(*focused)

    def focused(self) -> tuple[str, Any] | None:
        return next(((n, v) for b, n, v in self.options if b.hasFocus()), None)

    def focus_option(self, group: str, value: Any) -> None:
        for b, n, v in self.options:
            if n == group and v == value:
                b.setFocus(Qt.FocusReason.OtherFocusReason)
                return

    def labels(self, group: str) -> list[str]:
        return [b.text().strip() for b, n, _ in self.options if n == group]

    def selected(self, group: str) -> str | None:
        return next((b.text()[1:].strip() for b, n, _ in self.options
                     if n == group and b.text().startswith("✓")), None)

    def open(self) -> None:
        self.show()
        self.raise_()
        selected = next((b for b, _, _ in self.options if b.text().startswith("✓")), None)
        target = selected or (self.options[0][0] if self.options else None)
        if target is not None:
            target.setFocus(Qt.FocusReason.OtherFocusReason)

    def contains_focus(self) -> bool:
        return self.isVisible() and any(b.hasFocus() for b, _, _ in self.options)

    def on_action(self, action: Action) -> bool:
        buttons = [b for b, _, _ in self.options]
        i = next((n for n, b in enumerate(buttons) if b.hasFocus()), 0)
        if action in (Action.UP, Action.DOWN) and buttons:
            j = max(0, min(len(buttons) - 1, i + (1 if action == Action.DOWN else -1)))
            buttons[j].setFocus(Qt.FocusReason.OtherFocusReason)
            return True
        if action == Action.SELECT and buttons:
            buttons[i].click()
            return True
        if action in (Action.BACK, Action.LEFT):
            self.hide()
            self.closed.emit()
            return True
        return action == Action.RIGHT


class PostPlay(QFrame):
    """At the end of a title: "Up next" with a countdown, Play now, Back to details.

    Signals:
        play_next(dict): the countdown ran out or Play now was pressed.
        back(): Back to details.
    """

    play_next = Signal(dict)
    back = Signal()
    COUNTDOWN_S = 10

    def __init__(self, parent: QWidget | None = None, tick_ms: int = 1000) -> None:
        super().__init__(parent)
        self.setObjectName("postplay")
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, True)
        self.next_title: dict[str, Any] = {}
        self.left_s = 0
        self.finished = QLabel("You finished")
        self.finished.setObjectName("muted")
        self.heading = QLabel()
        self.heading.setObjectName("h1")
        self.heading.setWordWrap(True)
        self.synopsis = QLabel()
        self.synopsis.setWordWrap(True)
        self.countdown = QLabel()
        self.countdown.setObjectName("muted")
        self.play_now = QPushButton("▶  Play now")
        self.play_now.setObjectName("primary")
        self.details = QPushButton("Back to details")
        for b in (self.play_now, self.details):
            b.setAutoDefault(False)
            b.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.buttons = ButtonBar([self.play_now, self.details])
        self.buttons.row.addStretch(1)
        box = QVBoxLayout(self)
        for w in (self.finished, self.heading, self.synopsis, self.countdown):
            box.addWidget(w)
        box.addSpacing(12)
        box.addWidget(self.buttons)
        self._tick = QTimer(self, interval=tick_ms)
        self._tick.timeout.connect(self._count)
        self.play_now.clicked.connect(self._go)
        self.details.clicked.connect(self._back)
        self.hide()

    def start(self, finished: str, next_title: dict[str, Any] | None) -> None:
        self.next_title = dict(next_title or {})
        self.finished.setText(f"You finished {finished}" if finished else "Finished")
        has_next = bool(self.next_title)
        self.play_now.setVisible(has_next)
        self.synopsis.setVisible(has_next)
        if has_next:
            self.heading.setText(f"Up next: {self.next_title.get('name', '')}")
            self.synopsis.setText(str(self.next_title.get("synopsis") or ""))
            self.left_s = self.COUNTDOWN_S
            self._tick.start()
        else:
            self.heading.setText("That was the last one here")
            self._tick.stop()
        self._show_count()
        self.show()
        self.raise_()
        self.buttons.focus_first()

    def stop(self) -> None:
        self._tick.stop()
        self.hide()

    def set_on_art(self, on_art: bool) -> None:
        """Over a backdrop (whose fade keeps the text readable) the card has no box of its own."""
        self.setProperty("onart", on_art)
        self.style().unpolish(self)
        self.style().polish(self)

    def _show_count(self) -> None:
        self.countdown.setText(f"Starts in {self.left_s} s" if self._tick.isActive() else "")
        self.countdown.setVisible(self._tick.isActive())

    def _count(self) -> None:
        self.left_s -= 1
        if self.left_s <= 0:
            self._go()
            return
        self._show_count()

    def _go(self) -> None:
        title = self.next_title
        self.stop()
        if title:
            self.play_next.emit(title)

    def _back(self) -> None:
        self.stop()
        self.back.emit()

    def contains_focus(self) -> bool:
        return self.isVisible() and self.buttons.contains_focus()

    def on_action(self, action: Action) -> bool:
        if action == Action.BACK:
            self._back()
            return True
        if not self.buttons.contains_focus():
            self.buttons.focus_first()
            return True
        if action in (Action.LEFT, Action.RIGHT):
            self._tick.stop()  # the viewer is choosing: no surprise start
            self._show_count()
        self.buttons.on_action(action)
        return True


def panel_style(theme: Theme) -> str:
    pad = max(6, theme.font_px // 2)
    return (f"QFrame#sidepanel, QFrame#postplay {{ background: rgba(16,17,22,235); "
            f"border-radius: {pad * 2}px; }}"
            f"QFrame#postplay[onart=\"true\"] {{ background: transparent; }}"
            f"QFrame#sidepanel QLabel, QFrame#postplay QLabel {{ background: transparent; }}"
            f"QPushButton#option {{ background: transparent; text-align: left; "
            f"border: {max(3, theme.focus_px // 2)}px solid transparent; "
            f"padding: {pad // 3}px {pad}px; }}"
            f"QPushButton#option:focus {{ border-color: white; background: #343846; }}")
