"""Messages with actions, by remote only (TV mode): the action takes the focus, ←/→ between the
buttons, Enter/OK presses, Back dismisses, ↑ leaves and ↓/Tab come back, and the focus returns
where it was. The actions do something real: Retry restarts playback, Renew calls the downloads
hook."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QWidget

from player.errors import LicenseError, NetworkError, NoEdgeError
from tests.ui.keys import press
from ui.message import LICENSE_EXPIRED, describe
from ui.widgets import RowView

from .conftest import Harness, make_title

K = Qt.Key


def focus() -> QWidget | None:
    return QApplication.focusWidget()


def fail_playback(qtbot: Any, h: Harness, exc: BaseException) -> None:
    """Play a title whose start fails with ``exc``; wait for the message."""
    h.fail = exc
    title = make_title(2)
    h.window.open_title(title)
    h.window.play(title, False)
    qtbot.waitUntil(lambda: h.window.toast.isVisible(), timeout=3000)
    h.fail = None


def test_enter_on_retry_restarts_playback(qtbot: Any, harness: Harness) -> None:
    w = harness.window
    fail_playback(qtbot, harness, NoEdgeError({"edge-1": "refused"}))
    assert w.player.status.text() == "Playback stopped"
    message = w.messages.history[-1]
    assert (message.action_label, message.code) == ("Retry", "no_edge")
    assert focus() is w.toast.button  # a remote reaches it at once
    assert w.toast.button.text() == "Retry"
    sessions = len(harness.sessions)
    press(qtbot, K.Key_Return)
    qtbot.waitUntil(lambda: w.controller.playing, timeout=3000)
    assert len(harness.sessions) == sessions + 1
    assert not w.toast.isVisible()
    assert w.current_name() == "player"
    assert w.player is focus() or w.player.isAncestorOf(focus())


def failed_mid_play(qtbot: Any, h: Harness, exc: BaseException) -> None:
    """Playback that started, then stopped with ``exc`` (the engine gave up)."""
    session = h.sessions[-1]

    def end() -> None:
        assert session._ended is not None
        session._ended.set_exception(exc)
    h.aio.call_soon(end)
    qtbot.waitUntil(lambda: h.window.toast.isVisible(), timeout=3000)


def start(qtbot: Any, h: Harness) -> None:
    title = make_title(1)
    h.window.open_title(title)
    h.window.play(title, False)
    qtbot.waitUntil(lambda: h.window.controller.playing, timeout=3000)


def test_back_dismisses_and_the_focus_returns(qtbot: Any, harness: Harness) -> None:
    w = harness.window
    start(qtbot, harness)
    press(qtbot, K.Key_Down)  # TV: the side panel
    press(qtbot, K.Key_Down)
    spanish = focus()
    assert w.player.panel.contains_focus() and spanish is not None
    failed_mid_play(qtbot, harness, NetworkError("down", url="http://cp"))
    assert w.messages.history[-1].action_label == "Retry"  # no network: Retry
    assert focus() is w.toast.button
    press(qtbot, K.Key_Right)
    assert focus() is w.toast.close_button
    press(qtbot, K.Key_Right)  # stops at the last button
    assert focus() is w.toast.close_button
    press(qtbot, K.Key_Left)
    assert focus() is w.toast.button
    press(qtbot, K.Key_Escape)  # Back dismisses the message, not the player
    assert not w.toast.isVisible()
    assert w.current_name() == "player"
    assert focus() is spanish
    assert not w.controller.playing


def test_dismiss_button_by_enter(qtbot: Any, harness: Harness) -> None:
    w = harness.window
    fail_playback(qtbot, harness, NoEdgeError({}))
    sessions = len(harness.sessions)
    press(qtbot, K.Key_Right)
    press(qtbot, K.Key_Return)
    assert not w.toast.isVisible()
    qtbot.wait(200)
    assert len(harness.sessions) == sessions  # Dismiss is not Retry
    assert w.player is focus() or w.player.isAncestorOf(focus())


def test_up_leaves_the_message_and_down_or_tab_come_back(qtbot: Any, harness: Harness) -> None:
    w = harness.window
    w.set_tv(False)  # the desktop's button bar (TV mode has none)
    fail_playback(qtbot, harness, NoEdgeError({}))
    toast = w.toast
    before = toast._return_to
    press(qtbot, K.Key_Up)  # leave it up, go back to the page
    assert toast.isVisible() and not toast.contains_focus()
    assert focus() is before
    assert toast._timer.isActive()  # it times out again once the focus left it
    press(qtbot, K.Key_Down)  # ↓ in a stopped player: the message
    assert focus() is toast.button
    assert not toast._timer.isActive()  # no timeout while on it
    press(qtbot, K.Key_Up)
    w.player.controls.play.setFocus()
    press(qtbot, K.Key_Down)  # from the controls' buttons too
    assert focus() is toast.button
    press(qtbot, K.Key_Tab)
    assert focus() is toast.close_button
    press(qtbot, K.Key_Tab)  # past the last button: back where the focus was
    assert w.player.controls.play.hasFocus()
    press(qtbot, K.Key_Tab)
    assert focus() is toast.button
    sessions = len(harness.sessions)
    press(qtbot, K.Key_Space)  # Space presses too
    qtbot.waitUntil(lambda: len(harness.sessions) == sessions + 1, timeout=2000)
    qtbot.waitUntil(lambda: w.controller.playing, timeout=3000)


def test_typing_keeps_the_focus_and_down_reaches_the_message(qtbot: Any,
                                                              harness: Harness) -> None:
    w = harness.window
    home = w.home
    home.top.search.setFocus()
    retried: list[bool] = []
    w.messages.error("Could not load the rows.", ("Retry", lambda: retried.append(True)))
    assert w.toast.isVisible()
    assert home.top.search.hasFocus()  # typing is not interrupted
    home.focus_row(len(home.visible_sections()) - 1)
    last = focus()
    assert isinstance(last, RowView)
    press(qtbot, K.Key_Down)  # past the last row: the message at the foot of the window
    assert focus() is w.toast.button
    press(qtbot, K.Key_Up)
    assert focus() is last
    press(qtbot, K.Key_Down)
    press(qtbot, K.Key_Return)
    assert retried == [True]
    assert focus() is last


def test_messages_without_action_leave_the_focus_alone(qtbot: Any, harness: Harness) -> None:
    w = harness.window
    before = focus()
    w.messages.info("Marked as watched.")
    assert w.toast.isVisible() and focus() is before
    assert not w.toast.button.isVisible()
    press(qtbot, K.Key_Down)
    assert not w.toast.contains_focus()  # nothing to do there


def test_expired_license_offers_renew(qtbot: Any, harness: Harness) -> None:
    w = harness.window
    renewed: list[tuple[str, str]] = []

    async def renew(exc: BaseException) -> None:  # the downloads code's hook
        await asyncio.sleep(0)
        renewed.append((getattr(exc, "code", ""), threading.current_thread().name))
    w.renew_license = renew
    expired = LicenseError("It expired on 1 May.", code=LICENSE_EXPIRED)
    assert describe(expired)[1] == "Renew"
    fail_playback(qtbot, harness, expired)
    assert w.toast.button.text() == "Renew" and focus() is w.toast.button
    sessions = len(harness.sessions)
    press(qtbot, K.Key_Return)
    qtbot.waitUntil(lambda: bool(renewed), timeout=2000)
    assert renewed == [(LICENSE_EXPIRED, "engine")]
    qtbot.waitUntil(lambda: len(harness.sessions) == sessions + 1, timeout=2000)
    assert w.messages.history[-1].text == "License renewed."
    qtbot.waitUntil(lambda: w.controller.playing, timeout=3000)


def test_action_hook_by_server_code(qtbot: Any, harness: Harness) -> None:
    w = harness.window
    got: list[BaseException] = []
    w.messages.set_action("region_blocked", "Help", got.append)
    exc = LicenseError("Not here.", server_code="region_blocked")
    w.messages.engine_error(exc, retry=lambda: None)
    assert w.toast.button.text() == "Help"
    press(qtbot, K.Key_Return)
    assert got == [exc]
