"""Title details: backdrop, synopsis, year, duration, rating, languages; Play / Resume from mm:ss
/ Play from the start; Mark as watched / unwatched; Download (showing the download's progress once
it has started; a downloaded title plays from the download); where the progress comes from
("Watched on this device · 2 min ago", "· not synced yet"); More like this (the control plane's
``more_like_this``: same genre, never the title itself), whose tiles open their details; Back
from there returns to the title before, on the tile that was opened."""

from __future__ import annotations

import time
from typing import Any

from PySide6.QtCore import QModelIndex, QSize, Qt, Signal
from PySide6.QtGui import QPixmap
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from ui.artwork import ArtCache
from ui.delegates import PosterDelegate
from ui.models import Role, TitleRowModel, fmt_clock, fmt_duration, progress_fraction
from ui.nav import Action
from ui.pages.hero import Backdrop
from ui.pages.home_widgets import Section
from ui.theme import Theme
from ui.widgets import ButtonBar, Page

JSON = dict[str, Any]


class DetailsPage(Page):
    """Signals:
        play(dict, bool): the title and start_over.
        download(dict): the Download button.
        mark_watched(dict, bool): Mark as watched (True) / unwatched (False).
        my_list(dict): My List (add, or remove when it is on it).
        similar(dict): a More like this tile was chosen (its details should open).
        back_to(dict): Back after a More like this tile: the title before, again.
    """

    play = Signal(dict, bool)
    download = Signal(dict)
    mark_watched = Signal(dict, bool)
    my_list = Signal(dict)
    similar = Signal(dict)
    back_to = Signal(dict)

    def __init__(self, art: ArtCache, theme: Theme, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.art = art
        self.theme = theme
        self.title_json: JSON = {}
        self.backdrop = Backdrop(art, self)
        self.backdrop.lower()
        self.poster = QLabel()
        self.poster.setFixedSize(theme.poster_w * 2, theme.poster_h * 2)
        self.name = QLabel()
        self.name.setObjectName("h1")
        self.name.setWordWrap(True)
        self.meta = QLabel()
        self.meta.setObjectName("muted")
        self.synopsis = QLabel()
        self.synopsis.setWordWrap(True)
        self.synopsis.setMaximumWidth(900)
        self.langs = QLabel()
        self.langs.setObjectName("muted")
        self.langs.setWordWrap(True)
        self.resume = QPushButton("Resume")
        self.resume.setObjectName("primary")
        self.start = QPushButton("Play from the start")
        self.dl = QPushButton("⤓  Download")
        self.watched = QPushButton("Mark as watched")
        self.listed = QPushButton("+  My List")
        self.in_list = False
        self.device_id = ""
        """This device's id: its own progress says "this device"."""
        self.buttons = ButtonBar([self.resume, self.start, self.dl, self.listed, self.watched])
        self.buttons.row.addStretch(1)
        self.note = QLabel()
        self.note.setObjectName("muted")
        self.watched_on = QLabel()
        self.watched_on.setObjectName("muted")
        text = QVBoxLayout()
        text.addStretch(1)
        for w in (self.name, self.meta, self.synopsis, self.langs, self.watched_on):
            text.addWidget(w)
        text.addSpacing(16)
        text.addWidget(self.buttons)
        text.addWidget(self.note)
        text.addStretch(2)
        self.more = Section(TitleRowModel("more-like-this", "More like this"),
                            PosterDelegate(art, theme))
        self.more.hide()
        self.more.view.chosen.connect(self._similar_chosen)
        art.loaded.connect(self.more.model.art_loaded)
        self.trail: list[tuple[JSON, str]] = []
        """(title, id of the More like this tile opened from it): what Back returns to."""
        self._focus_similar = ""
        outer = QVBoxLayout(self)
        row = QHBoxLayout()
        row.addWidget(self.poster, 0, Qt.AlignmentFlag.AlignVCenter)
        self.poster_gap = QWidget()
        """Between the poster and the text; hidden with the poster, so the text lines up with
        More like this."""
        self.poster_gap.setFixedWidth(40)
        row.addWidget(self.poster_gap)
        row.addLayout(text, 1)
        outer.addLayout(row, 1)
        outer.addWidget(self.more)
        self.resume.clicked.connect(lambda: self.play.emit(self.title_json, False))
        self.start.clicked.connect(lambda: self.play.emit(self.title_json, True))
        self.dl.clicked.connect(lambda: self.download.emit(self.title_json))
        self.listed.clicked.connect(lambda: self.my_list.emit(self.title_json))
        self.watched.clicked.connect(lambda: self.mark_watched.emit(
            self.title_json, not self._is_watched()))
        art.loaded.connect(self._art)
        self.apply_theme(theme)

    def apply_theme(self, theme: Theme) -> None:
        super().apply_theme(theme)
        self.theme = theme
        self.poster.setFixedSize(round(theme.poster_w * 1.8), round(theme.poster_h * 1.8))
        self.synopsis.setMaximumWidth(theme.title_px * 18)
        self.more.resize_for(theme)

    def resizeEvent(self, event: Any) -> None:
        super().resizeEvent(event)
        self.backdrop.setGeometry(self.rect())

    def set_in_list(self, on: bool) -> None:
        self.in_list = on
        self.listed.setText("✓  My List" if on else "+  My List")

    def show_title(self, title: JSON) -> None:
        self.title_json = title
        self.name.setText(str(title.get("name", "")))
        genres = ", ".join(str(g) for g in title.get("genres") or [])
        parts = [str(title.get("year") or ""), fmt_duration(float(title.get("duration_s") or 0)),
                 str(title.get("maturity_rating") or ""), genres]
        self.meta.setText("   ·   ".join(p for p in parts if p))
        backdrop = str(title.get("backdrop_url") or "")
        self.backdrop.set_url(backdrop)
        self.poster.setVisible(not backdrop)  # the backdrop carries the art
        self.poster_gap.setVisible(not backdrop)
        self.synopsis.setText(str(title.get("synopsis") or ""))
        audio = ", ".join(str(a.get("name") or a.get("language")) for a in title.get("audio") or [])
        subs = ", ".join(str(s.get("name") or s.get("language"))
                         for s in title.get("subtitles") or [])
        self.langs.setText(f"Audio: {audio or '—'}\nSubtitles: {subs or 'none'}")
        fraction = progress_fraction(title)
        progress = title.get("progress") or {}
        if fraction is not None and 0 < fraction < 0.95:
            position = float(progress.get("position_s") or 0)
            self.resume.setText(f"▶  Resume from {fmt_clock(position)}")
            self.start.setVisible(True)
        else:
            self.resume.setText("▶  Play")
            self.start.setVisible(False)
        self.watched.setText("Mark as unwatched" if self._is_watched() else "Mark as watched")
        self.watched.setVisible(bool(title.get("id")))
        self.watched_on.setText(watched_on(title, self.device_id))
        self.watched_on.setVisible(bool(self.watched_on.text()))
        playable = title.get("playable", True) is not False
        self.resume.setEnabled(playable)
        self.start.setEnabled(playable)
        self.note.setText("" if playable else
                          f"Not available here ({title.get('unplayable_reason')}).")
        self._art(str(title.get("poster_url") or ""))
        self._show_similar(title)

    def _show_similar(self, title: JSON) -> None:
        similar = [t for t in title.get("more_like_this") or [] if isinstance(t, dict)]
        had_focus = self.more.view.hasFocus()
        keep = (str(self.more.view.currentIndex().data(Role.ID) or "") if had_focus
                else self._focus_similar)
        self.more.model.set_titles(similar)
        self.more.setVisible(bool(similar))
        ids = [str(t.get("id", "")) for t in similar]
        if keep in ids:
            self.more.view.setCurrentIndex(self.more.model.index(ids.index(keep), 0))
            if had_focus:
                self.more.view.setFocus(Qt.FocusReason.OtherFocusReason)

    def _similar_chosen(self, index: QModelIndex) -> None:
        title = index.data(Role.TITLE)
        if isinstance(title, dict) and self.title_json:
            self.follow(title)

    def follow(self, title: JSON) -> None:
        """Open ``title`` as one of this title's More like this tiles: Back returns here, on
        that tile (post-play's More like this goes this way too)."""
        self.trail.append((self.title_json, str(title.get("id", ""))))
        self._focus_similar = ""
        self.similar.emit(title)

    def set_download(self, row: JSON | None, fraction: float | None = None) -> None:
        """The Download button shows where this title's download is (``row``: the Downloads
        page's row for it, or None); ``fraction``: live progress while it runs."""
        if row is None:
            self.dl.setText("⤓  Download")
            return
        state = row.get("state")
        done = fraction if fraction is not None else float(row.get("fraction") or 0)
        if row.get("complete"):
            self.dl.setText("✓  Downloaded" if not row.get("blocked") else "Downloaded: renew")
        elif state in ("queued", "downloading"):
            self.dl.setText(f"Downloading {done * 100:.0f}%")
        else:
            self.dl.setText(f"Download paused at {done * 100:.0f}%")

    def _is_watched(self) -> bool:
        progress = self.title_json.get("progress")
        return isinstance(progress, dict) and bool(progress.get("watched"))

    def _art(self, url: str) -> None:
        if not url or url != self.title_json.get("poster_url"):
            return
        size = self.poster.size()
        pixmap: QPixmap | None = self.art.pixmap(url, QSize(size.width(), size.height()))
        if pixmap is not None:
            self.poster.setPixmap(pixmap)
        else:
            self.poster.clear()

    def reset_trail(self) -> None:
        """Opened from elsewhere than More like this: Back leaves the details."""
        self.trail.clear()
        self._focus_similar = ""

    def focus_default(self) -> None:
        if self.more.view.hasFocus():
            return
        ids = [str(t.get("id", "")) for t in self.more.model.titles()]
        if self._focus_similar in ids and self.more.isVisible():  # back from a similar title
            self.more.view.setCurrentIndex(self.more.model.index(ids.index(self._focus_similar),
                                                                 0))
            self.more.view.setFocus(Qt.FocusReason.OtherFocusReason)
            return
        self.buttons.focus_first()
        if not self.buttons.contains_focus():
            self.dl.setFocus()

    def on_action(self, action: Action) -> bool:
        if action == Action.BACK and self.trail:
            title, opened = self.trail.pop()
            self._focus_similar = opened
            self.back_to.emit(title)
            return True
        if self.more.view.hasFocus():
            if action == Action.UP:
                self._focus_similar = ""
                self.buttons.focus_first()
                return True
            if action == Action.DOWN:
                return True
            if action == Action.BACK:
                return False
            return self.more.view.on_action(action)
        if not self.buttons.contains_focus() and action != Action.BACK:
            self.focus_default()
            return True
        if action == Action.DOWN and self.more.isVisible():
            self.more.view.ensure_current()
            self.more.view.setFocus(Qt.FocusReason.OtherFocusReason)
            return True
        if action in (Action.UP, Action.DOWN):
            return True
        return self.buttons.on_action(action)


def ago(event_time_ms: float, now_s: float | None = None) -> str:
    seconds = max(0.0, (time.time() if now_s is None else now_s) - event_time_ms / 1000)
    if seconds < 60:
        return "just now"
    if seconds < 3600:
        return f"{int(seconds // 60)} min ago"
    if seconds < 86400:
        return f"{int(seconds // 3600)} h ago"
    return f"{int(seconds // 86400)} d ago"


def watched_on(title: JSON, own_device_id: str, now_s: float | None = None) -> str:
    """"Watched on this device · 2 min ago · not synced yet", or "Watched on Living-room TV · …"
    with the name the control plane gives for the device of the last write; "" without
    progress."""
    progress = title.get("progress")
    if not isinstance(progress, dict) or not progress.get("event_time_ms"):
        return ""
    device = str(progress.get("device_id") or "")
    name = progress.get("device_name")
    where = ("this device" if device and device == own_device_id
             else str(name) if name
             else f"another device ({device[:12]})" if device else "another device")
    parts = [f"Watched on {where}", ago(float(progress["event_time_ms"]), now_s)]
    if title.get("sync_state") == "pending":
        parts.append("not synced yet")
    return " · ".join(parts)
