"""Sign-in and search with a remote: the TV's pairing page (code, refusal in a sentence, a new
code, signed in) and the on-screen keyboard (type, results as you type, results and back)."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from player.api import ControlPlaneClient
from player.tokens import Credentials, MemoryStore
from tests.ui.keys import press
from ui.osk import BACKSPACE, CLEAR, SHIFT, OnScreenKeyboard
from ui.widgets import RowView

from .conftest import Harness

K = Qt.Key


class PairingServer:
    """The control plane's pairing endpoints: the first code expires, the second is confirmed
    after one ``authorization_pending``."""

    def __init__(self) -> None:
        self.codes = iter(["BCDF-GHJK", "LMNP-QRST"])
        self.polls: list[str] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if path == "/v1/auth/device/code":
            code = next(self.codes)
            return httpx.Response(201, json={
                "device_code": f"dc-{code}", "user_code": code,
                "verification_uri": "http://cp.test/activate", "expires_in": 600,
                "interval": 5})
        if path == "/v1/auth/device/token":
            device_code = json.loads(request.content)["device_code"]
            self.polls.append(device_code)
            if device_code == "dc-BCDF-GHJK":
                return httpx.Response(400, json={"error": "expired_token", "message": "x"})
            if self.polls.count(device_code) == 1:
                return httpx.Response(400, json={"error": "authorization_pending",
                                                 "message": "x"})
            return httpx.Response(200, json={
                "access_token": "A", "refresh_token": "R", "expires_in": 900,
                "device_id": "dev_tv", "account_id": "acct"})
        if path == "/v1/profiles":
            assert request.headers["authorization"] == "Bearer A"
            return httpx.Response(200, json={"profiles": [{"id": "p9", "name": "Sofa"}]})
        return httpx.Response(404, json={"error": "not_found", "message": path})


def test_the_tv_signs_in_with_a_code_and_says_why_a_code_failed(qtbot: Any,
                                                                harness: Harness) -> None:
    w = harness.window
    server = PairingServer()
    store = MemoryStore()
    w.backend.client = ControlPlaneClient("http://cp.test", store=store,
                                          transport=httpx.MockTransport(server))
    waits: list[float] = []

    async def sleep(seconds: float) -> None:
        waits.append(seconds)
        await asyncio.sleep(0)
    w.tv_signin.sleep = sleep
    w.show_sign_in()
    assert w.current_name() == "pair"
    # the first code expires: a sentence, and the focus on "Get a new code"
    qtbot.waitUntil(lambda: "expired" in w.pair.status.text(), timeout=3000)
    assert not w.pair.code.isVisible()
    assert QApplication.focusWidget() is w.pair.again
    press(qtbot, K.Key_Return)
    qtbot.waitUntil(lambda: w.pair.code.text() == "LMNP-QRST", timeout=3000)
    assert w.pair.url.text() == "http://cp.test/activate"
    qtbot.waitUntil(lambda: w.current_name() == "profiles", timeout=3000)
    assert waits and all(s == 5.0 for s in waits)  # the server's interval
    assert server.polls == ["dc-BCDF-GHJK", "dc-LMNP-QRST", "dc-LMNP-QRST"]
    saved = store.load()
    assert saved is not None and saved.refresh_token == "R"
    assert not w.tv_signin.running
    asyncio.run_coroutine_threadsafe(w.backend.client.aclose(), harness.aio.loop).result(5)


def test_leaving_the_pairing_page_stops_the_polling(qtbot: Any, harness: Harness) -> None:
    w = harness.window
    gate = asyncio.Event()

    async def never(_: float) -> None:
        await gate.wait()
    server = PairingServer()
    next(server.codes)  # the second code: it would be confirmed
    w.backend.client = ControlPlaneClient("http://cp.test", transport=httpx.MockTransport(server))
    w.tv_signin.sleep = never
    w.show_sign_in()
    qtbot.waitUntil(lambda: w.pair.code.isVisible(), timeout=3000)
    assert w.tv_signin.running
    press(qtbot, K.Key_Right)
    press(qtbot, K.Key_Return)  # "Sign in with email instead"
    assert w.current_name() == "signin"
    assert not w.tv_signin.running
    assert server.polls == []
    asyncio.run_coroutine_threadsafe(w.backend.client.aclose(), harness.aio.loop).result(5)


def test_search_with_the_on_screen_keyboard(qtbot: Any, harness: Harness) -> None:
    w = harness.window
    press(qtbot, K.Key_Up, 2)  # billboard, then the top bar
    assert QApplication.focusWidget() is w.home.top.home
    press(qtbot, K.Key_Right, 3)
    assert QApplication.focusWidget() is w.home.top.search
    press(qtbot, K.Key_Return)
    assert w.current_name() == "search"
    keyboard = QApplication.focusWidget()
    assert isinstance(keyboard, OnScreenKeyboard) and keyboard.current_key == "A"
    press(qtbot, K.Key_Down)
    press(qtbot, K.Key_Right, 6)
    assert keyboard.current_key == "T"
    press(qtbot, K.Key_Return)
    press(qtbot, K.Key_Left, 2)
    press(qtbot, K.Key_Return)  # R
    assert w.search_page.text == "tr"
    assert w.search_page.query.text().startswith("tr")
    qtbot.waitUntil(lambda: w.search_page.results.isVisible(), timeout=3000)
    assert "“tr”" in w.search_page.results.label.text()
    press(qtbot, K.Key_Down, 2)  # the digits row, then the results
    view = QApplication.focusWidget()
    assert isinstance(view, RowView) and view is w.search_page.results.view
    press(qtbot, K.Key_Return)
    assert w.current_name() == "details"
    assert w.details.title_json.get("id") == "t7"
    press(qtbot, K.Key_Escape)
    assert w.current_name() == "search"
    assert QApplication.focusWidget() is w.search_page.results.view  # where you were
    press(qtbot, K.Key_Up)
    assert QApplication.focusWidget() is keyboard
    keyboard.focus_key(BACKSPACE)
    press(qtbot, K.Key_Return, 2)
    assert w.search_page.text == ""
    assert not w.search_page.results.isVisible()
    press(qtbot, K.Key_Escape)  # Back leaves the search
    assert w.current_name() == "home"


def test_settings_pair_a_tv_confirms_the_code(qtbot: Any, harness: Harness) -> None:
    w = harness.window
    seen: list[dict[str, Any]] = []

    def server(request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        seen.append(body)
        if body["user_code"].upper() == "BCDF-GHJK":  # the server normalises
            return httpx.Response(200, json={"confirmed": True, "device_name": "Den TV"})
        return httpx.Response(404, json={"error": "unknown_code", "message": "no"})
    w.backend.client = ControlPlaneClient(
        "http://cp.test", store=MemoryStore(), transport=httpx.MockTransport(server))
    w.backend.client._save(Credentials("d", "A", "R"))
    w.show_page("settings")
    page = w.settings_page
    page.tv_code.setFocus()
    qtbot.keyClicks(page.tv_code, "bcdf-ghjk")
    press(qtbot, K.Key_Down)
    assert QApplication.focusWidget() is page.pair_button
    press(qtbot, K.Key_Return)
    qtbot.waitUntil(lambda: page.pair_button.isEnabled(), timeout=3000)
    assert "Den TV is signed in" in page.pair_note.text(), page.pair_note.text()
    assert seen == [{"user_code": "bcdf-ghjk", "allow": True}]
    assert page.tv_code.text() == ""
    page.tv_code.setText("ZZZZ-ZZZZ")
    page.pair_button.click()
    qtbot.waitUntil(lambda: "No TV is waiting" in page.pair_note.text(), timeout=3000)
    asyncio.run_coroutine_threadsafe(w.backend.client.aclose(), harness.aio.loop).result(5)


def test_the_sign_in_form_types_with_the_on_screen_keyboard(qtbot: Any,
                                                            harness: Harness) -> None:
    w = harness.window
    w.show_page("signin", remember=False)
    page = w.signin
    page.email.setFocus()
    press(qtbot, K.Key_Return)  # TV: Enter on a field opens the keyboard, it does not submit
    keyboard = page.keyboard
    assert keyboard.isVisible() and QApplication.focusWidget() is keyboard
    assert page.button.isEnabled()
    keyboard.focus_key(CLEAR)
    press(qtbot, K.Key_Return)
    assert page.email.text() == ""
    keyboard.focus_key("A")
    press(qtbot, K.Key_Return)  # lower case until shifted
    keyboard.focus_key(SHIFT)
    press(qtbot, K.Key_Return)
    keyboard.focus_key("B")
    press(qtbot, K.Key_Return)
    keyboard.focus_key("@")
    press(qtbot, K.Key_Return)
    assert page.email.text() == "aB@"
    press(qtbot, K.Key_Down)  # past the bottom row: on to the password field
    assert not keyboard.isVisible() and QApplication.focusWidget() is page.password
    press(qtbot, K.Key_Return)
    assert keyboard.isVisible() and keyboard.text == page.password.text()
    press(qtbot, K.Key_Escape)  # Back closes it, on the field
    assert not keyboard.isVisible() and QApplication.focusWidget() is page.password
    assert w.current_name() == "signin"


def test_a_service_without_codes_says_to_use_email(qtbot: Any, harness: Harness) -> None:
    w = harness.window
    w.backend.client = ControlPlaneClient("http://cp.test", transport=httpx.MockTransport(
        lambda r: httpx.Response(404, json={"error": "not_found", "message": "POST x"})))
    w.show_sign_in()
    qtbot.waitUntil(lambda: "Sign in with email instead" in w.pair.status.text(), timeout=3000)
    assert "does not offer sign-in with a code" in w.pair.status.text()
    asyncio.run_coroutine_threadsafe(w.backend.client.aclose(), harness.aio.loop).result(5)
