"""The player's overlays: the seek bar, the controls (desktop bar or the minimal TV OSD) and the
volume indicator. The side panel and post-play are in :mod:`ui.pages.player_panels`."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QPointF, QRectF, Qt, QTimer, Signal
from PySide6.QtGui import QColor, QLinearGradient, QMouseEvent, QPainter, QPen
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from ui.models import fmt_clock
from ui.theme import ACCENT
from ui.widgets import ButtonBar

Option = tuple[str, Any, bool]
"""(label, value, selected)"""


class SeekBar(QWidget):
    """Played part, buffered range and a handle; the time under the pointer (hover) or where a
    drag or a key scrub would land (``scrub_s``) is announced for the preview bubble.

    Signals:
        seek(float): seek to this position (s).
        preview(object): the time (s) to preview, or None: no preview.
    """

    seek = Signal(float)
    preview = Signal(object)

    MARGIN = 8

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.position_s = 0.0
        self.duration_s = 0.0
        self.buffered_end_s = 0.0
        self.hover_s: float | None = None
        self.scrub_s: float | None = None
        """Where a drag or the keys would seek to (not yet sent); None when not scrubbing."""
        self._dragging = False
        self.setMouseTracking(True)
        self.setFixedHeight(34)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)

    def set_times(self, position_s: float, duration_s: float, buffered_end_s: float) -> None:
        self.position_s, self.duration_s, self.buffered_end_s = position_s, duration_s, \
            buffered_end_s
        self.update()

    @property
    def target_s(self) -> float | None:
        """The time to preview: the scrub, else the pointer; None for neither."""
        if not self.duration_s:
            return None
        return self.scrub_s if self.scrub_s is not None else self.hover_s

    def set_scrub(self, scrub_s: float | None) -> None:
        self.scrub_s = None if scrub_s is None else max(0.0, min(self.duration_s, scrub_s))
        self.update()
        self.preview.emit(self.target_s)

    def x_for(self, t_s: float) -> float:
        """The x (widget coordinates) of ``t_s`` on the track."""
        w = self.width() - 2 * self.MARGIN
        return self.MARGIN + (w * t_s / self.duration_s if self.duration_s else 0.0)

    def _x_to_s(self, x: float) -> float:
        w = max(1, self.width() - 2 * self.MARGIN)
        return max(0.0, min(1.0, (x - self.MARGIN) / w)) * self.duration_s

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        self.hover_s = self._x_to_s(event.position().x())
        if self._dragging:
            self.scrub_s = self.hover_s
        self.update()
        self.preview.emit(self.target_s)

    def leaveEvent(self, event: object) -> None:
        self.hover_s = None
        self.update()
        self.preview.emit(self.target_s)

    def mousePressEvent(self, event: QMouseEvent) -> None:
        if self.duration_s and event.button() == Qt.MouseButton.LeftButton:
            self._dragging = True
            self.set_scrub(self._x_to_s(event.position().x()))

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        if self._dragging and event.button() == Qt.MouseButton.LeftButton:
            self._dragging = False
            target = self.scrub_s
            if target is not None:
                self.position_s = target
                self.set_scrub(None)
                self.seek.emit(target)

    def paintEvent(self, event: object) -> None:
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        w = self.width() - 2 * self.MARGIN
        y = self.height() // 2 if self.height() > 40 else self.height() - 12
        thick = 8 if self.hasFocus() else 5
        track = QRectF(self.MARGIN, y - thick / 2, w, thick)
        p.setPen(Qt.PenStyle.NoPen)
        p.setBrush(QColor(255, 255, 255, 60))
        p.drawRoundedRect(track, thick / 2, thick / 2)
        if self.duration_s <= 0:
            return
        shown_s = self.scrub_s if self.scrub_s is not None else self.position_s
        fb = min(1.0, self.buffered_end_s / self.duration_s)
        fp = min(1.0, shown_s / self.duration_s)
        p.setBrush(QColor(255, 255, 255, 120))
        p.drawRoundedRect(QRectF(self.MARGIN, track.top(), w * fb, thick), thick / 2, thick / 2)
        p.setBrush(QColor(ACCENT))
        p.drawRoundedRect(QRectF(self.MARGIN, track.top(), w * fp, thick), thick / 2, thick / 2)
        if self.hover_s is not None and self.scrub_s is None:
            p.setBrush(QColor(255, 255, 255, 230))
            p.drawRect(QRectF(self.x_for(self.hover_s) - 1, track.top() - 2, 2, thick + 4))
        if self.hasFocus():  # the focus ring, as on every focusable item
            p.setBrush(Qt.BrushStyle.NoBrush)
            p.setPen(QPen(QColor("white"), 3))
            p.drawRoundedRect(QRectF(self.rect()).adjusted(2, 2, -2, -2), 8, 8)
            p.setPen(Qt.PenStyle.NoPen)
        radius = thick + (3 if self.hasFocus() or self.scrub_s is not None else 1)
        p.setBrush(QColor("white") if self.hasFocus() or self.scrub_s is not None
                   else QColor(ACCENT))
        p.drawEllipse(QPointF(self.MARGIN + w * fp, y), radius, radius)


class Controls(QWidget):
    """The bottom overlay: seek bar over a row of buttons (desktop), or the minimal TV OSD:
    the seek bar over the time and a hint (the side panel has the rest)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.seekbar = SeekBar()
        self.play = QPushButton("❚❚")
        self.back10 = QPushButton("« 10")
        self.fwd10 = QPushButton("10 »")
        self.time = QLabel("0:00 / 0:00")
        self.time.setStyleSheet("background: transparent;")  # over the video, not a black box
        self.quality = QPushButton("Quality: Auto")
        self.audio = QPushButton("Audio")
        self.subs = QPushButton("Subtitles: Off")
        self.volume = QPushButton("Volume 100")
        self.fullscreen = QPushButton("Fullscreen")
        self.stats = QPushButton("Stats")
        self.bar = ButtonBar(spacing=8)
        for b in (self.play, self.back10, self.fwd10):
            self.bar.add(b)
        self.bar.row.addWidget(self.time)
        self.bar.row.addStretch(1)
        for b in (self.quality, self.audio, self.subs, self.volume, self.fullscreen, self.stats):
            self.bar.add(b)
        self.osd = QWidget()
        self.osd.setObjectName("osd")
        self.osd.setStyleSheet("QWidget#osd { background: transparent; }")
        osd_row = QHBoxLayout(self.osd)
        osd_row.setContentsMargins(0, 0, 0, 0)
        self.osd_time = QLabel("0:00 / 0:00")
        self.osd_hint = QLabel("↓  Audio · Subtitles · Quality")
        for label in (self.osd_time, self.osd_hint):
            label.setStyleSheet("background: transparent; color: white;")
        osd_row.addWidget(self.osd_time)
        osd_row.addStretch(1)
        osd_row.addWidget(self.osd_hint)
        self.osd.hide()
        self.box = QVBoxLayout(self)
        self.box.setContentsMargins(24, 40, 24, 20)
        self.box.addWidget(self.seekbar)
        self.box.addWidget(self.bar)
        self.box.addWidget(self.osd)
        self.tv = False

    def set_tv(self, tv: bool, font_px: int) -> None:
        """TV: the minimal OSD (no buttons: a remote drives the player with its keys)."""
        self.tv = tv
        self.bar.setVisible(not tv)
        self.osd.setVisible(tv)
        self.seekbar.setFixedHeight(48 if tv else 34)
        for label in (self.osd_time, self.osd_hint):
            label.setStyleSheet(f"background: transparent; color: white; font-size: {font_px}px;")

    def set_time(self, position_s: float, duration_s: float) -> None:
        text = f"{fmt_clock(position_s)} / {fmt_clock(duration_s)}"
        self.time.setText(text)
        self.osd_time.setText(text)

    def paintEvent(self, event: object) -> None:
        p = QPainter(self)
        grad = QLinearGradient(0, 0, 0, self.height())
        grad.setColorAt(0, QColor(0, 0, 0, 0))
        grad.setColorAt(0.45, QColor(0, 0, 0, 150))
        grad.setColorAt(1, QColor(0, 0, 0, 215))
        p.fillRect(self.rect(), grad)


