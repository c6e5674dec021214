"""The player page's controls and keys against a fake engine; engine errors as messages."""

from __future__ import annotations

import asyncio
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from player.errors import LicenseError, NetworkError, NoEdgeError
from ui.message import describe

from .conftest import Harness, make_title

K = Qt.Key


def start(qtbot: Any, h: Harness, *, resume: bool = False) -> None:
    title = make_title(1, progress=120.0 if resume else None)
    h.window.open_title(title)
    h.window.play(title, False)
    qtbot.waitUntil(lambda: h.window.controller.playing, timeout=3000)


def key(qtbot: Any, k: Qt.Key, mods: Qt.KeyboardModifier = Qt.KeyboardModifier.NoModifier
        ) -> None:
    focus = QApplication.focusWidget()
    assert focus is not None
    qtbot.keyClick(focus, k, mods)


def calls(h: Harness) -> list[tuple[str, Any]]:
    return h.sessions[-1].calls


def test_keys_drive_the_session(qtbot: Any, harness: Harness) -> None:
    start(qtbot, harness)
    page = harness.window.player
    assert harness.window.current_name() == "player"
    key(qtbot, K.Key_Space)
    qtbot.waitUntil(lambda: ("pause", None) in calls(harness))
    key(qtbot, K.Key_K)
    qtbot.waitUntil(lambda: ("resume", None) in calls(harness))
    key(qtbot, K.Key_Right)
    qtbot.waitUntil(lambda: ("seek", 10.0) in calls(harness))
    key(qtbot, K.Key_Left)
    qtbot.waitUntil(lambda: ("seek", 0.0) in calls(harness))
    key(qtbot, K.Key_C)
    qtbot.waitUntil(lambda: ("subtitles", "en") in calls(harness))
    assert page.controls.subs.text() == "Subtitles: en"
    volume = harness.window.controller.volume
    key(qtbot, K.Key_M)
    assert harness.window.controller.muted
    assert harness.window.controller.volume == volume
    assert not page.stats.isVisible()
    key(qtbot, K.Key_I)
    assert page.stats.isVisible()
    all_mods = (Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier
                | Qt.KeyboardModifier.AltModifier)
    key(qtbot, K.Key_D, all_mods)
    assert not page.stats.isVisible()
    qtbot.waitUntil(lambda: page.stats.state.get("rendition") == "240p", timeout=3000)
    key(qtbot, K.Key_Escape)
    qtbot.waitUntil(lambda: ("stop", None) in calls(harness))
    assert harness.window.current_name() == "details"


def test_desktop_controls_by_dpad(qtbot: Any, harness: Harness) -> None:
    harness.window.set_tv(False)  # TV mode has no button bar (tests/ui/test_tv.py)
    start(qtbot, harness)
    page = harness.window.player
    page.show_controls()
    page.controls.play.setFocus()
    assert page.controls.bar.isVisible()
    key(qtbot, K.Key_Right, )
    assert page.controls.back10.hasFocus()
    key(qtbot, K.Key_Return)
    qtbot.waitUntil(lambda: any(c[0] == "seek" for c in calls(harness)))
    for _ in range(10):
        key(qtbot, K.Key_Right)
    assert page.controls.bar.contains_focus()  # stopped at the last button
    key(qtbot, K.Key_Up)
    assert page.controls.seekbar.hasFocus()
    key(qtbot, K.Key_Return)
    qtbot.waitUntil(lambda: ("pause", None) in calls(harness))


def test_quality_and_audio_buttons(qtbot: Any, harness: Harness) -> None:
    start(qtbot, harness)
    page = harness.window.player
    page.controls.quality.click()
    assert harness.window.controller.max_rung == 0
    assert page.controls.quality.text() == "Quality: 240p"
    page.controls.audio.click()
    qtbot.waitUntil(lambda: ("audio", "es") in calls(harness))


def test_controls_hide_themselves(qtbot: Any, harness: Harness) -> None:
    start(qtbot, harness)
    page = harness.window.player
    page._hide.setInterval(100)
    page.show_controls()
    qtbot.waitUntil(lambda: not page.controls.isVisible(), timeout=2000)
    key(qtbot, K.Key_Right)
    assert page.controls.isVisible()


def test_resume_prompt(qtbot: Any, harness: Harness) -> None:
    start(qtbot, harness, resume=True)
    page = harness.window.player
    assert page.prompt.isVisible()
    assert "2:00" in page.prompt_text.text()
    page.prompt_restart.click()
    qtbot.waitUntil(lambda: ("seek", 0.0) in calls(harness))


def test_engine_error_becomes_a_message_with_retry(qtbot: Any, harness: Harness) -> None:
    harness.fail = NoEdgeError({"edge-1": "refused", "edge-2": "refused"})
    title = make_title(2)
    harness.window.open_title(title)
    harness.window.play(title, False)
    bus = harness.window.messages
    qtbot.waitUntil(lambda: bool(bus.history), timeout=3000)
    message = bus.history[-1]
    assert message.level == "error" and message.action_label == "Retry"
    assert harness.window.toast.isVisible()
    assert harness.window.player.status.text() == "Playback stopped"
    harness.fail = None
    harness.window.toast.act()  # Retry plays again
    qtbot.waitUntil(lambda: harness.window.controller.playing, timeout=3000)


def test_describe_engine_errors() -> None:
    assert describe(NetworkError("down", url="http://x"))[1] == "Retry"
    assert "license" in describe(LicenseError("expired"))[0].lower()
    assert describe(NoEdgeError({}))[1] == "Retry"


def test_runner_drops_stale_results(qtbot: Any, harness: Harness) -> None:
    got: list[str] = []
    finished: list[str] = []

    async def answer(text: str, delay_s: float) -> str:
        await asyncio.sleep(delay_s)
        finished.append(text)
        return text

    harness.runner.run(answer("old", 0.2), got.append, key="k")
    harness.runner.run(answer("new", 0.0), got.append, key="k")
    qtbot.waitUntil(lambda: finished == ["new", "old"], timeout=3000)
    # results reach the GUI thread in the order they finish: once a later one has arrived,
    # the stale one would have too
    harness.runner.run(answer("later", 0.0), got.append, key="other")
    qtbot.waitUntil(lambda: "later" in got, timeout=3000)
    assert got == ["new", "later"]
