"""The player's panels: the side panel (audio, subtitles, subtitle size and quality, picked by
name) and post-play (next up with a countdown, back to details, more like this)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from PySide6.QtCore import QModelIndex, Qt, QTimer, Signal
from PySide6.QtWidgets import QFrame, QLabel, QPushButton, QVBoxLayout, QWidget

from ui.artwork import ArtCache
from ui.delegates import PosterDelegate
from ui.models import Role, TitleRowModel
from ui.nav import Action
from ui.pages.home_widgets import Section
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
    """At the end of a title: "Up next" with a countdown, Play now, Back to details, and below
    them More like this (the finished title's similar titles, never the title itself nor the
    one up next, which the card offers already; no row when there are none, or no room for
    one). ↓ reaches the row, ←/→ move in it, ↑ goes back to the buttons; any key stops the
    countdown (the viewer is here and choosing).

    Signals:
        play_next(dict): the countdown ran out or Play now was pressed.
        back(): Back to details.
        similar(dict): a More like this tile was chosen (its details should open).
    """

    play_next = Signal(dict)
    back = Signal()
    similar = Signal(dict)
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
        self.card = QWidget()
        """The text and the buttons, narrower than the row under them (:meth:`place`)."""
        self.card.setObjectName("postcard")
        card = QVBoxLayout(self.card)
        card.setContentsMargins(0, 0, 0, 0)
        for w in (self.finished, self.heading, self.synopsis, self.countdown):
            card.addWidget(w)
        card.addSpacing(12)
        card.addWidget(self.buttons)
        self.box = QVBoxLayout(self)
        self.box.setSpacing(24)  # between the card and the row: none when the row is hidden
        self.box.addWidget(self.card)
        self.more: Section | None = None
        """More like this (:meth:`set_art` makes it: its tiles need the art cache)."""
        self._place = (0, 0)
        self._similar: tuple[list[dict[str, Any]], str] = ([], "")
        """The finished title's ``more_like_this`` and its id (:meth:`set_similar`)."""
        self._button: QWidget | None = None
        """The button ↓ left for the row: ↑ comes back to it."""
        self._tick = QTimer(self, interval=tick_ms)
        self._tick.timeout.connect(self._count)
        self.play_now.clicked.connect(self._go)
        self.details.clicked.connect(self._back)
        self.hide()

    def set_art(self, art: ArtCache, theme: Theme) -> None:
        """Make More like this: the details page's row (a :class:`Section` of poster tiles)."""
        self.more = Section(TitleRowModel("post-play-more", "More like this"),
                            PosterDelegate(art, theme))
        self.more.hide()
        self.more.view.chosen.connect(self._similar_chosen)
        art.loaded.connect(self.more.model.art_loaded)
        self.box.addWidget(self.more)

    def apply_theme(self, theme: Theme) -> None:
        if self.more is not None:
            self.more.resize_for(theme)

    def set_similar(self, titles: Sequence[Any], finished_id: str) -> None:
        """The finished title's More like this (``more_like_this``), without the title itself."""
        self._similar = ([t for t in titles if isinstance(t, dict)], finished_id)
        self._fill()
        self._layout()

    def _fill(self) -> None:
        if self.more is not None:
            titles, finished_id = self._similar
            skip = {finished_id, str(self.next_title.get("id", "") or "")}
            self.more.model.set_titles([t for t in titles if str(t.get("id", "")) not in skip])

    def similar_ids(self) -> list[str]:
        """The ids in the row as it is shown ([] when it is not)."""
        if self.more is None or self.more.isHidden():
            return []
        return [str(t.get("id", "")) for t in self.more.model.titles()]

    def place(self, margin_px: int, card_w: int) -> None:
        """At the foot of the parent inside ``margin_px`` (TV: the overscan margin): the card
        ``card_w`` wide, More like this across the width below it."""
        self._place = (margin_px, card_w)
        self._layout()

    def _layout(self) -> None:
        parent = self.parentWidget()
        if parent is None:
            return
        m, card_w = self._place
        w, h = parent.width(), parent.height()
        self.setFixedWidth(max(1, w - 2 * m))
        self.card.setFixedWidth(max(1, min(card_w, w - 2 * m)))
        more = self.more
        if more is not None:
            more.setVisible(more.model.rowCount() > 0)
            self.adjustSize()
            if more.isVisibleTo(self) and self.height() > h - 2 * m:  # no room: the card stays
                had_focus = more.view.hasFocus()
                more.hide()
                if had_focus:
                    self.buttons.focus_first()
        self.adjustSize()
        self.move(m, h - self.height() - m)

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
        self._fill()  # the row starts again at its first tile
        self._layout()
        self.show()
        self.raise_()
        self.buttons.focus_first()

    def stop(self) -> None:
        self._tick.stop()
        self.hide()

    def hold(self) -> None:
        """Stop the countdown (any key: the viewer is here); Play now still plays."""
        self._tick.stop()
        self._show_count()

    def counting(self) -> bool:
        return self._tick.isActive()

    def set_on_art(self, on_art: bool) -> None:
        """Over a backdrop (whose fade keeps the text readable) the card has no box of its own,
        and its text and row line up with the page's margin (as on the details page: the row
        holds as many whole tiles)."""
        self.setProperty("onart", on_art)
        pad = self.box.contentsMargins()
        side = 0 if on_art else pad.top()
        self.box.setContentsMargins(side, pad.top(), side, pad.bottom())
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

    def _similar_chosen(self, index: QModelIndex) -> None:
        title = index.data(Role.TITLE)
        if isinstance(title, dict):
            self.stop()
            self.similar.emit(title)

    def _in_row(self) -> bool:
        return self.more is not None and self.more.isVisible() and self.more.view.hasFocus()

    def contains_focus(self) -> bool:
        return self.isVisible() and (self.buttons.contains_focus() or self._in_row())

    def row_below(self) -> bool:
        """↓ from the focus reaches More like this (not a message under it)."""
        return (self.isVisible() and self.buttons.contains_focus() and self.more is not None
                and self.more.isVisible())

    def on_action(self, action: Action) -> bool:
        if action == Action.BACK:
            self._back()
            return True
        self.hold()
        more = self.more
        if more is not None and self._in_row():
            if action == Action.UP:
                button = self._button
                if button is not None and button.isVisible():
                    button.setFocus(Qt.FocusReason.OtherFocusReason)
                else:
                    self.buttons.focus_first()
                return True
            more.view.on_action(action)
            return True
        if not self.buttons.contains_focus():
            self.buttons.focus_first()
            return True
        if action == Action.DOWN and self.row_below() and more is not None:
            self._button = self.focusWidget()
            more.view.ensure_current()
            more.view.setFocus(Qt.FocusReason.OtherFocusReason)
            return True
        self.buttons.on_action(action)
        return True


def panel_style(theme: Theme) -> str:
    pad = max(6, theme.font_px // 2)
    return (f"QFrame#sidepanel, QFrame#postplay {{ background: rgba(16,17,22,235); "
            f"border-radius: {pad * 2}px; }}"
            f"QFrame#postplay[onart=\"true\"], QWidget#postcard {{ background: transparent; }}"
            f"QFrame#sidepanel QLabel, QFrame#postplay QLabel {{ background: transparent; }}"
            f"QPushButton#option {{ background: transparent; text-align: left; "
            f"border: {max(3, theme.focus_px // 2)}px solid transparent; "
            f"padding: {pad // 3}px {pad}px; }}"
            f"QPushButton#option:focus {{ border-color: white; background: #343846; }}")
