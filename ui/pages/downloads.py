"""Downloads: every download with its progress, what it is doing, and how long it may play.

One row per download: the title, a status line (downloading with rate and time left, paused
and why, ready with its quality and size, or why it cannot play), a progress bar while it is
not finished, an expiry countdown once it is, and its actions: Play, Pause / Resume, Renew,
Repair, Delete (Cancel while downloading). Up/down move between rows (the focus keeps its
column), left/right between a row's buttons, Enter/OK presses; nothing needs a mouse.

Signals:
    play(dict): Play on a finished download (the row, see :func:`ui.downloads.row_of`).
"""

from __future__ import annotations

import time
from typing import Any

from PySide6.QtCore import QSize, Qt, QTimer, Signal
from PySide6.QtGui import QPixmap
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from offline.downloader import DownloadProgress
from offline.license import span
from ui.artwork import ArtCache
from ui.downloads import DownloadsController
from ui.nav import Action
from ui.widgets import Page


def _mb(n: float) -> str:
    return f"{n / 1e9:.2f} GB" if n >= 1e9 else f"{n / 1e6:.0f} MB" if n >= 1e7 \
        else f"{n / 1e6:.1f} MB"


def status_text(row: dict[str, Any], live: DownloadProgress | None, now_delta_s: float) -> str:
    """The status line of one row."""
    state = row["state"]
    if state == "downloading" and live is not None:
        parts = [f"Downloading · {live.fraction * 100:.0f}%",
                 f"{_mb(live.bytes_done)} of about {_mb(live.bytes_total)}"]
        if live.rate_bps:
            parts.append(f"{live.rate_bps * 8 / 1e6:.1f} Mbit/s")
        if live.eta_s is not None:
            parts.append(f"{span(live.eta_s)} left")
        return " · ".join(parts)
    if state in ("queued", "downloading"):
        return "Waiting to download…" if state == "queued" else "Downloading…"
    if state == "paused":
        why = row["error"] or "Paused"
        return f"{why} · {row['fraction'] * 100:.0f}% done"
    if state == "failed":
        return f"Stopped: {row['error'] or 'the download failed'}"
    if row["blocked"]:
        return str(row["blocked"])
    left = row["playable_for_s"]
    expiry = "" if left is None else f" · plays for {span(left - now_delta_s)}"
    return f"Ready to watch offline · {row['rendition']} · {_mb(row['bytes_done'])}{expiry}"


POSTER = QSize(80, 120)