class OsdHeader(QLabel):
    """The title at the top of the OSD on a scrim that fades from dark into the picture, as the
    controls' does at the foot: readable at 3 m over any frame (the burned-in text of a bright
    one too). The text sits inside ``margin`` (overscan in TV mode); the scrim reaches the
    screen's edge and fades out below the text."""

    SCRIM_ALPHA = 215

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
        self.set_look(24, 20)

    def set_look(self, margin: int, font_px: int) -> None:
        """Padding ``margin`` on every side but the foot, where the scrim's fade needs room."""
        self.setStyleSheet(f"background: transparent; color: white; font-weight: bold;"
                           f"font-size: {font_px}px; padding: {margin}px {margin}px 0 {margin}px;")
        self.setFixedHeight(margin + round(font_px * 1.3) + max(margin, font_px) * 2)

    def paintEvent(self, event: Any) -> None:
        p = QPainter(self)
        grad = QLinearGradient(0, 0, 0, self.height())
        grad.setColorAt(0, QColor(0, 0, 0, self.SCRIM_ALPHA))
        grad.setColorAt(0.55, QColor(0, 0, 0, self.SCRIM_ALPHA * 2 // 3))
        grad.setColorAt(1, QColor(0, 0, 0, 0))
        p.fillRect(self.rect(), grad)
        p.end()
        super().paintEvent(event)


class VolumeIndicator(QWidget):
    """"Volume 75 %" with a bar, for a moment after every change (or "Muted")."""

    SHOW_MS = 1500

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        self.volume = 100
        self.muted = False
        self.font_px = 15
        self._timer = QTimer(self, singleShot=True, interval=self.SHOW_MS)
        self._timer.timeout.connect(self.hide)
        self.hide()

    def text(self) -> str:
        return "Muted" if self.muted else f"Volume {self.volume} %"

    def set_font_px(self, px: int) -> None:
        self.font_px = px
        self.setFixedSize(px * 16, px * 3)

    def show_volume(self, volume: int, muted: bool) -> None:
        self.volume, self.muted = volume, muted
        self.show()
        self.raise_()
        self.update()
        self._timer.start()

    def paintEvent(self, event: object) -> None:
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        p.setPen(Qt.PenStyle.NoPen)
        p.setBrush(QColor(10, 12, 16, 215))
        p.drawRoundedRect(QRectF(self.rect()), self.font_px / 2, self.font_px / 2)
        px = self.font_px
        font = p.font()
        font.setPixelSize(px)
        font.setBold(True)
        p.setFont(font)
        p.setPen(QColor("white"))
        text_w = px * 7
        p.drawText(QRectF(px, 0, text_w, self.height()), Qt.AlignmentFlag.AlignVCenter,
                   self.text())
        track = QRectF(px * 2 + text_w, self.height() / 2 - px / 4,
                       self.width() - text_w - px * 3, px / 2)
        p.setPen(Qt.PenStyle.NoPen)
        p.setBrush(QColor(255, 255, 255, 60))
        p.drawRoundedRect(track, px / 4, px / 4)
        level = 0 if self.muted else self.volume / 100
        p.setBrush(QColor("white"))
        p.drawRoundedRect(QRectF(track.left(), track.top(), track.width() * level,
                                 track.height()), px / 4, px / 4)
