"""The main window's frame (:class:`Router`, the base of :class:`ui.window.MainWindow`): the page
stack and its history, the router (keys → actions → the focused page; Back walks the history),
focus that is never lost, where messages show, and TV mode (theme, fullscreen).

The start-up, browsing and playback flows (``ui/window_start.py``, ``window_browse.py``,
``window_playback.py``) are built on it; :class:`ui.window.MainWindow` makes the objects and
wires them.

Signals:
    home_ready(): the home rows are on screen (screenshots, benchmarks, tests).
    page_changed(str): the page now shown.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QEvent, QObject, Qt, Signal
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QApplication, QLineEdit, QMainWindow, QStackedWidget

from ui.artwork import ArtCache
from ui.backend import Backend
from ui.config import AppPaths, Settings
from ui.downloads import DownloadsController
from ui.message import Message, MessageBus
from ui.nav import Action, action_for
from ui.pages.details import DetailsPage
from ui.pages.downloads import DownloadsPage
from ui.pages.home import HomePage
from ui.pages.other import SettingsPage
from ui.pages.pair import PairPage
from ui.pages.player import PlayerPage
from ui.pages.search import SearchPage
from ui.pages.start import ProfilesPage, SignInPage, SplashPage
from ui.playback import PlayerController
from ui.theme import Theme, theme_for
from ui.tvsignin import TvSignIn
from ui.widgets import Page, Toast, focus_spot

JSON = dict[str, Any]


class Router(QMainWindow):
    """What every part of the window shares (made by :class:`ui.window.MainWindow`), and the
    pages, keys and look."""

    home_ready = Signal()
    page_changed = Signal(str)

    backend: Backend
    art: ArtCache
    controller: PlayerController
    settings: Settings
    paths: AppPaths
    auto_sign_in: bool
    messages: MessageBus
    tv: bool
    theme: Theme
    profile: JSON
    """The profile signed in ({} before one is picked)."""
    started_at: float
    home_ready_s: float | None
    stack: QStackedWidget
    splash: SplashPage
    signin: SignInPage
    pair: PairPage
    tv_signin: TvSignIn
    search_page: SearchPage
    profiles: ProfilesPage
    home: HomePage
    details: DetailsPage
    player: PlayerPage
    dl: DownloadsController
    downloads: DownloadsPage
    settings_page: SettingsPage
    pages: dict[str, Page]
    history: list[str]
    toast: Toast
    renew_license: Callable[[BaseException], Awaitable[Any]] | None

    if TYPE_CHECKING:  # the flows' methods one another calls, for the type checker
        def load_home(self) -> None: ...
        def open_title_refresh(self) -> None: ...
        def open_title(self, title: JSON, keep_trail: bool = False) -> None: ...
        def _local(self) -> dict[str, Any]: ...
        def show_sign_in(self) -> None: ...

    # --- pages and the router ------------------------------------------------------------------

    def current_name(self) -> str:
        current = self.stack.currentWidget()
        return next((n for n, p in self.pages.items() if p is current), "")

    def show_page(self, name: str, remember: bool = True) -> None:
        current = self.current_name()
        if current == name:
            self.pages[name].focus_default()
            return
        if current == "pair":
            self.tv_signin.stop()
        if current == "details" and name != "player":
            self.controller.cancel_prefetch()  # left without Play
        if remember and current and current not in ("splash", "signin", "pair"):
            self.history.append(current)
        page = self.pages[name]
        self.stack.setCurrentWidget(page)
        self.home.top.home.setChecked(name == "home")
        page.focus_default()
        self.page_changed.emit(name)

    def go_back(self) -> bool:
        if self.current_name() == "player":
            self.controller.stop()
        while self.history:
            name = self.history.pop()
            if name != self.current_name():
                self.stack.setCurrentWidget(self.pages[name])
                self.pages[name].focus_default()
                self.page_changed.emit(name)
                return True
        if self.current_name() in ("downloads", "settings", "details"):
            self.show_page("home", remember=False)
            return True
        return False

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.KeyRelease and isinstance(event, QKeyEvent):
            if self.current_name() == "player":
                self.player.key_released(event)
            return False
        if event.type() != QEvent.Type.KeyPress or not isinstance(event, QKeyEvent):
            return False
        if not self.isActiveWindow() and QApplication.activeWindow() is not None:
            return False
        focus = QApplication.focusWidget()
        if obj is not focus and not (focus is None and obj is self):
            return False
        return self.route(event)

    def route(self, event: QKeyEvent) -> bool:
        """Keys → the page (player keys, then actions) → the window (back, fullscreen)."""
        page = self.pages.get(self.current_name())
        if page is None:
            return False
        if self.toast.contains_focus() and self.toast.on_key(event):
            return True
        if isinstance(page, PlayerPage) and page.on_key(event):
            return True
        action = action_for(event)
        if action is None:
            if event.key() == Qt.Key.Key_F11:
                self.toggle_fullscreen()
                return True
            if event.key() == Qt.Key.Key_Tab and self.toast.waiting():
                return self.toast.focus_action()
            return False
        focus = QApplication.focusWidget()
        if isinstance(focus, QLineEdit) and event.key() == Qt.Key.Key_Backspace:
            return False  # editing text
        if action == Action.BACK and self.isFullScreen() and not self.tv:
            self.showNormal()
            return True
        down_to_toast = action == Action.DOWN and self.toast.waiting()
        if down_to_toast and page is self.player and not self.controller.playing \
                and not self.player.controls.seekbar.hasFocus() \
                and not self.player.postplay.row_below():
            return self.toast.focus_action()  # a stopped player: ↓ from the buttons
        spot = focus_spot()
        if page.on_action(action):
            if down_to_toast and spot == focus_spot() and page is not self.player:
                return self.toast.focus_action()  # ↓ past the foot of the page
            self._ensure_focus(self.pages[self.current_name()])
            return True
        if action == Action.BACK:
            self.go_back()
            return True
        if down_to_toast:
            return self.toast.focus_action()
        self._ensure_focus(self.pages[self.current_name()])
        return action in (Action.UP, Action.DOWN, Action.LEFT, Action.RIGHT)

    def _ensure_focus(self, page: Page) -> None:
        """Focus is never lost: if nothing on the page (or the message) has it, the page's
        default gets it."""
        focus = QApplication.focusWidget()
        if self.toast.contains_focus():
            return
        if focus is None or not (page is focus or page.isAncestorOf(focus)):
            page.focus_default()

    # --- messages ------------------------------------------------------------------------------

    def _toast_left(self) -> None:
        page = self.pages.get(self.current_name())
        if page is not None:
            self._ensure_focus(page)

    def _place_toast(self) -> None:
        """Clear of the TV's overscan, and of the player's controls."""
        bottom = self.theme.margin_px if self.tv else 40
        if self.current_name() == "player" and self.player.controls.isVisible():
            bottom = max(bottom, self.player.controls.height() + 12)
        self.toast.bottom_px = bottom
        self.toast.place()

    def _show_message(self, message: Message) -> None:
        """Show it; one with an action takes the focus (a remote must reach it) unless the
        user is typing: ↓ past the page's foot or Tab reach it then."""
        self.toast.show_message(message)
        self._place_toast()
        if message.action is not None and not self.toast.typing():
            self.toast.focus_action()

    def resizeEvent(self, event: Any) -> None:
        super().resizeEvent(event)
        if self.toast.isVisible():
            self._place_toast()

    # --- look ----------------------------------------------------------------------------------

    def apply_theme(self) -> None:
        self.theme = theme_for(self.tv)
        self.setStyleSheet(self.theme.style_sheet())
        for page in self.pages.values():
            page.apply_theme(self.theme)
        self.settings_page.tv.blockSignals(True)
        self.settings_page.tv.setChecked(self.tv)
        self.settings_page.tv.blockSignals(False)

    def set_tv(self, on: bool) -> None:
        self.tv = on
        self.apply_theme()
        if on:
            self.go_fullscreen()
        elif self.isFullScreen():
            self.showNormal()
        page = self.pages.get(self.current_name())
        if page is not None:
            self._ensure_focus(page)

    def toggle_fullscreen(self) -> None:
        if self.isFullScreen():
            self.showNormal()
        else:
            self.go_fullscreen()

    def go_fullscreen(self) -> None:
        screen = self.screen()
        if screen is not None:  # without a window manager, fullscreen alone does not resize
            self.setGeometry(screen.geometry())
        self.showFullScreen()