class DownloadRow(QFrame):
    def __init__(self, row: dict[str, Any], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("card")
        self.row = row
        outer = QHBoxLayout(self)
        self.poster = QLabel()
        self.poster.setFixedSize(POSTER)
        outer.addWidget(self.poster)
        outer.addSpacing(8)
        box = QVBoxLayout()
        outer.addLayout(box, 1)
        box.addStretch(1)
        top = QHBoxLayout()
        self.name = QLabel(row["title"])
        self.name.setObjectName("h2")
        top.addWidget(self.name, 1)
        self.buttons: list[QPushButton] = []
        self.by_key: dict[str, QPushButton] = {}
        for key, label in self._actions(row):
            button = QPushButton(label)
            if key == "play":
                button.setObjectName("primary")
            self.by_key[key] = button
            self.buttons.append(button)
            top.addWidget(button)
        box.addLayout(top)
        self.status = QLabel()
        self.status.setObjectName("muted")
        self.status.setWordWrap(True)
        box.addWidget(self.status)
        self.bar = QProgressBar()
        self.bar.setRange(0, 1000)
        self.bar.setTextVisible(False)
        self.bar.setValue(int(row["fraction"] * 1000))
        self.bar.setVisible(not row["complete"])
        box.addWidget(self.bar)
        box.addStretch(1)
        self.update_status(None, 0.0)

    def set_poster(self, pixmap: QPixmap | None) -> None:
        if pixmap is not None:
            self.poster.setPixmap(pixmap)

    @staticmethod
    def _actions(row: dict[str, Any]) -> list[tuple[str, str]]:
        state, code = row["state"], row["blocked_code"]
        if row["complete"] and state == "completed":
            out = [("play", "Play")] if not code else []
            if code in ("license_expired", "window_expired") or (
                    row["playable_for_s"] is not None and row["playable_for_s"] < 3 * 86400):
                out.append(("renew", "Renew"))
            if code == "tampered":
                out.append(("repair", "Repair"))
            return [*out, ("delete", "Delete")]
        if state in ("queued", "downloading"):
            return [("pause", "Pause"), ("delete", "Cancel")]
        return [("resume", "Resume"), ("delete", "Delete")]

    def update_status(self, live: DownloadProgress | None, now_delta_s: float) -> None:
        self.status.setText(status_text(self.row, live, now_delta_s))
        if live is not None:
            self.bar.setValue(int(live.fraction * 1000))


class DownloadsPage(Page):
    play = Signal(dict)

    def __init__(self, controller: DownloadsController, art: ArtCache | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.controller = controller
        self.art = art
        if art is not None:
            art.loaded.connect(self._art)
        box = QVBoxLayout(self)
        title = QLabel("Downloads")
        title.setObjectName("h1")
        self.summary = QLabel()
        self.summary.setObjectName("muted")
        box.addWidget(title)
        box.addWidget(self.summary)
        self.empty = QLabel("Nothing downloaded yet. Open a title and choose Download to watch "
                            "it without a network: on a plane, a train, anywhere.")
        self.empty.setObjectName("muted")
        self.empty.setWordWrap(True)
        box.addWidget(self.empty)
        self.back = QPushButton("Back to Home")
        box.addWidget(self.back, 0, Qt.AlignmentFlag.AlignLeft)
        self.list = QWidget()
        self.list_box = QVBoxLayout(self.list)
        self.list_box.setContentsMargins(0, 0, 0, 0)
        self.list_box.setSpacing(12)
        self.scroller = QScrollArea()
        self.scroller.setWidgetResizable(True)
        self.scroller.setFrameShape(QFrame.Shape.NoFrame)
        self.scroller.setWidget(self.list)
        box.addWidget(self.scroller, 1)
        self.rows: list[DownloadRow] = []
        self._snapshot_at = time.monotonic()
        self._tick = QTimer(self, interval=30_000)
        self._tick.timeout.connect(self._refresh_text)
        self._tick.start()
        controller.changed.connect(self.rebuild)
        controller.progress.connect(self._on_progress)
        self.rebuild()

    # --- building ------------------------------------------------------------------------------

    def rebuild(self) -> None:
        focus = self._focus_position()
        for row in self.rows:
            row.setParent(None)
            row.deleteLater()
        self.rows = []
        while self.list_box.count():
            self.list_box.takeAt(0)
        self._snapshot_at = time.monotonic()
        for data in self.controller.rows:
            row = DownloadRow(data)
            row.update_status(self.controller.live.get(data["id"]), 0.0)
            if self.art is not None and data.get("poster_url"):
                row.set_poster(self.art.pixmap(str(data["poster_url"]), POSTER))
            for key, button in row.by_key.items():
                button.clicked.connect(lambda _=False, k=key, r=data: self._press(k, r))
            self.list_box.addWidget(row)
            row.show()  # now, not when the layout next runs: the focus may go to it at once
            self.rows.append(row)
        self.list_box.addStretch(1)
        rows = self.controller.rows
        self.empty.setVisible(not rows)
        self.back.setVisible(not rows)
        used = sum(r["bytes_done"] for r in rows)
        ready = sum(1 for r in rows if r["complete"])
        self.summary.setText(f"{len(rows)} download{'s' if len(rows) != 1 else ''} · "
                             f"{ready} ready · {_mb(used)} on this device" if rows else "")
        if focus is not None and self.isVisible():
            self._restore_focus(*focus)

    def _press(self, key: str, row: dict[str, Any]) -> None:
        c = self.controller
        if key == "play":
            self.play.emit(row)
        elif key == "pause":
            c.pause(row["id"])
        elif key == "resume":
            c.resume(row["id"])
        elif key == "renew":
            c.renew(row["id"])
        elif key == "repair":
            c.repair(row["id"])
        elif key == "delete":
            c.delete(row["id"])

    def _art(self, url: str) -> None:
        for row in self.rows:
            if self.art is not None and row.row.get("poster_url") == url:
                row.set_poster(self.art.pixmap(url, POSTER))

    def _on_progress(self, p: DownloadProgress) -> None:
        for row in self.rows:
            if row.row["id"] == p.id:
                row.row = {**row.row, "state": p.state}
                row.update_status(p, time.monotonic() - self._snapshot_at)

    def _refresh_text(self) -> None:
        delta = time.monotonic() - self._snapshot_at
        for row in self.rows:
            row.update_status(self.controller.live.get(row.row["id"]), delta)

    # --- focus ---------------------------------------------------------------------------------

    def _focus_position(self) -> tuple[str, int] | None:
        for row in self.rows:
            for column, button in enumerate(row.buttons):
                if button.hasFocus():
                    return row.row["id"], column
        return None

    def _restore_focus(self, download_id: str, column: int) -> None:
        for row in self.rows:
            if row.row["id"] == download_id and row.buttons:
                row.buttons[min(column, len(row.buttons) - 1)].setFocus()
                return
        self.focus_default()

    def focus_default(self) -> None:
        if self.rows and self.rows[0].buttons:
            self.rows[0].buttons[0].setFocus()
        else:
            self.back.setFocus()

    def _where(self) -> tuple[int, int] | None:
        for r, row in enumerate(self.rows):
            for c, button in enumerate(row.buttons):
                if button.hasFocus():
                    return r, c
        return None

    def on_action(self, action: Action) -> bool:
        where = self._where()
        if where is None:
            if action == Action.SELECT and self.back.hasFocus():
                self.back.click()
                return True
            if action in (Action.UP, Action.DOWN, Action.LEFT, Action.RIGHT):
                self.focus_default()
                return True
            return False
        r, c = where
        if action == Action.SELECT:
            self.rows[r].buttons[c].click()
            return True
        if action in (Action.UP, Action.DOWN):
            r = max(0, min(len(self.rows) - 1, r + (1 if action == Action.DOWN else -1)))
            buttons = self.rows[r].buttons
            buttons[min(c, len(buttons) - 1)].setFocus()
            self.scroller.ensureWidgetVisible(self.rows[r])
            return True
        if action in (Action.LEFT, Action.RIGHT):
            buttons = self.rows[r].buttons
            buttons[max(0, min(len(buttons) - 1, c + (1 if action == Action.RIGHT else -1)))
                    ].setFocus()
            return True
        return False
