"""The main window: a stack of pages, the router (keys → actions → the focused page; Back
walks the history), the start-up flow (control plane → sign-in → profile → home) and TV mode.

:class:`MainWindow` makes the pages and wires them; what they do lives in its parts:

* ``ui/window_router.py`` (:class:`Router`): the page stack, history, keys, focus, messages, TV
  mode; and what the parts share;
* ``ui/window_start.py`` (:class:`StartFlow`): control plane, sign-in, profiles;
* ``ui/window_browse.py`` (:class:`BrowseFlow`): home rows, details, search, My List;
* ``ui/window_playback.py`` (:class:`PlaybackFlow`): play, leave the player, downloads.

Signals (declared on :class:`Router`):
    home_ready(): the home rows are on screen (screenshots, benchmarks, tests).
    page_changed(str): the page now shown.
"""

from __future__ import annotations

import time

from PySide6.QtGui import QCloseEvent
from PySide6.QtWidgets import QApplication, QStackedWidget, QWidget

from ui.artwork import ArtCache
from ui.backend import Backend
from ui.config import AppPaths, Settings
from ui.desktop.notify import notify
from ui.downloads import DownloadsController
from ui.library import open_library
from ui.message import LICENSE_EXPIRED, Message, MessageBus
from ui.pages.details import DetailsPage
from ui.pages.downloads import DownloadsPage
from ui.pages.home import HomePage
from ui.pages.other import SettingsPage
from ui.pages.pair import PairPage
from ui.pages.player import PlayerPage
from ui.pages.search import SearchPage
from ui.pages.start import ProfilesPage, SignInPage, SplashPage
from ui.playback import PlayerController
from ui.theme import theme_for
from ui.tvsignin import TvSignIn
from ui.widgets import Toast
from ui.window_browse import MY_LIST_ROW, BrowseFlow
from ui.window_playback import PlaybackFlow
from ui.window_router import JSON
from ui.window_start import StartFlow

__all__ = ["JSON", "MY_LIST_ROW", "MainWindow"]


