"""One ``QStyledItemDelegate`` per tile kind: posters (genre rows, search), Continue Watching
(poster + progress bar + time left + a small "pending" marker while this device's progress has
not reached the server), profile avatars. They paint the artwork from
:class:`ui.artwork.ArtCache` (a placeholder until it arrives), the title and the focus ring."""

from __future__ import annotations

import hashlib
from collections import OrderedDict

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QRect, QRectF, QSize, Qt
from PySide6.QtGui import (
    QColor,
    QFont,
    QLinearGradient,
    QPainter,
    QPainterPath,
    QPen,
    QPixmap,
)
from PySide6.QtWidgets import QStyle, QStyledItemDelegate, QStyleOptionViewItem, QWidget

from ui import theme as th
from ui.artwork import ArtCache
from ui.models import Role

Index = QModelIndex | QPersistentModelIndex


def _placeholder_color(seed: str) -> QColor:
    digest = hashlib.md5(seed.encode()).digest()
    return QColor.fromHsv(digest[0] * 360 // 256, 120, 90)


def _focused(option: QStyleOptionViewItem) -> bool:
    return bool(option.state & QStyle.StateFlag.State_HasFocus)


class PosterDelegate(QStyledItemDelegate):
    """A 2:3 poster with the title and a second line under it."""

    OVERLAY = False
    """Whether :meth:`paint_overlay` draws (inside the poster's rounded corners)."""

    def __init__(self, art: ArtCache, theme: th.Theme, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.art = art
        self.theme = theme
        self._round_cache: OrderedDict[tuple[int, int, float], QPixmap] = OrderedDict()

    def sizeHint(self, option: QStyleOptionViewItem, index: Index) -> QSize:
        return QSize(self.theme.tile_w, self.theme.tile_h)

    def poster_rect(self, option: QStyleOptionViewItem) -> QRect:
        """The poster's place; the focused one grows about its centre (``RowView.grow``)."""
        t = self.theme
        r = option.rect
        pad = t.grow_pad
        rect = QRect(r.x() + (t.tile_w - t.poster_w) // 2 + 1, r.y() + pad + 1, t.poster_w - 2,
                     t.poster_h - 2)
        if _focused(option):
            grow = float(getattr(option.widget, "grow", 1.0))
            scale = 1 + (th.GROW - 1) * grow
            dw = round(rect.width() * (scale - 1) / 2)
            dh = round(rect.height() * (scale - 1) / 2)
            rect = rect.adjusted(-dw, -dh, dw, dh)
        return rect

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: Index) -> None:
        t = self.theme
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        poster = self.poster_rect(option)
        radius = max(4, t.poster_w // 24)
        url = str(index.data(Role.POSTER_URL) or "")
        widget = option.widget
        dpr = widget.devicePixelRatioF() if widget is not None else 1.0
        # Art at the resting poster size only: the focused tile's growth scales it while
        # drawing, so the enlarge animation never asks the cache for a size per frame.
        size = QSize(round((t.poster_w - 2) * dpr), round((t.poster_h - 2) * dpr))
        pixmap = self.art.pixmap(url, size) if url else None
        if pixmap is not None:
            rounded = self._rounded(pixmap, round(radius * dpr), dpr)
            if poster.width() != round(size.width() / dpr):
                painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
            painter.drawPixmap(poster, rounded)
            if self.OVERLAY:
                path = QPainterPath()
                path.addRoundedRect(QRectF(poster), radius, radius)
                painter.setClipPath(path)
        else:
            path = QPainterPath()
            path.addRoundedRect(QRectF(poster), radius, radius)
            painter.setClipPath(path)
            base = _placeholder_color(str(index.data(Role.ID) or ""))
            grad = QLinearGradient(poster.topLeft(), poster.bottomRight())
            grad.setColorAt(0, base.lighter(130))
            grad.setColorAt(1, base.darker(200))
            painter.fillRect(poster, grad)
            painter.setPen(QColor(th.TEXT))
            painter.setFont(t.font(t.font_px + 2, bold=True))
            painter.drawText(poster.adjusted(8, 8, -8, -8),
                             Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap,
                             str(index.data() or ""))
        self.paint_overlay(painter, poster, index)
        painter.setClipping(False)
        focused = _focused(option)
        if focused:
            pen = QPen(t.focus_color, t.focus_px)
            painter.setPen(pen)
            painter.setBrush(Qt.BrushStyle.NoBrush)
            half = t.focus_px / 2
            painter.drawRoundedRect(QRectF(poster).adjusted(-half, -half, half, half),
                                    radius + half, radius + half)
        text_top = option.rect.y() + t.grow_pad * 2 + t.poster_h + 4
        width = t.poster_w
        left = option.rect.x() + (t.tile_w - t.poster_w) // 2
        painter.setPen(QColor(th.TEXT if focused else "#d7d9de"))
        font = t.font(t.font_px, bold=focused)
        painter.setFont(font)
        metrics = painter.fontMetrics()
        if pixmap is None:  # the art carries the name: print it only while there is none
            name = metrics.elidedText(str(index.data() or ""), Qt.TextElideMode.ElideRight,
                                      width)
            painter.drawText(QRect(left, text_top, width, metrics.height()),
                             Qt.AlignmentFlag.AlignLeft, name)
            text_top += metrics.height()
        painter.setPen(QColor(th.TEXT if focused else th.MUTED))
        small = QFont(font)
        small.setBold(False)
        small.setPixelSize(max(11, t.font_px - 3))
        painter.setFont(small)
        sub = painter.fontMetrics().elidedText(str(index.data(Role.SUBTITLE) or ""),
                                               Qt.TextElideMode.ElideRight, width)
        painter.drawText(QRect(left, text_top, width, painter.fontMetrics().height()),
                         Qt.AlignmentFlag.AlignLeft, sub)
        painter.restore()

    def paint_overlay(self, painter: QPainter, poster: QRect, index: Index) -> None:
        """What a tile kind draws over its poster (nothing here)."""

    ROUNDED_KEEP = 160
    """Rounded posters kept (a screenful of rows many times over)."""

    def _rounded(self, pixmap: QPixmap, radius: int, dpr: float = 1.0) -> QPixmap:
        """The poster with its corners cut (transparent: a row may sit on a backdrop, as More
        like this does), made once per pixmap: painting it needs no antialiased clip path, the
        costliest part of a tile."""
        key = (pixmap.cacheKey(), radius, dpr)
        found = self._round_cache.get(key)
        if found is not None:
            self._round_cache.move_to_end(key)
            return found
        out = QPixmap(pixmap.size())
        out.fill(Qt.GlobalColor.transparent)
        p = QPainter(out)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        path = QPainterPath()
        path.addRoundedRect(QRectF(out.rect()), radius, radius)
        p.setClipPath(path)
        p.drawPixmap(0, 0, pixmap)
        p.end()
        out.setDevicePixelRatio(dpr)  # at rest a 1:1 blit on a HiDPI screen too
        self._round_cache[key] = out
        while len(self._round_cache) > self.ROUNDED_KEEP:
            self._round_cache.popitem(last=False)
        return out


class ContinueDelegate(PosterDelegate):
    """Continue Watching: the poster with a progress bar across its foot."""

    OVERLAY = True

    def paint_overlay(self, painter: QPainter, poster: QRect, index: Index) -> None:
        fraction = index.data(Role.PROGRESS)
        if fraction is None:
            return
        h = max(5, self.theme.focus_px + 2)
        shade = QLinearGradient(0, poster.bottom() - 40, 0, poster.bottom())
        shade.setColorAt(0, QColor(0, 0, 0, 0))
        shade.setColorAt(1, QColor(0, 0, 0, 190))
        painter.fillRect(QRect(poster.left(), poster.bottom() - 40, poster.width(), 41), shade)
        track = QRect(poster.left() + 8, poster.bottom() - h - 8, poster.width() - 16, h)
        painter.fillRect(track, QColor(255, 255, 255, 70))
        done = QRect(track.left(), track.top(), round(track.width() * float(fraction)), h)
        painter.fillRect(done, QColor(th.ACCENT))
        if index.data(Role.SYNC) == "pending":
            self.paint_pending(painter, poster)

    def paint_pending(self, painter: QPainter, poster: QRect) -> None:
        """A small "pending" pill in the top-right corner: not synced yet."""
        font = self.theme.font(max(10, self.theme.font_px - 5), bold=True)
        painter.setFont(font)
        text = "pending"
        w = painter.fontMetrics().horizontalAdvance(text) + 12
        h = painter.fontMetrics().height() + 4
        pill = QRect(poster.right() - w - 6, poster.top() + 6, w, h)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(QColor(0, 0, 0, 170))
        painter.drawRoundedRect(pill, h / 2, h / 2)
        painter.setPen(QColor("#f5b041"))
        painter.drawText(pill, Qt.AlignmentFlag.AlignCenter, text)


class ProfileDelegate(QStyledItemDelegate):
    """A round avatar in the profile's colour with its initial, the name under it."""

    def __init__(self, theme: th.Theme, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.theme = theme

    def sizeHint(self, option: QStyleOptionViewItem, index: Index) -> QSize:
        side = self.theme.poster_w
        return QSize(side + 40, side + self.theme.font_px * 3)

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: Index) -> None:
        t = self.theme
        r: QRect = option.rect
        side = t.poster_w - 2 * t.focus_px
        avatar = QRect(r.x() + (r.width() - side) // 2, r.y() + t.focus_px * 2, side, side)
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(QColor(str(index.data(Role.COLOR) or th.ACCENT)))
        painter.drawRoundedRect(avatar, side // 8, side // 8)
        is_add = index.data(Role.ID) == "__add__"
        painter.setPen(QColor(th.TEXT))
        painter.setFont(t.font(side // 2, bold=True))
        initial = "+" if is_add else str(index.data() or "?")[:1].upper()
        painter.drawText(avatar, Qt.AlignmentFlag.AlignCenter, initial)
        focused = _focused(option)
        if focused:
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.setPen(QPen(t.focus_color, t.focus_px))
            painter.drawRoundedRect(avatar.adjusted(-t.focus_px, -t.focus_px, t.focus_px,
                                                    t.focus_px), side // 8 + 2, side // 8 + 2)
        painter.setPen(QColor(th.TEXT if focused else th.MUTED))
        painter.setFont(t.font(t.font_px + 2, bold=focused))
        painter.drawText(QRect(r.x(), avatar.bottom() + t.focus_px * 2 + 6, r.width(),
                               t.font_px * 2), Qt.AlignmentFlag.AlignHCenter,
                         str(index.data() or ""))
        painter.restore()
