"""The player's keys: the ones people know from mpv, YouTube and Netflix (:meth:`PlayerKeys.on_key`)
and the D-pad actions (:meth:`PlayerKeys.on_action`), for :class:`ui.pages.player.PlayerPage`.

TV mode: ↑ brings up the OSD on its seek bar, ↓ (or Menu) opens the side panel, ←/→ jump 10 s
(on the seek bar they scrub), Enter/OK pauses, Back leaves (closing what is open first).

The seek bar's thumbnail preview (:meth:`PlayerKeys._on_preview`) follows the pointer or the
scrub."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any, cast

from PySide6.QtCore import QPoint, Qt, QTimer
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QPushButton, QWidget

from ui.nav import Action
from ui.pages.player_osd import Controls, VolumeIndicator
from ui.pages.player_panels import PostPlay, SidePanel
from ui.playback import PlayerController
from ui.theme import Theme
from ui.trickplay import ThumbnailPreview, TrickplayLoader

SCRUB_BASE_S = 10.0
SCRUB_GROW_S = 5.0
SCRUB_GROW_EVERY = 4
SCRUB_MAX_FRACTION = 1 / 20
SCRUB_RUN_GAP_S = 0.5
"""Presses further apart than this (or a key release between them) start a new run."""
def scrub_step(run: int, duration_s: float) -> float:
    """The step of the ``run``-th press of a held key: 10 s for four presses, then 5 s more
    every four presses, never more than 1/20 of the title (nor less than 10 s)."""
    cap = max(SCRUB_BASE_S, duration_s * SCRUB_MAX_FRACTION)
    return min(cap, SCRUB_BASE_S + SCRUB_GROW_S * (run // SCRUB_GROW_EVERY))


class PlayerKeys:
    """Mixed into the player page (which has these)."""

    controller: PlayerController
    controls: Controls
    panel: SidePanel
    postplay: PostPlay
    prompt: QWidget
    prompt_restart: QPushButton
    volume_osd: VolumeIndicator
    preview: ThumbnailPreview
    trickplay: TrickplayLoader
    theme: Theme
    _scrub_held: bool
    _scrub_run: int
    _scrub_last: float
    _scrub_commit: QTimer
    _hide: QTimer

    if TYPE_CHECKING:  # the page's methods, for the type checker
        def show_controls(self, auto_hide: bool = True) -> None: ...
        def hide_controls(self) -> None: ...
        def toggle_stats(self) -> None: ...
        def cycle_subtitles(self) -> None: ...
        def seek_by(self, delta_s: float) -> None: ...
        def open_panel(self) -> None: ...

    def scrub_by(self, direction: int) -> None:
        """Move the scrub one step (accelerating while the key is held) and show its picture;
        the seek goes out when the keys rest."""
        bar = self.controls.seekbar
        now = time.monotonic()
        quick = bar.scrub_s is not None and now - self._scrub_last < SCRUB_RUN_GAP_S \
            and self._scrub_held
        self._scrub_run = self._scrub_run + 1 if quick else 0
        self._scrub_last = now
        self._scrub_held = True
        duration = bar.duration_s or self.controller.duration_s
        step = scrub_step(self._scrub_run, duration)
        base = bar.scrub_s if bar.scrub_s is not None else self.controller.position_s
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

    # --- the seek bar's thumbnail preview (mouse or scrub) ---------------------------------

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
        at = bar.mapTo(self._page(), QPoint(round(bar.x_for(t_s)), 0))
        w, h = self.preview.width(), self.preview.height()
        edge = self.theme.margin_px if self.theme.tv else 8  # TV: inside the overscan margin
        x = max(edge, min(self._page().width() - w - edge, at.x() - w // 2))
        self.preview.move(x, max(edge, at.y() - h))

    def _page(self) -> QWidget:
        return cast(QWidget, self)

    def on_key(self, event: QKeyEvent) -> bool:
        """Keys that are not D-pad actions: space/k, f, m, c, i, Ctrl+Shift+Alt+D. Any key
        stops post-play's countdown (someone is there)."""
        if self.postplay.isVisible():
            self.postplay.hold()
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
            if key == Qt.Key.Key_Space and isinstance(self._page().focusWidget(), QPushButton) \
                    and self.controls.isVisible():
                return False  # space on a focused button presses it
            self.controller.toggle_pause()
            self.show_controls()
            return True
        simple = {Qt.Key.Key_F: cast(Any, self).toggle_fullscreen.emit, Qt.Key.Key_M: self._mute,
                  Qt.Key.Key_C: self.cycle_subtitles, Qt.Key.Key_I: self.toggle_stats,
                  Qt.Key.Key_J: lambda: self.seek_by(-10), Qt.Key.Key_L: lambda: self.seek_by(10),
                  Qt.Key.Key_VolumeUp: lambda: self._volume(5),
                  Qt.Key.Key_VolumeDown: lambda: self._volume(-5),
                  Qt.Key.Key_VolumeMute: self._mute, Qt.Key.Key_Plus: lambda: self._volume(5),
                  Qt.Key.Key_Equal: lambda: self._volume(5),
                  Qt.Key.Key_Minus: lambda: self._volume(-5),
                  Qt.Key.Key_Menu: self.open_panel}
        fn = simple.get(Qt.Key(key))
        if fn is not None:
            fn()
            return True
        return False

    def _mute(self) -> None:
        self.controller.toggle_mute()
        self.volume_osd.show_volume(self.controller.volume, self.controller.muted)

    def _volume(self, step: int) -> None:
        self.controller.set_volume(self.controller.volume + step)
        self.volume_osd.show_volume(self.controller.volume, self.controller.muted)

    def key_released(self, event: QKeyEvent) -> None:
        """A ←/→ let go: the next press starts a new scrub run at the base step."""
        if event.key() in (Qt.Key.Key_Left, Qt.Key.Key_Right) and not event.isAutoRepeat():
            self._scrub_held = False
            self._scrub_run = 0

    def on_action(self, action: Action) -> bool:
        c = self.controls
        if self.postplay.isVisible():
            return self.postplay.on_action(action)
        if self.panel.isVisible():
            if not self.panel.contains_focus():
                self.panel.open()
                return True
            return self.panel.on_action(action)
        in_bar = c.isVisible() and c.bar.contains_focus()
        on_seek = c.isVisible() and c.seekbar.hasFocus()
        prompt_focus = self.prompt.isVisible() and self.prompt_restart.hasFocus()
        if action == Action.PLAY_PAUSE:
            self.controller.toggle_pause()
            self.show_controls()
            return True
        if action == Action.STOP:
            cast(Any, self).leave.emit()
            return True
        if prompt_focus and action == Action.SELECT:
            self.prompt_restart.click()
            self._page().setFocus()
            return True
        if in_bar:
            self.show_controls()
            if action == Action.UP:
                c.seekbar.setFocus()
                return True
            if action == Action.DOWN:
                self._page().setFocus()
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
                if self.theme.tv:
                    self.open_panel()
                else:
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
            if self.theme.tv:  # the 10-foot remote: ↑ the OSD on its seek bar, ↓ the panel
                if action == Action.DOWN:
                    self.open_panel()
                else:
                    self.show_controls()
                    c.seekbar.setFocus()
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
            cast(Any, self).leave.emit()
            return True
        return False
