"""The home page's billboard: the focused title's backdrop, name, year / rating / duration,
synopsis, and Play / More info. It follows the focus along the rows.

The backdrop is full-bleed (as on Netflix or Plex): a :class:`Backdrop` owned by the page, under
everything, from the screen's top edge (behind the top bar) to the billboard's foot and to the
right edge; only the text and the buttons keep the overscan-safe margins."""

from __future__ import annotations

from collections import OrderedDict
from typing import Any

from PySide6.QtCore import QRect, QSize, Signal
from PySide6.QtGui import (
    QColor,
    QHideEvent,
    QLinearGradient,
    QMoveEvent,
    QPainter,
    QPixmap,
    QResizeEvent,
    QShowEvent,
)
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
        r = self.image_rect()
        p.fillRect(QRect(0, 0, r.left(), self.height()), QColor(BG))
        p.drawPixmap(r.topLeft(), self._composed())

    KEEP_BYTES = 20 << 20
    """Composed backdrops kept, by size (only the art's part, ``image_rect``, is composed): the
    TV billboard's (1152×434) keep 10, so moving back and forth along a row redraws none; a
    full-screen one (details, post-play; 1152×1080) keeps 4."""

    def _composed(self) -> QPixmap:
        """The backdrop's part of the widget (``image_rect``), cropped, faded and on the page
        colour, made once per (art, size): a D-pad step paints one pixmap instead of scaling
        and blending."""
        dpr = self.devicePixelRatioF()
        full = self.image_rect()
        r = QRect(0, 0, full.width(), full.height())
        size = r.size()
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


class Hero(QWidget):
    """The billboard's text and buttons; its backdrop (``self.backdrop``) is a sibling under it,
    a child of the page, so the art can bleed past the page's margins. The page must not give
    it a layout: the billboard places it, from the page's top-left corner to its own foot and to
    the page's right edge, and shows and hides it with itself.

    Signals:
        play(dict): Play.
        more(dict): More info (the details page).
    """

    play = Signal(dict)
    more = Signal(dict)

    def __init__(self, art: ArtCache, theme: Theme, parent: QWidget) -> None:
        super().__init__(parent)
        self.backdrop = Backdrop(art, parent)
        self.backdrop.lower()
        self.backdrop.hide()
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

    @property
    def url(self) -> str:
        return self.backdrop.url

    def place_backdrop(self) -> None:
        """Under the top bar and the billboard: the page's full width, down to this foot."""
        page = self.backdrop.parentWidget()
        if page is not None:
            self.backdrop.setGeometry(0, 0, page.width(), self.geometry().bottom() + 1)

    def moveEvent(self, event: QMoveEvent) -> None:
        super().moveEvent(event)
        self.place_backdrop()

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self.place_backdrop()

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        self.place_backdrop()
        self.backdrop.show()

    def hideEvent(self, event: QHideEvent) -> None:
        super().hideEvent(event)
        self.backdrop.hide()

    HEIGHT_TV = 300
    """px: a two-line name or a three-line synopsis (220 characters) and the buttons, with
    the next row peeking in under the focused one at 1920×1080."""
    HEIGHT_DESKTOP = 260

    def apply_theme(self, theme: Theme) -> None:
        self.setFixedHeight(self.HEIGHT_TV if theme.tv else self.HEIGHT_DESKTOP)
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
        self.backdrop.set_url(str(title.get("backdrop_url") or ""))
