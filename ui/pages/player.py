"""The player: the video surface with auto-hiding controls (desktop: play/pause, seek bar with
the buffered range and a trick-play thumbnail preview, time, quality, audio, subtitles, volume,
fullscreen; TV: a minimal OSD of title, seek bar and time), the side panel (audio, subtitles,
subtitle size, quality by name), a volume indicator, post-play, the keys people know from mpv,
YouTube and Netflix, a resume prompt and the stats overlay.

On the seek bar, ←/→ scrub: the handle and the thumbnail move at once and the seek is sent when
the keys rest (``SCRUB_COMMIT_MS``) or on Enter; Back cancels the scrub. A held key speeds up
gently (:func:`scrub_step`); releasing it starts again at 10 s."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QCoreApplication, Qt, QTimer, Signal
from PySide6.QtGui import QHideEvent, QMouseEvent, QResizeEvent, QShowEvent
from PySide6.QtWidgets import QGridLayout, QHBoxLayout, QLabel, QPushButton, QWidget

from ui.artwork import ArtCache
from ui.models import fmt_clock
from ui.pages.hero import Backdrop
from ui.pages.player_keys import PlayerKeys
from ui.pages.player_osd import Controls, OsdHeader, VolumeIndicator
from ui.pages.player_panels import (
    QUALITY_LABELS,
    Option,
    PostPlay,
    SidePanel,
    panel_style,
    player_groups,
)
from ui.playback import PlayerController
from ui.stats import StatsOverlay
from ui.theme import Theme
from ui.trickplay import ThumbnailPreview, TrickplayLoader
from ui.widgets import Page

HIDE_AFTER_MS = 3000
SCRUB_COMMIT_MS = 900
"""A key scrub on the seek bar is sent this long after the last ←/→ (or at once on Enter)."""
SUB_POS_OSD = 80
"""mpv ``sub-pos`` while the OSD is up: subtitles sit above it, not under it."""


class PlayerPage(PlayerKeys, Page):
    """Signals:
        leave(): back to where the user came from.
        toggle_fullscreen(): the f key or the button.
        play_next(dict): post-play's next title (the countdown ran out or Play now).
        to_details(): post-play's Back to details.
        similar(dict): a post-play More like this tile (its details should open).
    """

    leave = Signal()
    toggle_fullscreen = Signal()
    play_next = Signal(dict)
    to_details = Signal()
    similar = Signal(dict)

    def __init__(self, controller: PlayerController, video: QWidget, theme: Theme,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.controller = controller
        self.video = video
        self.theme = theme
        self.setObjectName("player")
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, True)
        self.setStyleSheet("QWidget#player { background: black; }")  # not its overlays' too
        grid = QGridLayout(self)
        grid.setContentsMargins(0, 0, 0, 0)
        grid.addWidget(video, 0, 0)
        self.header = OsdHeader()
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
        self.stats = StatsOverlay(self)
        self.volume_osd = VolumeIndicator(self)
        self.panel = SidePanel(self)
        self.panel.picked.connect(self._picked)
        self.panel.closed.connect(self._panel_closed)
        self.postplay = PostPlay(self)
        self.postplay.play_next.connect(self.play_next)
        self.postplay.back.connect(self.to_details)
        self.postplay.similar.connect(self.similar)
        self.post_backdrop: Backdrop | None = None
        """The next title's backdrop behind post-play (:meth:`set_art`)."""
        self.up_next: dict[str, Any] | None = None
        """What post-play offers next (the window sets it when a title starts)."""
        self._sub_pos = 100
        self.trickplay = TrickplayLoader(controller.runner, parent=self)
        self.preview = ThumbnailPreview(self)
        self._scrub_commit = QTimer(self, singleShot=True, interval=SCRUB_COMMIT_MS)
        self._scrub_commit.timeout.connect(self.commit_scrub)
        self._scrub_run = 0
        self._scrub_last = 0.0
        self._scrub_held = False
        """A ←/→ is held down (no release since the last press): the run may speed up."""
        grid.addWidget(self.header, 0, 0, Qt.AlignmentFlag.AlignTop)
        grid.addWidget(self.status, 0, 0, Qt.AlignmentFlag.AlignCenter)
        grid.addWidget(self.prompt, 0, 0, Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignRight)
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
        c.volume.clicked.connect(self._mute)
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
        self.header.set_look(m, theme.title_px * 2 // 3)
        self.preview.set_thumb_width(360 if theme.tv else 240)
        self.preview.set_font_px(theme.font_px)
        self.controls.set_tv(theme.tv, theme.font_px)
        self.stats.set_font_px(22 if theme.tv else 13)
        self.volume_osd.set_font_px(theme.font_px)
        style = panel_style(theme)
        self.panel.setStyleSheet(style)
        self.postplay.setStyleSheet(style)
        self.postplay.apply_theme(theme)
        self._place_overlays()

    def set_art(self, art: ArtCache) -> None:
        """Art for post-play's backdrop and its More like this (the window's cache)."""
        self.postplay.set_art(art, self.theme)
        self.post_backdrop = Backdrop(art, self)
        self.post_backdrop.hide()

    def _place_overlays(self) -> None:
        """Stats top-right, volume top-centre, the side panel on the right, post-play at the
        foot: all inside the overscan margin in TV mode."""
        m = self.theme.margin_px if self.theme.tv else 16
        w, h = self.width(), self.height()
        self.stats.move(max(0, w - self.stats.width() - m), m)
        self.volume_osd.move((w - self.volume_osd.width()) // 2, m)
        pw = min(w - 2 * m, max(360, w // 4))
        self.panel.setGeometry(w - pw - m, m, pw, max(0, h - 2 * m))
        self.postplay.place(m, round(w * 0.45) if self.theme.tv else 1100)  # on the fade
        if self.post_backdrop is not None:
            self.post_backdrop.setGeometry(self.rect())

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._place_overlays()

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
        self.panel.hide()
        self.postplay.stop()
        if self.post_backdrop is not None:
            self.post_backdrop.hide()
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
        self.controls.play.setText("▶")
        if reason == "eof":  # post-play: next up, or back to details; never a dead end
            self.status.hide()
            self.panel.hide()
            self.show_controls(auto_hide=False)
            self.controls.hide()
            self._place_overlays()
            self.header.hide()
            # the next title's backdrop, else the finished one's: never the last frame behind
            art = str((self.up_next or self.controller.title).get("backdrop_url") or "")
            if self.post_backdrop is not None and art:
                self.post_backdrop.set_url(art)
                self.post_backdrop.show()
                self.post_backdrop.raise_()
            self.postplay.set_on_art(bool(art) and self.post_backdrop is not None)
            self.postplay.start(str(self.controller.title.get("name", "")), self.up_next)
            self._place_overlays()
            return
        self.status.setText("Stopped")
        self.status.show()
        self.show_controls(auto_hide=False)

    def _on_failed(self, exc: object) -> None:
        self.status.setText("Playback stopped")
        self.status.show()
        self.controls.play.setText("▶")
        self.show_controls(auto_hide=False)

    def _on_state(self, s: dict[str, Any]) -> None:
        c = self.controls
        c.seekbar.set_times(s["position_s"], s["duration_s"], s["buffered_end_s"])
        c.set_time(s["position_s"], s["duration_s"])
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
        if self.panel.isVisible():
            self.panel.set_groups(self.panel_groups())

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

    # --- the side panel ----------------------------------------------------------------------

    def panel_groups(self) -> list[tuple[str, list[Option]]]:
        return player_groups(self.controller, self.subtitle_px)

    subtitle_px = 55

    def open_panel(self) -> None:
        """The side panel, with the focus on the current choice of the first group."""
        self.commit_scrub()
        self.panel.set_groups(self.panel_groups())
        self._place_overlays()
        self.panel.open()
        self._hide.stop()

    def _picked(self, group: str, value: Any) -> None:
        ctl = self.controller
        if group == "Audio":
            ctl.set_audio(str(value))
        elif group == "Subtitles":
            ctl.set_subtitles(value)
        elif group == "Subtitle size":
            self.subtitle_px = int(value)
            ctl.set_mpv("sub-font-size", self.subtitle_px)
        elif group == "Quality":
            ctl.set_quality(value)
        self._update_labels()
        self.panel.set_groups(self.panel_groups())
        self.panel.focus_option(group, value)

    def _panel_closed(self) -> None:
        self.setFocus()
        self.show_controls()

    def toggle_stats(self) -> None:
        self.stats.setVisible(not self.stats.isVisible())
        self.stats.raise_()

    def _subs_clear_of_osd(self, osd_up: bool) -> None:
        """Subtitles move up while the OSD is on screen (never drawn over it)."""
        pos = SUB_POS_OSD if osd_up else 100
        if pos != self._sub_pos:
            self._sub_pos = pos
            self.controller.set_mpv("sub-pos", pos)

    def show_controls(self, auto_hide: bool = True) -> None:
        if self.postplay.isVisible():
            return
        self.controls.show()
        self.header.show()
        self._subs_clear_of_osd(True)
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
        self._subs_clear_of_osd(False)
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
            self.panel.hide()
            self.postplay.stop()
        super().hideEvent(event)

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if self.controller.playing and self.trickplay.index is None:
            self.trickplay.load_session(self.controller.session)

    def focus_default(self) -> None:
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setFocus()
