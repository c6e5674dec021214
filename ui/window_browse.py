"""The window's browsing: the home rows (My List and the downloads added to the server's), the
details page (My List, mark as watched), search and the top bar's pages; this device's progress
shows at once, before the server has it. A part of :class:`ui.window.MainWindow`."""

from __future__ import annotations

import logging
import time
from typing import Any

from PySide6.QtWidgets import QApplication

from ui.models import merge_local, merge_title
from ui.window_router import JSON, Router

log = logging.getLogger("ui")
MY_LIST_ROW = "my-list"


class BrowseFlow(Router):
    """Home, details and search."""

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
            self.controller.stream_format = self.settings.stream_format
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

    def open_title_refresh(self) -> None:
        pid = str(self.profile.get("id", ""))
        tid = str(self.details.title_json.get("id", ""))
        self.backend.call(lambda cp: cp.title(tid, pid), self._details_loaded, key="details")
