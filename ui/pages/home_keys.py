"""Home's D-pad (:class:`HomeKeys`, for :class:`ui.pages.home.HomePage`): up/down move between
rows keeping the column, left/right move along a row; from the first row up goes to the billboard
(when it shows), then the top bar; Back goes to the first row, then clears a search. The focus
returns to the tile last opened (:meth:`HomeKeys.focus_last`)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

from PySide6.QtCore import QModelIndex, Qt
from PySide6.QtWidgets import QScrollArea

from ui.nav import Action
from ui.pages.hero import Hero
from ui.pages.home_widgets import Section, TopBar
from ui.theme import Theme


class HomeKeys:
    """Mixed into the home page (which has these)."""

    top: TopBar
    hero: Hero
    scroller: QScrollArea
    results: Section
    sections: list[Section]
    theme: Theme
    foot_bleed: int
    last: tuple[str, str]

    if TYPE_CHECKING:  # the page's methods, for the type checker
        def _follow(self, index: QModelIndex) -> None: ...
        def _locate(self, row_id: str, title_id: str) -> tuple[int, int] | None: ...

    def visible_sections(self) -> list[Section]:
        return [s for s in [self.results, *self.sections] if not s.isHidden()]

    def focused_section_index(self) -> int | None:
        for i, s in enumerate(self.visible_sections()):
            if s.view.hasFocus():
                return i
        return None

    def focus_row(self, i: int, x: int | None = None) -> bool:
        sections = self.visible_sections()
        if not sections or i < 0:
            return False
        section = sections[min(i, len(sections) - 1)]
        if x is None:
            section.view.ensure_current()
            section.view.setFocus(Qt.FocusReason.OtherFocusReason)
        else:
            section.view.focus_near_x(x)
        self._follow(section.view.currentIndex())
        self.scroll_to(section)
        return True

    def scroll_to(self, section: Section) -> None:
        """The focused row at the top of the rows, right under the billboard: the next row peeks
        in below it as under the first, and no part of the row above is left showing. The
        rows end with ``foot_bleed`` of room, so the last one also clears the overscan margin."""
        self.scroller.verticalScrollBar().setValue(section.y())

    def focus_last(self) -> bool:
        """Focus the remembered tile (see :meth:`remember_title`); False if it is gone."""
        at = self._locate(*self.last) if self.last[1] else None
        if at is None:
            return False
        section = self.visible_sections()[at[0]]
        section.view.setCurrentIndex(section.model.index(at[1], 0))
        section.view.setFocus(Qt.FocusReason.OtherFocusReason)
        section.view.scrollTo(section.view.currentIndex())
        self._follow(section.view.currentIndex())
        self.scroll_to(section)
        return True

    def focus_default(self) -> None:
        if self.focus_last():
            return
        if not self.focus_row(0):
            self.top.home.setFocus()

    def hero_up(self) -> bool:
        return self.hero.isVisible() and not self.results.isVisible()

    def on_action(self, action: Action) -> bool:
        current = self.focused_section_index()
        if current is None and self.hero.buttons.contains_focus():  # the billboard
            if action == Action.DOWN:
                self.focus_row(0)
                return True
            if action == Action.UP:
                self.top.home.setFocus()
                return True
            if action == Action.BACK:
                self.focus_row(0)
                return True
            return self.hero.buttons.on_action(action)
        if current is None:  # the top bar
            if action == Action.DOWN:
                if self.hero_up():
                    self.hero.buttons.focus_first()
                elif not self.focus_row(0):
                    self.top.home.setFocus()
                return True
            if action == Action.UP:
                return True
            if action == Action.SELECT and self.theme.tv and self.top.search.hasFocus():
                cast(Any, self).navigate.emit("search")  # the on-screen keyboard (pages/search.py)
                return True
            if action in (Action.LEFT, Action.RIGHT) and self.top.search.hasFocus():
                edit = self.top.search
                at_edge = (edit.cursorPosition() == 0 if action == Action.LEFT
                           else edit.cursorPosition() == len(edit.text()))
                if not at_edge:
                    return False  # let the line edit move its cursor
            if self.top.bar.on_action(action):
                return True
            if action == Action.BACK and self.top.search.text():
                self.top.search.clear()
                return True
            return False
        view = self.visible_sections()[current].view
        if action == Action.UP:
            if current == 0 and self.hero_up():
                self.hero.buttons.focus_first()
                self.scroller.verticalScrollBar().setValue(0)
            elif current == 0:
                (self.top.search if self.results.isVisible() else self.top.home).setFocus()
                self.scroller.verticalScrollBar().setValue(0)
            else:
                self.focus_row(current - 1, view.current_x())
            return True
        if action == Action.DOWN:
            if current + 1 < len(self.visible_sections()):
                self.focus_row(current + 1, view.current_x())
            return True
        if action == Action.BACK and current > 0:
            self.focus_row(0)
            self.scroller.verticalScrollBar().setValue(0)
            return True
        if action == Action.BACK and self.results.isVisible():
            self.top.search.clear()
            self.top.search.setFocus()
            return True
        used = view.on_action(action)
        self._follow(view.currentIndex())
        return used
