"""The main window: a stack of pages, the router (keys → actions → the focused page; Back
walks the history), the start-up flow (control plane → sign-in → profile → home) and TV mode.

Signals:
    home_ready(): the home rows are on screen (screenshots, benchmarks, tests).
    page_changed(str): the page now shown.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

from PySide6.QtCore import QEvent, QObject, Qt, QTimer, Signal
from PySide6.QtGui import QCloseEvent, QKeyEvent
from PySide6.QtWidgets import QApplication, QLineEdit, QMainWindow, QStackedWidget, QWidget

from player.api.pairing import confirm_pairing
from player.errors import AuthError, NetworkError
from player.session import SessionConfig
from ui.artwork import ArtCache
from ui.backend import Backend
from ui.config import AppPaths, Settings
from ui.desktop.notify import notify
from ui.downloads import DownloadsController
from ui.library import open_library
from ui.message import LICENSE_EXPIRED, Message, MessageBus
from ui.models import merge_local, merge_title
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

log = logging.getLogger("ui")
MY_LIST_ROW = "my-list"
JSON = dict[str, Any]


class MainWindow(QMainWindow):
    home_ready = Signal()
    page_changed = Signal(str)

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
        self.theme: Theme = theme_for(tv)
        self.profile: JSON = {}
        self.started_at = time.monotonic()
        self.home_ready_s: float | None = None
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
        self.pages: dict[str, Page] = {
            "splash": self.splash, "signin": self.signin, "profiles": self.profiles,
            "home": self.home, "details": self.details, "player": self.player,
            "downloads": self.downloads, "settings": self.settings_page, "pair": self.pair,
            "search": self.search_page}
        for page in self.pages.values():
            self.stack.addWidget(page)
        self.history: list[str] = []
        self.toast = Toast(self)
        self.toast.focus_left.connect(self._toast_left)
        self.messages.shown.connect(self._show_message)
        self.renew_license: Callable[[BaseException], Awaitable[Any]] | None = \
            self._renew_playing_download
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
        self.player.toggle_fullscreen.connect(self.toggle_fullscreen)
        self.controller.failed.connect(self._playback_failed)
        self.downloads.back.clicked.connect(lambda: self.show_page("home", remember=False))
        self.settings_page.changed.connect(lambda: self.settings.save(self.paths.settings_file))
        self.settings_page.tv_toggled.connect(self.set_tv)

    def start(self) -> None:
        self.show_page("splash", remember=False)
        self.backend.start()

    def _retry_start(self) -> None:
        self.splash.retry.hide()
        self.splash.offline.hide()
        self.backend.start()

    def _service_back(self) -> None:
        """The bundled control plane restarted (new port, same accounts): reload what shows."""
        self.messages.info("The built-in service is running again.")
        if not self.profile:
            return
        self.load_home()
        if self.current_name() == "details" and self.details.title_json:
            self.open_title_refresh()

    def _start_failed(self, text: str) -> None:
        self.splash.set_status(f"Edgeplay could not reach its service: {text}")
        self.splash.retry.show()
        self.splash.offline.show()
        self.splash.retry.setFocus()

    def show_downloads_offline(self) -> None:
        """The service is out of reach: the Downloads page still lists and plays."""
        self.dl.refresh()
        self.show_page("downloads")

    # --- sign-in and profiles ------------------------------------------------------------------

    def _backend_ready(self) -> None:
        self.dl.attach(self.backend.cp, self.backend.service_key, self.backend.license_key)
        if self.backend.keyring_note:
            self.signin.note.setText(self.backend.keyring_note)
        if self.auto_sign_in:
            self.backend.runner.run(self.backend.ensure_demo(), self._have_profiles,
                                    self._auth_failed, key="auth")
        elif self.backend.signed_in:
            self.splash.set_status("Signing in…")
            self.backend.runner.run(self.backend.resume_session(), self._have_profiles,
                                    self._auth_failed, key="auth")
        else:
            self.show_sign_in()

    def show_sign_in(self) -> None:
        """TV: the code to confirm elsewhere (nothing to type); desktop: the form."""
        if self.tv and self.current_name() != "signin":
            self.show_page("pair", remember=False)
            self.tv_signin.start()
        else:
            self.show_page("signin", remember=False)

    def _auth_failed(self, exc: BaseException) -> None:
        text = getattr(exc, "message", None) or str(exc)
        if self.tv and self.current_name() != "signin" and not isinstance(exc, NetworkError):
            self.show_sign_in()
        else:
            self.show_page("signin", remember=False)
        self.signin.failed(text)
        if isinstance(exc, NetworkError):  # no service: the downloads still play
            self.messages.error(text, ("Watch downloads", self.show_downloads_offline))

    def _sign_in(self, email: str, password: str, create: bool) -> None:
        self.backend.runner.run(self.backend.sign_in(email, password, create),
                                self._signed_in, self._auth_failed, key="auth")

    def _signed_in(self, profiles: list[JSON]) -> None:
        self.settings.profile_id = ""
        self._have_profiles(profiles)

    def _have_profiles(self, profiles: list[JSON]) -> None:
        self.profiles.set_profiles(profiles)
        remembered = [p for p in profiles if p.get("id") == self.settings.profile_id]
        if remembered or (self.auto_sign_in and profiles):
            self._pick_profile((remembered or profiles)[0])
        else:
            self.show_page("profiles", remember=False)

    def _pick_profile(self, profile: JSON) -> None:
        self.profile = profile
        self.settings.profile_id = str(profile.get("id", ""))
        self.settings.save(self.paths.settings_file)
        self.home.top.set_profile(profile)
        self.home.last = ("", "")
        self.history.clear()
        self.show_page("home", remember=False)
        self.load_home()

    def _profile_call(self, coro: Any) -> None:
        async def then_list() -> list[JSON]:
            await coro
            return await self.backend.cp.profiles()
        self.backend.runner.run(then_list(), self.profiles.set_profiles,
                                lambda exc: self.messages.engine_error(exc), key="profiles")

    def _create_profile(self, name: str, color: str) -> None:
        self._profile_call(self.backend.cp.create_profile(name, avatar_color=color))

    def _rename_profile(self, pid: str, name: str, color: str) -> None:
        self._profile_call(self.backend.update_profile(pid, name=name, avatar_color=color))

    def _delete_profile(self, pid: str) -> None:
        self._profile_call(self.backend.delete_profile(pid))

    def _pair_tv(self, code: str) -> None:
        """Settings → Pair a TV: confirm the code a TV shows, for this app's account."""
        self.backend.call(lambda cp: confirm_pairing(cp, code), self.settings_page.paired,
                          lambda exc: self.settings_page.pair_failed(
                              getattr(exc, "message", None) or str(exc)), key="pair-tv")

    # --- home, details, search -----------------------------------------------------------------

    def _local(self) -> dict[str, Any]:
        """This device's progress for the current profile (the outbox), {} if unreadable."""
        try:
            return dict(self.backend.local_progress(str(self.profile.get("id", ""))))
        except Exception as exc:  # a broken outbox file must not hide the rows
            log.warning("progress outbox unreadable: %s", exc)
            return {}

    def load_home(self) -> None:
        pid = str(self.profile.get("id", ""))
        self.backend.call(lambda cp: cp.rows(pid), self._rows,
                          lambda exc: self.messages.engine_error(exc, retry=self.load_home),
                          key="rows")

    def _my_list_row(self) -> list[JSON]:
        items = self.settings.my_list.get(str(self.profile.get("id", "")), [])
        return [{"id": MY_LIST_ROW, "title": "My List", "items": items}] if items else []

    def _rows(self, rows: list[JSON]) -> None:
        downloaded = self.dl.home_row()
        rows = [r for r in rows if r.get("id") != MY_LIST_ROW]
        head = [r for r in rows[:1] if r.get("id") == "continue-watching"]
        rows = [*head, *self._my_list_row(), *rows[len(head):]]
        self.home.set_rows(merge_local([*rows, *([downloaded] if downloaded else [])],
                                       self._local()))
        first = self.home_ready_s is None
        if self.stack.currentWidget() is self.home and (first or not self.home.isAncestorOf(
                self.focusWidget())):
            self.home.focus_default()
        if self.home_ready_s is None:
            self.home_ready_s = time.monotonic() - self.started_at
            log.info("home ready %.0f ms after start", self.home_ready_s * 1000)
        self.home_ready.emit()

    def _search(self, query: str) -> None:
        if not query:
            return
        pid = str(self.profile.get("id", ""))
        page = self.search_page if self.current_name() == "search" else self.home
        self.backend.call(lambda cp: cp.search(query, pid),
                          lambda results: page.set_results(query, results),
                          lambda exc: self.messages.engine_error(exc), key="search")

    def open_title(self, title: JSON, keep_trail: bool = False) -> None:
        if not keep_trail:  # More like this walks keep the way back; anything else starts anew
            self.details.reset_trail()
        self.details.device_id = self.backend.device_id
        self.details.show_title(merge_title(title, self._local()))
        self.details.set_in_list(self.settings.in_my_list(str(self.profile.get("id", "")),
                                                          str(title.get("id", ""))))
        self.show_page("details")
        pid = str(self.profile.get("id", ""))
        tid = str(title.get("id", ""))
        self.backend.call(lambda cp: cp.title(tid, pid), self._details_loaded,
                          lambda exc: self.messages.engine_error(exc), key="details")
        client = self.backend.client
        if client is not None and tid and self.dl.playable(tid) is None:
            self.controller.prefetch(client, tid, pid)  # Play starts from it

    def toggle_my_list(self, title: JSON) -> None:
        """My List on the details page: on this device, per profile (the settings file)."""
        pid = str(self.profile.get("id", ""))
        if not title.get("id"):
            return
        added = self.settings.toggle_my_list(pid, title)
        self.settings.save(self.paths.settings_file)
        self.details.set_in_list(added)
        self.messages.info(f"{title.get('name', 'The title')} is on My List." if added else
                           f"{title.get('name', 'The title')} is off My List.")
        self.load_home()

    def _details_loaded(self, title: JSON) -> None:
        focus = QApplication.focusWidget()
        had_focus = self.details.buttons.contains_focus()
        self.details.device_id = self.backend.device_id
        self.details.show_title(merge_title(title, self._local()))
        if self.stack.currentWidget() is self.details and (
                had_focus or not self.details.buttons.contains_focus()):
            if had_focus and focus is not None and focus.isVisible() and focus.isEnabled():
                focus.setFocus()  # the fuller answer does not move the user's focus
            else:
                self.details.focus_default()

    def _navigate(self, where: str) -> None:
        if where == "profiles":
            self.show_page("profiles")
            self.backend.call(lambda cp: cp.profiles(), self.profiles.set_profiles,
                              key="profiles")
        else:
            self.show_page(where)

    def mark_watched(self, title: JSON, watched: bool) -> None:
        """Mark as watched/unwatched: queued in the outbox (durable), shown at once, synced."""
        tid, pid = str(title.get("id", "")), str(self.profile.get("id", ""))
        if not tid or not pid:
            return
        try:
            self.backend.mark_watched(tid, pid, watched)
        except Exception as exc:
            self.messages.error(f"Could not record that: {exc}")
            return
        self.details.show_title(merge_title(title, self._local()))
        self.messages.info("Marked as watched." if watched else "Marked as unwatched.")
        self.load_home()

    def _sync_changed(self) -> None:
        """Progress reached the server: refresh what shows it (pending markers go)."""
        if not self.profile or self.backend.client is None:
            return
        if self.stack.currentWidget() is self.details and self.details.title_json:
            self.open_title_refresh()
        elif self.stack.currentWidget() is self.home:
            self.load_home()

    # --- playback ------------------------------------------------------------------------------

    def play(self, title: JSON, start_over: bool) -> None:
        progress = title.get("progress") or {}
        resume_s = 0.0 if start_over else float(progress.get("position_s") or 0)
        self.show_page("player")
        self.player.up_next = self.home.next_after(str(title.get("id", "")))
        self.player.begin(title, resume_s)
        self._pending_play = (title, start_over)
        self._try_play(0)

    def _try_play(self, attempt: int) -> None:
        video = self.player.video
        if not getattr(video, "ready", True):  # the GL context comes with the first paint
            if attempt < 40:
                QTimer.singleShot(50, lambda: self._try_play(attempt + 1))
                return
            self.messages.error("Video output could not start (no OpenGL).")
            return
        title, start_over = self._pending_play
        row = self.dl.playable(str(title.get("id", "")))
        offline = None
        if row is not None:  # downloaded: play the download, online or not
            def offline(cp: Any, title_id: str, profile_id: str, mpv: Any,
                        config: SessionConfig) -> Any:
                return self.dl.session_for(row["id"], mpv, config)
        profile_id = str(self.profile.get("id", "") or (row or {}).get("profile_id", ""))
        self.controller.play(self.backend.client, title,  # type: ignore[arg-type]
                             profile_id,
                             start_over=start_over, make_session=offline,
                             max_rung=self.settings.effective_max_rung())
        self.controller.set_mpv("sub-font-size", self.settings.subtitle_size)

    # --- downloads -----------------------------------------------------------------------------

    def download_title(self, title: JSON) -> None:
        """Download on the details page: start it, or show it on the Downloads page."""
        tid, pid = str(title.get("id", "")), str(self.profile.get("id", ""))
        if not tid or not pid:
            return
        if self.dl.row_for_title(tid) is not None:
            self.show_page("downloads")
            return
        self.dl.download(tid, pid)
        self.details.set_download({"state": "queued", "fraction": 0.0})
        self.messages.info(f"Downloading {title.get('name', 'the title')}…")

    def play_download(self, row: JSON) -> None:
        """Play on the Downloads page: the download, with the catalog's facts when known."""
        title = {"id": row["title_id"], "name": row["title"],
                 "duration_s": row["duration_s"],
                 "progress": {"position_s": row["position_s"]}}
        self.play(title, False)

    def _download_changed(self) -> None:
        tid = str(self.details.title_json.get("id", ""))
        if tid:
            self.details.set_download(self.dl.row_for_title(tid))

    def _download_progress(self, p: Any) -> None:
        if p.title_id == self.details.title_json.get("id"):
            self.details.set_download(self.dl.row_for_title(p.title_id) or
                                      {"state": p.state}, p.fraction)

    async def _renew_playing_download(self, exc: BaseException) -> None:
        """"Renew" on an expired download: a new license from the control plane."""
        manager = self.dl.manager
        title_id = str(self.controller.title.get("id", "")) or str(
            self.details.title_json.get("id", ""))
        download = self.dl.library.for_title(title_id)
        if manager is None or download is None:
            raise RuntimeError("there is no download of this title to renew")
        await manager.renew(download.id)
        self.dl.refresh()

    def _playback_failed(self, exc: object) -> None:
        assert isinstance(exc, BaseException)
        title = self.controller.title
        self.messages.engine_error(
            exc, retry=lambda: self.play(title, False) if title else None,
            sign_in=self.show_sign_in)
        if isinstance(exc, AuthError):
            self.show_sign_in()

    def _play_next(self, title: JSON) -> None:
        """Post-play's next title: its details behind the player (Back lands there), then play."""
        self.home.remember_title(title)
        self.details.device_id = self.backend.device_id
        self.details.show_title(merge_title(title, self._local()))
        self.play(title, True)

    def _leave_player(self) -> None:
        self.controller.stop()
        if self.isFullScreen() and not self.tv:
            self.showNormal()
        self.go_back()
        if self.details.title_json:
            self.open_title_refresh()
        self.load_home()

    def open_title_refresh(self) -> None:
        pid = str(self.profile.get("id", ""))
        tid = str(self.details.title_json.get("id", ""))
        self.backend.call(lambda cp: cp.title(tid, pid), self._details_loaded, key="details")

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

    def closeEvent(self, event: QCloseEvent) -> None:
        """The window is going away: the app-wide key filter goes with it, and the player's
        thumbnail decoding stops (waiting for a decode under way)."""
        app = QApplication.instance()
        if app is not None:
            app.removeEventFilter(self)
        self.player.trickplay.close()
        self.tv_signin.stop()
        super().closeEvent(event)

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
                and not self.player.controls.seekbar.hasFocus():
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

    def _renew_license(self, exc: BaseException) -> None:
        """"Renew" on an expired license: the downloads code's hook on the engine loop, then
        playback again if that is what failed."""
        renew = self.renew_license
        if renew is None:
            self.messages.error("This version cannot renew download licenses yet.")
            return
        replay = self.current_name() == "player" and bool(self.controller.title)
        title = self.controller.title

        async def go() -> None:
            await renew(exc)

        def done(_: None) -> None:
            self.messages.info("License renewed.")
            if replay:
                self.play(title, False)
        self.backend.runner.run(go(), done, lambda e: self.messages.engine_error(e),
                                key="renew")

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
