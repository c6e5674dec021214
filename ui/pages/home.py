"""Home: a top bar (Home, Search, Downloads, Settings, profile) over rows of tiles — Continue
Watching first, then one row per genre, then Downloads — each a :class:`RowView` on a
:class:`TitleRowModel`. Up/down move between rows keeping the column; left/right move along a
row (the D-pad is :class:`ui.pages.home_keys.HomeKeys`); search shows a results row instead of
the rows."""

from __future__ import annotations

import dataclasses
from typing import Any

from PySide6.QtCore import QModelIndex, Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QFrame,
    QLabel,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from ui.artwork import ArtCache
from ui.delegates import ContinueDelegate, PosterDelegate
from ui.models import Role, TitleRowModel
from ui.pages.hero import Hero
from ui.pages.home_keys import HomeKeys
from ui.pages.home_widgets import Section, TopBar
from ui.theme import Theme
from ui.widgets import Page

JSON = dict[str, Any]


class HomePage(HomeKeys, Page):
    """Signals:
        open_title(dict): a tile was chosen (or the billboard's More info).
        play_title(dict): the billboard's Play.
        navigate(str): "downloads", "settings" or "profiles".
        search(str): the user typed a query (debounced).
    """

    open_title = Signal(dict)
    play_title = Signal(dict)
    navigate = Signal(str)
    search = Signal(str)

    def __init__(self, art: ArtCache, theme: Theme, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.art = art
        self.theme = theme
        self.top = TopBar()
        self.scroller = QScrollArea()
        self.scroller.setWidgetResizable(True)
        self.scroller.setFrameShape(QFrame.Shape.NoFrame)
        self.scroller.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.scroller.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.scroller.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.body = QWidget()
        self.rows_box = QVBoxLayout(self.body)
        self.rows_box.setContentsMargins(0, 0, 0, 0)
        self.rows_box.setSpacing(18)
        self.rows_box.addStretch(1)
        self.scroller.setWidget(self.body)
        self.empty = QLabel("Loading your rows…")
        self.empty.setObjectName("muted")
        self.hero = Hero(art, theme, self)
        self.hero.play.connect(self.play_title)
        self.hero.more.connect(self._more_info)
        self.hero.hide()
        self.page_box = box = QVBoxLayout(self)
        box.addWidget(self.top)
        box.addSpacing(8)
        box.addWidget(self.hero)
        box.addWidget(self.empty)
        box.addWidget(self.scroller, 1)
        self.sections: list[Section] = []
        self.last: tuple[str, str] = ("", "")
        """(row id, title id) of the tile last opened: Back and reloads return the focus there."""
        self.results = Section(TitleRowModel("search", "Results"),
                               PosterDelegate(art, theme), self.body)
        self.results.hide()
        self.rows_box.insertWidget(0, self.results)
        self._wire(self.results)
        self._debounce = QTimer(self, singleShot=True, interval=250)
        self._debounce.timeout.connect(lambda: self.search.emit(self.top.search.text().strip()))
        self.top.search.textChanged.connect(self._query_changed)
        self.top.search.returnPressed.connect(self._search_enter)
        self.top.downloads.clicked.connect(lambda: self.navigate.emit("downloads"))
        self.top.settings.clicked.connect(lambda: self.navigate.emit("settings"))
        self.top.profile.clicked.connect(lambda: self.navigate.emit("profiles"))
        self.top.home.clicked.connect(lambda: self.top.home.setChecked(True))
        art.loaded.connect(self._art_loaded)
        self.apply_theme(theme)

    # --- content -------------------------------------------------------------------------------

    def _wire(self, section: Section) -> None:
        section.view.chosen.connect(self._chosen)
        section.view.selectionModel().currentChanged.connect(
            lambda current, _: self._follow(current) if section.view.hasFocus() else None)

    def _follow(self, index: QModelIndex) -> None:
        """The billboard follows the focused tile."""
        title = index.data(Role.TITLE)
        if isinstance(title, dict):
            self.hero.show_title(title)
            self.hero.show()

    def _more_info(self, title: JSON) -> None:
        self.remember_title(title, None)
        self.open_title.emit(title)

    def set_rows(self, rows: list[JSON]) -> None:
        focus_row = self.focused_section_index()
        if focus_row is not None:  # the same tile keeps the focus across a reload
            view = self.visible_sections()[focus_row].view
            title = view.currentIndex().data(Role.TITLE)
            if isinstance(title, dict):
                self.remember_title(title, self.visible_sections()[focus_row].model.row_id)
        for s in self.sections:
            s.setParent(None)
            s.deleteLater()
        self.sections = []
        for row in rows:
            items = [i for i in row.get("items") or [] if isinstance(i, dict)]
            if not items:
                continue
            model = TitleRowModel(str(row.get("id", "")), str(row.get("title", "")), items)
            kind = ContinueDelegate if model.row_id == "continue-watching" else PosterDelegate
            section = Section(model, kind(self.art, self.theme), self.body)
            self._wire(section)
            self.rows_box.insertWidget(self.rows_box.count() - 1, section)
            section.show()
            self.sections.append(section)
        self.empty.setVisible(not self.sections)
        self._fit_tiles()
        self.empty.setText("Nothing to watch here yet." if not rows else "")
        wants_focus = focus_row is not None or (self.isVisible() and not self.focusWidget())
        if wants_focus and not self.focus_last():
            self.focus_row(min(focus_row or 0, len(self.visible_sections()) - 1))

    def set_results(self, query: str, titles: list[JSON]) -> None:
        self.results.model.set_titles(titles)
        self.results.label.setText(f"Results for “{query}”" if titles
                                   else f"No titles match “{query}”")
        self.results.show()
        self.hero.hide()
        for s in self.sections:
            s.setVisible(False)

    def clear_search(self) -> None:
        self.results.hide()
        self.hero.setVisible(bool(self.hero.title_json))
        for s in self.sections:
            s.show()

    def _query_changed(self, text: str) -> None:
        if text.strip():
            self._debounce.start()
        else:
            self._debounce.stop()
            self.clear_search()

    def _search_enter(self) -> None:
        if self.results.isVisible() and self.results.model.rowCount():
            self.focus_row(0)

    def _chosen(self, index: QModelIndex) -> None:
        title = index.data(Role.TITLE)
        if isinstance(title, dict):
            model = index.model()
            row_id = model.row_id if isinstance(model, TitleRowModel) else ""
            self.remember_title(title, row_id)
            self.open_title.emit(title)

    def remember_title(self, title: JSON, row_id: str | None = None) -> None:
        """The tile Back returns to (the one opened, or what post-play went on to)."""
        self.last = (self.last[0] if row_id is None else row_id, str(title.get("id", "")))

    def _locate(self, row_id: str, title_id: str) -> tuple[int, int] | None:
        """(section, tile) of ``title_id``: in the row it was opened from, else anywhere."""
        sections = self.visible_sections()
        order = sorted(range(len(sections)), key=lambda i: sections[i].model.row_id != row_id)
        for i in order:
            for j, t in enumerate(sections[i].model.titles()):
                if str(t.get("id", "")) == title_id:
                    return i, j
        return None

    def next_after(self, title_id: str) -> JSON | None:
        """Post-play's next title: the one after ``title_id`` in the row it was opened from
        (else the row's first other title; else the same from the next row that has one; else
        the first title on home), None when home has no other."""
        row_id = self.last[0] if self.last[1] == title_id else ""
        sections = self.visible_sections()
        order = sorted(range(len(sections)), key=lambda i: sections[i].model.row_id != row_id)
        for i in order:  # a row that holds only this title (Continue Watching) offers none
            titles = sections[i].model.titles()
            at = next((j for j, t in enumerate(titles) if str(t.get("id", "")) == title_id), None)
            if at is None:
                continue
            rest = titles[at + 1:] + titles[:at]
            found = next((t for t in rest if str(t.get("id", "")) != title_id
                          and t.get("playable", True) is not False), None)
            if found is not None:
                return found
        return next((t for s in sections for t in s.model.titles()  # else anything to watch
                     if str(t.get("id", "")) != title_id and t.get("playable", True) is not False),
                    None)

    def _art_loaded(self, url: str) -> None:
        for s in [self.results, *self.sections]:
            if s.isVisible():
                s.model.art_loaded(url)

    def apply_theme(self, theme: Theme) -> None:
        super().apply_theme(theme)
        margins = self.page_box.contentsMargins()
        self.foot_bleed = margins.bottom()
        """px of the rows under the overscan margin at the foot: the next row peeks in there
        (the focused one is scrolled to the top of the rows, clear of it)."""
        margins.setBottom(0)
        self.page_box.setContentsMargins(margins)
        self.rows_box.setContentsMargins(0, 0, 0, self.foot_bleed)
        self.theme = theme
        self.hero.apply_theme(theme)
        self.rows_box.setSpacing(theme.font_px)
        self._fit_tiles()

    TILES_PER_ROW = 7
    """TV: this many tiles fill a row's width (the poster size follows the window)."""

    def _fit_tiles(self) -> None:
        theme = self.theme
        width = self.scroller.viewport().width() if self.isVisible() else 0
        if theme.tv and width > 0:
            poster_w = width // self.TILES_PER_ROW - theme.tile_gap
            theme = dataclasses.replace(theme, poster_w=max(120, poster_w))
        self.tile_theme = theme
        for s in [self.results, *self.sections]:
            s.resize_for(theme)

    def resizeEvent(self, event: Any) -> None:
        super().resizeEvent(event)
        self._fit_tiles()

    def showEvent(self, event: Any) -> None:
        super().showEvent(event)
        self._fit_tiles()
