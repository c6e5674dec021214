"""The home page's billboard: the focused title's backdrop, name, year / rating / duration,
synopsis, and Play / More info. It follows the focus along the rows."""

from __future__ import annotations

from collections import OrderedDict
from typing import Any

from PySide6.QtCore import QRect, QSize, Signal
from PySide6.QtGui import QColor, QLinearGradient, QPainter, QPixmap
from PySide6.QtWidgets import QLabel, QPushButton, QVBoxLayout, QWidget

from ui.artwork import ArtCache
from ui.models import fmt_duration
from ui.theme import BG, Theme
from ui.widgets import ButtonBar

JSON = dict[str, Any]


def meta_line(title: JSON) -> str:
    genres = ", ".join(str(g) for g in title.get("genres") or [])
    parts = [str(title.get("year") or ""), str(title.get("maturity_rating") or ""),
             fmt_duration(float(title.get("duration_s") or 0)) if title.get("duration_s")
             else "", genres]
    return "   ·   ".join(p for p in parts if p)


ART_KEEP = 0.4
"""The right part of a backdrop that is drawn: the catalog's art prints the title and synopsis
on its left, and the page prints them already."""


class Backdrop(QWidget):
    """The right part (``ART_KEEP``) of a 16:9 backdrop on the widget's right side, faded into
    the page on the left and at the foot (the text stays readable next to it)."""

    def __init__(self, art: ArtCache, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.art = art
        self.url = ""
        self._cache: OrderedDict[tuple[int, int, int, float], QPixmap] = OrderedDict()
        art.loaded.connect(self._loaded)

    def set_url(self, url: str) -> None:
        if url != self.url:
            self.url = url
            self.update()

    def _loaded(self, url: str) -> None:
        if url == self.url:
            self.update()

    def image_rect(self) -> QRect:
        w = round(self.width() * 0.6)
        return QRect(self.width() - w, 0, w, self.height())

    def paintEvent(self, event: object) -> None:
        p = QPainter(self)
        p.drawPixmap(0, 0, self._composed())

    KEEP_BYTES = 20 << 20
    """Composed backdrops kept, by size: the billboard's (1920×360) keep 7, so moving back and
    forth along a row redraws none; a full-screen one (details, post-play) keeps 2."""

    def _composed(self) -> QPixmap:
        """The backdrop cropped, faded and on the page colour at this size, made once per
        (art, size): a D-pad step paints one pixmap instead of scaling and blending."""
        size = self.size()
        dpr = self.devicePixelRatioF()
        r = self.image_rect()
        full_w = max(1, round(r.width() / ART_KEEP))
        full_h = max(r.height(), round(full_w * 9 / 16))
        pixmap = self.art.pixmap(self.url, QSize(full_w, full_h)) if self.url else None
        key = (pixmap.cacheKey() if pixmap is not None else 0, size.width(), size.height(), dpr)
        found = self._cache.get(key)
        if found is not None:
            self._cache.move_to_end(key)
            return found
        out = QPixmap(round(size.width() * dpr), round(size.height() * dpr))
        out.setDevicePixelRatio(dpr)
        out.fill(QColor(BG))
        p = QPainter(out)
        if pixmap is not None:
            p.drawPixmap(r, pixmap, QRect(pixmap.width() - r.width(),
                                          (pixmap.height() - r.height()) // 2,
                                          r.width(), r.height()))
        bg = QColor(BG)
        clear = QColor(bg)
        clear.setAlpha(0)
        left = QLinearGradient(r.left(), 0, r.left() + r.width() * 0.6, 0)
        left.setColorAt(0, bg)
        left.setColorAt(1, clear)
        p.fillRect(r, left)
        foot = QLinearGradient(0, r.bottom() - r.height() * 0.35, 0, r.bottom() + 1)
        foot.setColorAt(0, clear)
        foot.setColorAt(1, bg)
        p.fillRect(r, foot)
        p.end()
        self._cache[key] = out
        while len(self._cache) > 1 and sum(
                c.width() * c.height() * 4 for c in self._cache.values()) > self.KEEP_BYTES:
            self._cache.popitem(last=False)
        return out


class Hero(Backdrop):
    """Signals:
        play(dict): Play.
        more(dict): More info (the details page).
    """

    play = Signal(dict)
    more = Signal(dict)

    def __init__(self, art: ArtCache, theme: Theme, parent: QWidget | None = None) -> None:
        super().__init__(art, parent)
        self.title_json: JSON = {}
        self.name = QLabel()
        self.name.setObjectName("h1")
        self.name.setWordWrap(True)
        self.meta = QLabel()
        self.meta.setObjectName("muted")
        self.synopsis = QLabel()
        self.synopsis.setWordWrap(True)
        self.play_button = QPushButton("▶  Play")
        self.play_button.setObjectName("primary")
        self.more_button = QPushButton("More info")
        self.buttons = ButtonBar([self.play_button, self.more_button])
        self.buttons.row.addStretch(1)
        self.box = QVBoxLayout(self)
        self.box.setContentsMargins(0, 0, 0, 0)
        self.box.addStretch(1)
        for w in (self.name, self.meta, self.synopsis):
            self.box.addWidget(w)
        self.box.addSpacing(12)
        self.box.addWidget(self.buttons)
        self.play_button.clicked.connect(lambda: self.play.emit(self.title_json))
        self.more_button.clicked.connect(lambda: self.more.emit(self.title_json))
        self.apply_theme(theme)

    def apply_theme(self, theme: Theme) -> None:
        self.setFixedHeight(360 if theme.tv else 260)
        text_w = theme.title_px * 16
        for w in (self.name, self.meta, self.synopsis):
            w.setMaximumWidth(text_w)

    def show_title(self, title: JSON) -> None:
        if title is self.title_json or not title:
            return
        self.title_json = title
        self.name.setText(str(title.get("name", "")))
        self.meta.setText(meta_line(title))
        synopsis = str(title.get("synopsis") or "")
        self.synopsis.setText(synopsis if len(synopsis) < 220 else synopsis[:217] + "…")
        progress = title.get("progress") or {}
        resume = isinstance(progress, dict) and float(progress.get("position_s") or 0) > 0 \
            and not progress.get("watched")
        self.play_button.setText("▶  Resume" if resume else "▶  Play")
        self.set_url(str(title.get("backdrop_url") or ""))
