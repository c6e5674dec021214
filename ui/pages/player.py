"""The player: the video surface with auto-hiding controls (play/pause, seek bar with the
buffered range and a trick-play thumbnail preview, time, quality, audio, subtitles, volume,
fullscreen), the keys people know from mpv, YouTube and Netflix, a resume prompt and the stats
overlay.

On the seek bar, ←/→ scrub: the handle and the thumbnail move at once and the seek is sent when
the keys rest (``SCRUB_COMMIT_MS``) or on Enter; Back cancels the scrub. Held keys speed up."""

from __future__ import annotations

import time
from typing import Any

from PySide6.QtCore import QCoreApplication, QPoint, QPointF, QRectF, Qt, QTimer, Signal
from PySide6.QtGui import (
    QColor,
    QHideEvent,
    QKeyEvent,
    QLinearGradient,
    QMouseEvent,
    QPainter,
    QShowEvent,
)
from PySide6.QtWidgets import QGridLayout, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from ui.models import fmt_clock
from ui.nav import Action
from ui.playback import PlayerController
from ui.stats import StatsOverlay
from ui.theme import ACCENT, Theme
from ui.trickplay import ThumbnailPreview, TrickplayLoader
from ui.widgets import ButtonBar, Page

QUALITY_LABELS = ["240p", "360p", "480p", "720p", "1080p"]
HIDE_AFTER_MS = 3000
SCRUB_COMMIT_MS = 900
"""A key scrub on the seek bar is sent this long after the last ←/→ (or at once on Enter)."""
SCRUB_STEPS_S = ((6, 10.0), (16, 30.0), (10**9, 60.0))
"""(presses in a row, step in s): the first 6 quick presses move 10 s, the next 10 move 30 s,
then 60 s. Presses more than ``SCRUB_RUN_GAP_S`` apart start a new run."""
SCRUB_RUN_GAP_S = 0.5


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
        y = self.height() - 12
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
        radius = thick + (3 if self.hasFocus() or self.scrub_s is not None else 1)
        p.setBrush(QColor("white") if self.hasFocus() or self.scrub_s is not None
                   else QColor(ACCENT))
        p.drawEllipse(QPointF(self.MARGIN + w * fp, y), radius, radius)


class Controls(QWidget):
    """The bottom overlay: seek bar over a row of buttons."""

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
        self.box = QVBoxLayout(self)
        self.box.setContentsMargins(24, 40, 24, 20)
        self.box.addWidget(self.seekbar)
        self.box.addWidget(self.bar)

    def paintEvent(self, event: object) -> None:
        p = QPainter(self)
        grad = QLinearGradient(0, 0, 0, self.height())
        grad.setColorAt(0, QColor(0, 0, 0, 0))
        grad.setColorAt(1, QColor(0, 0, 0, 200))
        p.fillRect(self.rect(), grad)