class MainWindow(StartFlow, BrowseFlow, PlaybackFlow):
    """The app's one window: it makes the pages, the message bar and the downloads controller,
    and wires their signals to the flows."""

    def __init__(self, backend: Backend, art: ArtCache, controller: PlayerController,
                 video: QWidget, settings: Settings, paths: AppPaths, *, tv: bool = False,
                 auto_sign_in: bool = False, messages: MessageBus | None = None,
                 downloads: DownloadsController | None = None) -> None:
        super().__init__()
        self.backend = backend
        self.art = art
        self.controller = controller
        self.settings = settings
        self.paths = paths
        self.auto_sign_in = auto_sign_in
        self.messages = messages or MessageBus(self)
        self.tv = tv
        self.theme = theme_for(tv)
        self.profile = {}
        self.started_at = time.monotonic()
        self.home_ready_s = None
        self.setWindowTitle("Edgeplay")
        self.stack = QStackedWidget()
        self.stack.setMinimumSize(1, 1)  # no page's layout may push the window past the screen
        self.setCentralWidget(self.stack)
        self.splash = SplashPage()
        self.signin = SignInPage()
        self.pair = PairPage(self.theme)
        """The TV's sign-in: a code confirmed elsewhere (docs/ui.md, "Sign-in")."""
        self.tv_signin = TvSignIn(backend, self.pair, self)
        self.search_page = SearchPage(art, self.theme)
        """The TV's search, with the on-screen keyboard."""
        self.profiles = ProfilesPage(self.theme)
        self.home = HomePage(art, self.theme)
        self.details = DetailsPage(art, self.theme)
        self.player = PlayerPage(controller, video, self.theme)
        self.player.set_art(art)
        self.dl = downloads or DownloadsController(backend.runner,
                                                   open_library(paths, settings), notify=notify)
        """The offline downloads (docs/offline.md); the Downloads page and Download buttons."""
        self.downloads = DownloadsPage(self.dl, art)
        self.settings_page = SettingsPage(settings)
        self.pages = {
            "splash": self.splash, "signin": self.signin, "profiles": self.profiles,
            "home": self.home, "details": self.details, "player": self.player,
            "downloads": self.downloads, "settings": self.settings_page, "pair": self.pair,
            "search": self.search_page}
        for page in self.pages.values():
            self.stack.addWidget(page)
        self.history = []
        self.toast = Toast(self)
        self.toast.focus_left.connect(self._toast_left)
        self.messages.shown.connect(self._show_message)
        self.renew_license = self._renew_playing_download
        """The downloads code's hook: renew the offline license an error is about (a coroutine
        function, run on the engine loop). The "Renew" action of ``license_expired`` errors."""
        self.messages.set_action(LICENSE_EXPIRED, "Renew", self._renew_license)
        self._wire()
        self.apply_theme()
        QApplication.instance().installEventFilter(self)  # type: ignore[union-attr]
        """Removed in :meth:`closeEvent`: an app-wide filter must not outlive its window."""

    # --- wiring --------------------------------------------------------------------------------

    def _wire(self) -> None:
        b = self.backend
        b.status.connect(self.splash.set_status)
        b.ready.connect(self._backend_ready)
        b.start_failed.connect(self._start_failed)
        b.restarting.connect(lambda: self.messages.show(Message(
            "warning", "The built-in service stopped; restarting it…", timeout_s=15.0)))
        b.restarted.connect(self._service_back)
        b.restart_failed.connect(lambda text: self.messages.error(
            f"The built-in service could not restart: {text}",
            ("Retry", self.backend.restart_bundled)))
        self.splash.retry.clicked.connect(self._retry_start)
        self.splash.offline.clicked.connect(self.show_downloads_offline)
        self.signin.submitted.connect(self._sign_in)
        self.tv_signin.signed_in.connect(self._signed_in)
        self.pair.use_email.connect(lambda: self.show_page("signin", remember=False))
        self.search_page.search.connect(self._search)
        self.search_page.open_title.connect(self.open_title)
        self.settings_page.pair_tv.connect(self._pair_tv)
        self.profiles.picked.connect(self._pick_profile)
        self.profiles.create_profile.connect(self._create_profile)
        self.profiles.rename.connect(self._rename_profile)
        self.profiles.delete.connect(self._delete_profile)
        self.home.open_title.connect(self.open_title)
        self.home.play_title.connect(lambda title: self.play(title, False))
        self.home.navigate.connect(self._navigate)
        self.home.search.connect(self._search)
        self.details.play.connect(self.play)
        self.details.mark_watched.connect(self.mark_watched)
        self.details.my_list.connect(self.toggle_my_list)
        self.details.similar.connect(lambda title: self.open_title(title, keep_trail=True))
        self.details.back_to.connect(lambda title: self.open_title(title, keep_trail=True))
        b.sync_changed.connect(self._sync_changed)
        self.controller.progress_factory = b.progress_reporter
        self.controller.before_play = b.flush_progress
        self.details.download.connect(self.download_title)
        self.downloads.play.connect(self.play_download)
        self.dl.failed.connect(lambda text: self.messages.error(text))
        self.dl.finished.connect(lambda d: self.messages.info(
            f"{d.title_name} is downloaded: it plays without a network."))
        self.dl.changed.connect(self._download_changed)
        self.dl.progress.connect(self._download_progress)
        b.device_public_key = lambda: self.dl.library.device_key().public_raw
        self.player.leave.connect(self._leave_player)
        self.player.play_next.connect(self._play_next)
        self.player.to_details.connect(self._leave_player)
        self.player.similar.connect(self._open_similar)
        self.player.toggle_fullscreen.connect(self.toggle_fullscreen)
        self.controller.failed.connect(self._playback_failed)
        self.downloads.back.clicked.connect(lambda: self.show_page("home", remember=False))
        self.settings_page.changed.connect(lambda: self.settings.save(self.paths.settings_file))
        self.settings_page.tv_toggled.connect(self.set_tv)

    def start(self) -> None:
        self.show_page("splash", remember=False)
        self.backend.start()

    def closeEvent(self, event: QCloseEvent) -> None:
        """The window is going away: the app-wide key filter goes with it, and the player's
        thumbnail decoding stops (waiting for a decode under way)."""
        app = QApplication.instance()
        if app is not None:
            app.removeEventFilter(self)
        self.player.trickplay.close()
        self.tv_signin.stop()
        super().closeEvent(event)
