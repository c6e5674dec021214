"""``edgeplay --screenshot FILE [--tv] [--page home|details|player|osd|panel|postplay|downloads|
signin|search]``: open that page against the control plane, wait until it has settled (rows and
visible art loaded; for the player, a few seconds of playback with the stats overlay; ``osd``:
the OSD scrubbing with its thumbnail; ``panel``: the side panel; ``postplay``: the end of a
title; for downloads, two titles downloaded; ``signin``: not signed in, the sign-in page (TV:
the pairing code); ``search``: a query typed on the on-screen keyboard and its results), save a
PNG, and quit."""

from __future__ import annotations

import logging
import time
from pathlib import Path

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication

from ui.window import MainWindow

log = logging.getLogger("ui")
TIMEOUT_S = 90.0
SEARCH_KEYS = ("T", "H", "E")
"""What the ``search`` screenshot types on the on-screen keyboard."""


class ScreenshotJob:
    def __init__(self, window: MainWindow, path: Path, page: str) -> None:
        self.window = window
        self.path = path
        self.page = page
        self.saved = False
        self._started = time.monotonic()
        self._stage = "home"
        self._quiet_since = 0.0
        self._waiting: set[str] = set()
        window.home_ready.connect(self._home_ready)
        window.controller.started.connect(self._playing)
        window.controller.failed.connect(lambda exc: self._fail(f"playback failed: {exc}"))
        self._timer = QTimer(window, interval=200)
        self._timer.timeout.connect(self._tick)
        self._timer.start()

    def _home_ready(self) -> None:
        if self._stage != "home":
            return
        self._stage = "settle"
        self._quiet_since = time.monotonic() + 0.5
        w = self.window
        if self.page == "details":
            title = self._first_title()
            if title:
                w.open_title(title)
        elif self.page == "search":
            w.show_page("search")
            keyboard = w.search_page.keyboard
            for key in SEARCH_KEYS:
                keyboard.focus_key(key)
                keyboard.press(key)
            self._stage = "searching"
        elif self.page == "downloads":  # download two titles, then show the page
            self._stage = "downloading"
            titles = self._titles(2)
            self._waiting = {str(t["id"]) for t in titles}
            w.dl.finished.connect(self._downloaded)
            w.dl.failed.connect(lambda text: self._fail(f"download failed: {text}"))
            for title in titles:
                w.download_title(title)
            w.show_page("downloads")
        elif self.page in ("player", "osd", "panel", "postplay"):
            title = self._first_title()
            if title:
                self._stage = "playing"
                w.open_title(title)
                w.play(title, True)
                if self.page == "player":
                    w.player.stats.show()
                if self.page == "postplay":
                    w.controller.ended.connect(self._ended)

    def _first_title(self) -> dict[str, object] | None:
        titles = self._titles(1)
        return titles[0] if titles else None

    def _titles(self, n: int) -> list[dict[str, object]]:
        """``n`` playable titles from the genre rows (no resume prompt), last row first."""
        out: list[dict[str, object]] = []
        for s in reversed(self.window.home.sections):
            for t in s.model.titles():
                if t.get("playable", True) is not False and t["id"] not in {
                        o["id"] for o in out}:
                    out.append(t)
        return out[:n]

    def _downloaded(self, download: object) -> None:
        self._waiting.discard(str(getattr(download, "title_id", "")))
        if not self._waiting and self._stage == "downloading":
            self._stage = "settle"
            self._quiet_since = time.monotonic() + 0.5
            self.window.downloads.focus_default()

    def _playing(self) -> None:
        self._play_started = time.monotonic()
        self._stage = "played"
        if self.page == "postplay":  # to the last seconds: post-play comes up at the end
            self._stage = "ending"
            c = self.window.controller
            c.seek_to(max(0.0, c.duration_s - 2.0))

    def _ended(self, reason: str) -> None:
        if self._stage == "ending":
            self._stage = "settle"
            self._quiet_since = time.monotonic() + 0.5
    def _tick(self) -> None:
        now = time.monotonic()
        if now - self._started > TIMEOUT_S:
            self._fail("the page did not settle in time")
            return
        if self._stage == "home" and self.page == "signin":
            w = self.window
            if w.current_name() == "signin" or w.pair.code.isVisible():
                self._stage = "settle"
                self._quiet_since = now
        elif self._stage == "searching" and self.window.search_page.results.isVisible():
            self._stage = "settle"
            self._quiet_since = now + 0.5
        if self._stage == "settle":
            if self.window.art._pending:
                self._quiet_since = now
            elif now - self._quiet_since > 0.8:
                self._save()
        elif self._stage == "played" and now - self._play_started > 4.0:
            page = self.window.player
            if self.page == "panel":
                page.open_panel()
            else:
                page.show_controls(auto_hide=False)
                if self.page == "osd":
                    page.controls.seekbar.setFocus()
                    page.scrub_by(1)
                    page._scrub_commit.stop()
                    self._stage = "scrubbing"
                    self._play_started = now
                    return
            self._save()
        elif self._stage == "scrubbing" and now - self._play_started > 1.5:
            self._save()

    def _save(self) -> None:
        self._timer.stop()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        image = self.window.grab()
        self.saved = bool(image.save(str(self.path), "PNG"))
        log.warning("screenshot %s: %s", "saved" if self.saved else "NOT saved", self.path)
        QApplication.quit()

    def _fail(self, why: str) -> None:
        self._timer.stop()
        log.error("screenshot: %s", why)
        QApplication.quit()