class PlayerPage(Page):
    """Signals:
        leave(): back to where the user came from.
        toggle_fullscreen(): the f key or the button.
    """

    leave = Signal()
    toggle_fullscreen = Signal()

    def __init__(self, controller: PlayerController, video: QWidget, theme: Theme,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.controller = controller
        self.video = video
        self.theme = theme
        self.setStyleSheet("background: black;")
        grid = QGridLayout(self)
        grid.setContentsMargins(0, 0, 0, 0)
        grid.addWidget(video, 0, 0)
        self.header = QLabel()
        self.header.setStyleSheet("background: transparent; color: white; font-weight: bold;"
                                  "padding: 24px;")
        self.status = QLabel("Loading…")
        self.status.setStyleSheet("background: rgba(0,0,0,140); color: white; padding: 14px;"
                                  "border-radius: 8px;")
        self.status.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.prompt = QWidget()
        self.prompt.setStyleSheet("background: rgba(20,22,28,220); border-radius: 8px;")
        prow = QHBoxLayout(self.prompt)
        self.prompt_text = QLabel()
        self.prompt_restart = QPushButton("Start from the beginning")
        prow.addWidget(self.prompt_text)
        prow.addWidget(self.prompt_restart)
        self.prompt.hide()
        self.controls = Controls()
        self.stats = StatsOverlay()
        self.trickplay = TrickplayLoader(controller.runner, parent=self)
        self.preview = ThumbnailPreview(self)
        self._scrub_commit = QTimer(self, singleShot=True, interval=SCRUB_COMMIT_MS)
        self._scrub_commit.timeout.connect(self.commit_scrub)
        self._scrub_run = 0
        self._scrub_last = 0.0
        grid.addWidget(self.header, 0, 0, Qt.AlignmentFlag.AlignTop)
        grid.addWidget(self.status, 0, 0, Qt.AlignmentFlag.AlignCenter)
        grid.addWidget(self.prompt, 0, 0, Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignRight)
        grid.addWidget(self.stats, 0, 0, Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignRight)
        grid.addWidget(self.controls, 0, 0, Qt.AlignmentFlag.AlignBottom)
        self._hide = QTimer(self, singleShot=True, interval=HIDE_AFTER_MS)
        self._hide.timeout.connect(self.hide_controls)
        self._prompt_timer = QTimer(self, singleShot=True, interval=10000)
        self._prompt_timer.timeout.connect(self.prompt.hide)
        self.setMouseTracking(True)
        c = self.controls
        c.play.clicked.connect(controller.toggle_pause)
        c.back10.clicked.connect(lambda: self.seek_by(-10))
        c.fwd10.clicked.connect(lambda: self.seek_by(10))
        c.seekbar.seek.connect(controller.seek_to)
        c.seekbar.preview.connect(self._on_preview)
        self.trickplay.ready.connect(self._refresh_preview)
        self.trickplay.sprite_loaded.connect(self._refresh_preview)
        app = QCoreApplication.instance()
        if app is not None:  # the loader's HTTP client closes while the engine loop still runs
            app.aboutToQuit.connect(self.trickplay.reset)
        c.quality.clicked.connect(self.cycle_quality)
        c.audio.clicked.connect(self.cycle_audio)
        c.subs.clicked.connect(self.cycle_subtitles)
        c.volume.clicked.connect(controller.toggle_mute)
        c.fullscreen.clicked.connect(self.toggle_fullscreen)
        c.stats.clicked.connect(self.toggle_stats)
        self.prompt_restart.clicked.connect(self._start_over)
        controller.state.connect(self._on_state)
        controller.telemetry.connect(self.stats.on_event)
        controller.state.connect(self.stats.on_state)
        controller.started.connect(self._on_started)
        controller.ended.connect(self._on_ended)
        controller.failed.connect(self._on_failed)
        self.apply_theme(theme)

    def apply_theme(self, theme: Theme) -> None:
        self.theme = theme
        m = theme.margin_px if theme.tv else 24
        self.controls.box.setContentsMargins(m, 40, m, m // 2 if theme.tv else 20)
        self.header.setStyleSheet(f"background: transparent; color: white; font-weight: bold;"
                                  f"font-size: {theme.title_px * 2 // 3}px; padding: {m}px;")
        self.preview.set_thumb_width(360 if theme.tv else 240)
        self.preview.set_font_px(theme.font_px)

    # --- lifecycle -----------------------------------------------------------------------------

    def begin(self, title: dict[str, Any], resume_s: float) -> None:
        self.header.setText(str(title.get("name", "")))
        self.status.setText("Loading…")
        self.status.show()
        self.stats.reset()
        self.trickplay.reset()
        self._scrub_commit.stop()
        self.controls.seekbar.set_scrub(None)
        self.preview.hide()
        self.controls.play.setText("❚❚")
        self._update_labels()
        if resume_s > 1:
            self.prompt_text.setText(f"Resuming from {fmt_clock(resume_s)}")
            self.prompt.show()
            self._prompt_timer.start()
        else:
            self.prompt.hide()
        self.show_controls()

    def _on_started(self) -> None:
        self.status.hide()
        if self.trickplay.index is None:
            self.trickplay.load_session(self.controller.session)
        self._update_labels()
        self.show_controls()

    def _on_ended(self, reason: str) -> None:
        self.status.setText("Finished" if reason == "eof" else "Stopped")
        self.status.show()
        self.controls.play.setText("▶")
        self.show_controls(auto_hide=False)

    def _on_failed(self, exc: object) -> None:
        self.status.setText("Playback stopped")
        self.status.show()
        self.controls.play.setText("▶")
        self.show_controls(auto_hide=False)

    def _on_state(self, s: dict[str, Any]) -> None:
        c = self.controls
        c.seekbar.set_times(s["position_s"], s["duration_s"], s["buffered_end_s"])
        c.time.setText(f"{fmt_clock(s['position_s'])} / {fmt_clock(s['duration_s'])}")
        c.play.setText("▶" if s.get("paused") else "❚❚")
        c.volume.setText("Muted" if s.get("muted") else f"Volume {s.get('volume')}")

    def _update_labels(self) -> None:
        ctl = self.controller
        c = self.controls
        rung = ctl.max_rung
        label = "Auto" if rung is None else (
            QUALITY_LABELS[rung] if rung < len(QUALITY_LABELS) else str(rung))
        c.quality.setText(f"Quality: {label}")
        c.audio.setText(f"Audio: {ctl.audio or '—'}")
        c.subs.setText(f"Subtitles: {ctl.subtitles or 'Off'}")

    def _start_over(self) -> None:
        self.prompt.hide()
        self.controller.seek_to(0)

    # --- the seek bar's preview and key scrubbing ---------------------------------------------

    def _on_preview(self, t_s: object) -> None:
        if not isinstance(t_s, float | int) or not self.controls.isVisible():
            self.preview.hide()
            return
        self.preview.set_preview(self.trickplay.tile(float(t_s)), float(t_s))
        self._place_preview(float(t_s))
        self.preview.show()
        self.preview.raise_()
        self.show_controls()

    def _refresh_preview(self, *_: object) -> None:
        if self.preview.isVisible():
            self._on_preview(self.controls.seekbar.target_s)

    def _place_preview(self, t_s: float) -> None:
        bar = self.controls.seekbar
        at = bar.mapTo(self, QPoint(round(bar.x_for(t_s)), 0))
        w, h = self.preview.width(), self.preview.height()
        edge = self.theme.margin_px if self.theme.tv else 8  # TV: inside the overscan margin
        x = max(edge, min(self.width() - w - edge, at.x() - w // 2))
        self.preview.move(x, max(edge, at.y() - h))

    def scrub_by(self, direction: int) -> None:
        """Move the scrub one step (accelerating while the key is held) and show its picture;
        the seek goes out when the keys rest."""
        bar = self.controls.seekbar
        now = time.monotonic()
        quick = bar.scrub_s is not None and now - self._scrub_last < SCRUB_RUN_GAP_S
        self._scrub_run = self._scrub_run + 1 if quick else 0
        self._scrub_last = now
        step = next(s for n, s in SCRUB_STEPS_S if self._scrub_run < n)
        base = bar.scrub_s if bar.scrub_s is not None else self.controller.position_s
        duration = bar.duration_s or self.controller.duration_s
        if not duration:
            self.seek_by(step * direction)
            return
        bar.duration_s = duration
        bar.set_scrub(max(0.0, min(duration - 0.5, base + step * direction)))
        self._scrub_commit.start()
        self.show_controls()

    def commit_scrub(self) -> None:
        """Send the scrub's seek now (Enter, the keys resting, the focus leaving the bar)."""
        self._scrub_commit.stop()
        self._scrub_run = 0
        bar = self.controls.seekbar
        target = bar.scrub_s
        if target is None:
            return
        bar.position_s = target
        bar.set_scrub(None)
        self.controller.seek_to(target)
        self.show_controls()

    def cancel_scrub(self) -> bool:
        """Back while scrubbing: stay where playback is. True when there was a scrub."""
        self._scrub_commit.stop()
        self._scrub_run = 0
        bar = self.controls.seekbar
        if bar.scrub_s is None:
            return False
        bar.set_scrub(None)
        return True

    # --- controls ------------------------------------------------------------------------------

    def seek_by(self, delta_s: float) -> None:
        self.controller.seek_by(delta_s)
        self.show_controls()

    def cycle_quality(self) -> None:
        options: list[int | None] = [None, *range(len(self.controller.renditions)
                                                  or len(QUALITY_LABELS))]
        i = options.index(self.controller.max_rung) if self.controller.max_rung in options else 0
        self.controller.set_quality(options[(i + 1) % len(options)])
        self._update_labels()

    def _languages(self, key: str) -> list[str]:
        return [str(x.get("language")) for x in self.controller.title.get(key) or []]

    def cycle_audio(self) -> None:
        langs = self._languages("audio")
        if langs:
            cur = self.controller.audio
            i = langs.index(cur) if cur in langs else -1
            self.controller.set_audio(langs[(i + 1) % len(langs)])
        self._update_labels()

    def cycle_subtitles(self) -> None:
        options: list[str | None] = [None, *self._languages("subtitles")]
        cur = self.controller.subtitles
        i = options.index(cur) if cur in options else 0
        self.controller.set_subtitles(options[(i + 1) % len(options)])
        self._update_labels()
        self.show_controls()

    def toggle_stats(self) -> None:
        self.stats.setVisible(not self.stats.isVisible())
        self.stats.raise_()

    def show_controls(self, auto_hide: bool = True) -> None:
        self.controls.show()
        self.header.show()
        self.setCursor(Qt.CursorShape.ArrowCursor)
        if auto_hide and self.controller.playing:
            self._hide.start()
        else:
            self._hide.stop()

    def hide_controls(self) -> None:
        if not self.controller.playing or self.controller.paused:
            return
        if self.controls.seekbar.target_s is not None:  # pointing at or scrubbing the bar
            self._hide.start()
            return
        self.preview.hide()
        focus_in_controls = self.controls.isAncestorOf(self.focusWidget())
        self.controls.hide()
        self.header.hide()
        self.setCursor(Qt.CursorShape.BlankCursor)
        if focus_in_controls:
            self.setFocus()

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        self.show_controls()

    def hideEvent(self, event: QHideEvent) -> None:
        """Leaving the player lets the thumbnails go (and their HTTP client)."""
        if not event.spontaneous():
            self.trickplay.reset()
            self.preview.hide()
        super().hideEvent(event)

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if self.controller.playing and self.trickplay.index is None:
            self.trickplay.load_session(self.controller.session)

    def focus_default(self) -> None:
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setFocus()

    # --- keys ----------------------------------------------------------------------------------

    def on_key(self, event: QKeyEvent) -> bool:
        """Keys that are not D-pad actions: space/k, f, m, c, i, Ctrl+Shift+Alt+D."""
        key = event.key()
        mods = event.modifiers()
        combo = (Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier
                 | Qt.KeyboardModifier.AltModifier)
        if key == Qt.Key.Key_D and (mods & combo) == combo:
            self.toggle_stats()
            return True
        if mods & (Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.AltModifier):
            return False
        if key in (Qt.Key.Key_Space, Qt.Key.Key_K):
            if key == Qt.Key.Key_Space and isinstance(self.focusWidget(), QPushButton) \
                    and self.controls.isVisible():
                return False  # space on a focused button presses it
            self.controller.toggle_pause()
            self.show_controls()
            return True
        simple = {Qt.Key.Key_F: self.toggle_fullscreen.emit, Qt.Key.Key_M: self._mute,
                  Qt.Key.Key_C: self.cycle_subtitles, Qt.Key.Key_I: self.toggle_stats,
                  Qt.Key.Key_J: lambda: self.seek_by(-10), Qt.Key.Key_L: lambda: self.seek_by(10),
                  Qt.Key.Key_VolumeUp: lambda: self._volume(5),
                  Qt.Key.Key_VolumeDown: lambda: self._volume(-5),
                  Qt.Key.Key_VolumeMute: self._mute}
        fn = simple.get(Qt.Key(key))
        if fn is not None:
            fn()
            return True
        return False

    def _mute(self) -> None:
        self.controller.toggle_mute()
        self.show_controls()

    def _volume(self, step: int) -> None:
        self.controller.set_volume(self.controller.volume + step)
        self.show_controls()

    def on_action(self, action: Action) -> bool:
        c = self.controls
        in_bar = c.isVisible() and c.bar.contains_focus()
        on_seek = c.isVisible() and c.seekbar.hasFocus()
        prompt_focus = self.prompt.isVisible() and self.prompt_restart.hasFocus()
        if action == Action.PLAY_PAUSE:
            self.controller.toggle_pause()
            self.show_controls()
            return True
        if action == Action.STOP:
            self.leave.emit()
            return True
        if prompt_focus and action == Action.SELECT:
            self.prompt_restart.click()
            self.setFocus()
            return True
        if in_bar:
            self.show_controls()
            if action == Action.UP:
                c.seekbar.setFocus()
                return True
            if action == Action.DOWN:
                self.setFocus()
                self.hide_controls()
                return True
            return c.bar.on_action(action)
        if on_seek:
            self.show_controls()
            if action in (Action.LEFT, Action.RIGHT):
                self.scrub_by(1 if action == Action.RIGHT else -1)
                return True
            if action == Action.DOWN:
                self.commit_scrub()
                c.bar.focus_first()
                return True
            if action == Action.UP:
                self.commit_scrub()
                if self.prompt.isVisible():
                    self.prompt_restart.setFocus()
                return True
            if action == Action.SELECT:
                if c.seekbar.scrub_s is not None:
                    self.commit_scrub()
                else:
                    self.controller.toggle_pause()
                return True
            if action == Action.BACK and self.cancel_scrub():
                return True
        if action in (Action.LEFT, Action.RIGHT):
            self.seek_by(10 if action == Action.RIGHT else -10)
            return True
        if action in (Action.UP, Action.DOWN):
            if self.theme.tv:  # the 10-foot remote: up/down bring up the controls
                self.show_controls()
                (c.seekbar if action == Action.UP else c.play).setFocus()
            else:
                self._volume(5 if action == Action.UP else -5)
            return True
        if action == Action.SELECT:
            if self.prompt.isVisible() and self.theme.tv:
                self.prompt_restart.setFocus()
                self.show_controls()
                return True
            self.controller.toggle_pause()
            self.show_controls()
            return True
        if action == Action.BACK:
            self.leave.emit()
            return True
        return False
