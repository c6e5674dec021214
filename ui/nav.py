"""D-pad navigation as actions: keys (arrows, Enter/OK, Back/Esc/Backspace, media keys) map to
:class:`Action`; pages handle actions, not keys. A page's ``on_action(action) -> bool`` says
whether it used it; the window's router handles what is left (back)."""

from __future__ import annotations

import enum

from PySide6.QtCore import Qt
from PySide6.QtGui import QKeyEvent


class Action(enum.Enum):
    UP = "up"
    DOWN = "down"
    LEFT = "left"
    RIGHT = "right"
    SELECT = "select"
    BACK = "back"
    PLAY_PAUSE = "play_pause"
    STOP = "stop"
    NEXT = "next"
    PREVIOUS = "previous"


K = Qt.Key
_KEYS: dict[int, Action] = {
    K.Key_Up: Action.UP, K.Key_Down: Action.DOWN, K.Key_Left: Action.LEFT,
    K.Key_Right: Action.RIGHT, K.Key_Return: Action.SELECT, K.Key_Enter: Action.SELECT,
    K.Key_Select: Action.SELECT, K.Key_Escape: Action.BACK, K.Key_Back: Action.BACK,
    K.Key_Backspace: Action.BACK, K.Key_MediaPlay: Action.PLAY_PAUSE,
    K.Key_MediaPause: Action.PLAY_PAUSE, K.Key_MediaTogglePlayPause: Action.PLAY_PAUSE,
    K.Key_MediaStop: Action.STOP, K.Key_MediaNext: Action.NEXT,
    K.Key_MediaPrevious: Action.PREVIOUS,
}


def action_for(event: QKeyEvent) -> Action | None:
    mods = event.modifiers() & ~Qt.KeyboardModifier.KeypadModifier
    if mods not in (Qt.KeyboardModifier.NoModifier,):
        return None
    return _KEYS.get(event.key())
