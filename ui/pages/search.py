"""Search for the TV: an on-screen keyboard over a row of results, all with the remote.

The query shows large above the keyboard; results follow the typing (debounced 300 ms).
↓ from the keyboard's last row reaches the results, ↑ from the results goes back to the
keyboard; Enter on a result opens its details (Back returns to the same result); Back
leaves the page (the window's history).

Signals:
    search(str): the query changed (debounced; never empty).
    open_title(dict): a result was chosen.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QModelIndex, Qt, QTimer, Signal
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from ui.artwork import ArtCache
from ui.delegates import PosterDelegate
from ui.models import Role, TitleRowModel
from ui.nav import Action
from ui.osk import OnScreenKeyboard
from ui.pages.home_widgets import Section
from ui.theme import Theme
from ui.widgets import Page

JSON = dict[str, Any]
DEBOUNCE_MS = 300


class SearchPage(Page):
    search = Signal(str)
    open_title = Signal(dict)

    def __init__(self, art: ArtCache, theme: Theme, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.theme = theme
        title = QLabel("Search")
        title.setObjectName("h1")
        self.query = QLabel()
        self.query.setObjectName("query")
        self.keyboard = OnScreenKeyboard(theme)
        self.hint = QLabel()
        self.hint.setObjectName("muted")
        self.results = Section(TitleRowModel("search", "Results"), PosterDelegate(art, theme))
        self.results.hide()
        box = QVBoxLayout(self)
        box.addWidget(title)
        box.addSpacing(theme.font_px // 2)
        box.addWidget(self.query)
        box.addSpacing(theme.font_px // 2)
        box.addWidget(self.keyboard, 0, Qt.AlignmentFlag.AlignLeft)
        box.addSpacing(theme.font_px)
        box.addWidget(self.hint)
        box.addWidget(self.results)
        box.addStretch(1)
        self._debounce = QTimer(self, singleShot=True, interval=DEBOUNCE_MS)
        self._debounce.timeout.connect(self._emit_search)
        self.keyboard.text_changed.connect(self._typed)
        self.results.view.chosen.connect(self._chosen)
        self._results_had_focus = False
        art.loaded.connect(self.results.model.art_loaded)
        self._typed("")
        self.apply_theme(theme)

    def apply_theme(self, theme: Theme) -> None:
        super().apply_theme(theme)
        self.theme = theme
        self.keyboard.apply_theme(theme)
        self.results.resize_for(theme)
        self.query.setStyleSheet(f"font-size: {theme.title_px}px; font-weight: bold;")

    # --- typing and results --------------------------------------------------------------------

    @property
    def text(self) -> str:
        return self.keyboard.text

    def _typed(self, text: str) -> None:
        shown = text if text else "Type a title"
        self.query.setText(shown + ("▏" if text else ""))
        self.query.setProperty("empty", not text)
        if text.strip():
            self._debounce.start()
            self.hint.setText("Searching…")
        else:
            self._debounce.stop()
            self.results.hide()
            self.results.model.set_titles([])
            self.hint.setText("Pick letters with the arrows and OK; results appear as you type.")

    def _emit_search(self) -> None:
        query = self.text.strip()
        if query:
            self.search.emit(query)

    def set_results(self, query: str, titles: list[JSON]) -> None:
        if query != self.text.strip():
            return  # an answer for what was typed before
        self.results.model.set_titles(titles)
        self.results.label.setText(f"Results for “{query}”")
        self.results.setVisible(bool(titles))
        self.hint.setText("" if titles else f"No titles match “{query}”.")
        if titles:
            self.results.view.setCurrentIndex(self.results.model.index(0, 0))

    def _chosen(self, index: QModelIndex) -> None:
        title = index.data(Role.TITLE)
        if isinstance(title, dict):
            self._results_had_focus = True
            self.open_title.emit(title)

    # --- focus and keys ------------------------------------------------------------------------

    def focus_default(self) -> None:
        if self._results_had_focus and self.results.isVisible():
            self.results.view.ensure_current()
            self.results.view.setFocus(Qt.FocusReason.OtherFocusReason)
        else:
            self.keyboard.setFocus(Qt.FocusReason.OtherFocusReason)
        self._results_had_focus = False

    def on_action(self, action: Action) -> bool:
        if action == Action.BACK:
            return False  # the window goes back
        if self.results.view.hasFocus():
            if action == Action.UP:
                self.keyboard.setFocus(Qt.FocusReason.OtherFocusReason)
                return True
            if action == Action.DOWN:
                return True
            return self.results.view.on_action(action)
        if self.keyboard.on_action(action):
            return True
        if action == Action.DOWN and self.results.isVisible():
            self.results.view.ensure_current()
            self.results.view.setFocus(Qt.FocusReason.OtherFocusReason)
        return action in (Action.UP, Action.DOWN)
