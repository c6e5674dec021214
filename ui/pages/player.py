"""The player: the video surface with auto-hiding controls (play/pause, seek bar with the
buffered range and a time preview, time, quality, audio, subtitles, volume, fullscreen), the
keys people know from mpv, YouTube and Netflix, a resume prompt and the stats overlay."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QPointF, QRectF, Qt, QTimer, Signal
from PySide6.QtGui import QColor, QKeyEvent, QLinearGradient, QMouseEvent, QPainter
from PySide6.QtWidgets import QGridLayout, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from ui.models import fmt_clock
from ui.nav import Action
from ui.playback import PlayerController
from ui.stats import StatsOverlay
from ui.theme import ACCENT, Theme
from ui.widgets import ButtonBar, Page

QUALITY_LABELS = ["240p", "360p", "480p", "720p", "1080p"]
HIDE_AFTER_MS = 3000


class SeekBar(QWidget):
    """Played part, buffered range, a handle, and the time under the pointer or the focus.

    Signals:
        seek(float): seek to this position (s).
    """

    seek = Signal(float)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.position_s = 0.0
        self.duration_s = 0.0
        self.buffered_end_s = 0.0
        self.hover_s: float | None = None
        self.setMouseTracking(True)
        self.setFixedHeight(34)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)

    def set_times(self, position_s: float, duration_s: float, buffered_end_s: float) -> None:
        self.position_s, self.duration_s, self.buffered_end_s = position_s, duration_s, \
            buffered_end_s
        self.update()

    def _x_to_s(self, x: float) -> float:
        return max(0.0, min(1.0, (x - 8) / max(1, self.width() - 16))) * self.duration_s

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        self.hover_s = self._x_to_s(event.position().x())
        self.update()

    def leaveEvent(self, event: object) -> None:
        self.hover_s = None
        self.update()

    def mousePressEvent(self, event: QMouseEvent) -> None:
        if self.duration_s:
            self.seek.emit(self._x_to_s(event.position().x()))

    def paintEvent(self, event: object) -> None:
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        w = self.width() - 16
        y = self.height() - 12
        thick = 8 if self.hasFocus() else 5
        track = QRectF(8, y - thick / 2, w, thick)
        p.setPen(Qt.PenStyle.NoPen)
        p.setBrush(QColor(255, 255, 255, 60))
        p.drawRoundedRect(track, thick / 2, thick / 2)
        if self.duration_s > 0:
            fb = min(1.0, self.buffered_end_s / self.duration_s)
            fp = min(1.0, self.position_s / self.duration_s)
            p.setBrush(QColor(255, 255, 255, 120))
            p.drawRoundedRect(QRectF(8, track.top(), w * fb, thick), thick / 2, thick / 2)
            p.setBrush(QColor(ACCENT))
            p.drawRoundedRect(QRectF(8, track.top(), w * fp, thick), thick / 2, thick / 2)
            radius = thick + (3 if self.hasFocus() else 1)
            if self.hasFocus():
                p.setBrush(QColor("white"))
            p.drawEllipse(QPointF(8 + w * fp, y), radius, radius)
            if self.hover_s is not None:
                x = 8 + w * self.hover_s / self.duration_s
                text = fmt_clock(self.hover_s)
                p.setPen(QColor("white"))
                p.drawText(QRectF(x - 40, 0, 80, 16), Qt.AlignmentFlag.AlignCenter, text)


class Controls(QWidget):
    """The bottom overlay: seek bar over a row of buttons."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.seekbar = SeekBar()
        self.play = QPushButton("❚❚")
        self.back10 = QPushButton("« 10")
        self.fwd10 = QPushButton("10 »")
        self.time = QLabel("0:00 / 0:00")
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

    # --- lifecycle -----------------------------------------------------------------------------

    def begin(self, title: dict[str, Any], resume_s: float) -> None:
        self.header.setText(str(title.get("name", "")))
        self.status.setText("Loading…")
        self.status.show()
        self.stats.reset()
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
        self._update_labels()
        self.show_controls()

    def _on_ended(self, reason: str) -> None:
        self.status.setText("Finished" if reason == "eof" else "Stopped")
        self.status.show()
        self.show_controls(auto_hide=False)

    def _on_failed(self, exc: object) -> None:
        self.status.setText("Playback stopped")
        self.status.show()
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
        focus_in_controls = self.controls.isAncestorOf(self.focusWidget())
        self.controls.hide()
        self.header.hide()
        self.setCursor(Qt.CursorShape.BlankCursor)
        if focus_in_controls:
            self.setFocus()

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        self.show_controls()

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
                self.seek_by(10 if action == Action.RIGHT else -10)
                return True
            if action == Action.DOWN:
                c.bar.focus_first()
                return True
            if action == Action.UP:
                if self.prompt.isVisible():
                    self.prompt_restart.setFocus()
                return True
            if action == Action.SELECT:
                self.controller.toggle_pause()
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
