"""The 10-foot journey with the keys only, against the real control plane and real libmpv (vo
and ao null): sign in by code → profile → home → details → play → post-play (next up; More like
this from the control plane) → Back lands on the tile opened; the window never gets wider than
the screen on the way."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from player.bundled import ReadyInfo
from player.mpv_seam import create_mpv
from player.tokens import MemoryStore
from tests.bench.engine_media import make_media_catalog
from tests.conftest import StartControlPlane
from tests.integration.cp_client import new_device
from tests.ui.keys import focused
from ui.aio import AsyncLoop, Runner
from ui.app import shutdown
from ui.artwork import ArtCache
from ui.backend import Backend
from ui.config import AppPaths, Settings
from ui.playback import PlayerController
from ui.video import NullVideoWidget
from ui.widgets import RowView
from ui.window import MainWindow

pytestmark = [
    pytest.mark.mpv, pytest.mark.slow,
    # the engine-media catalog's posters are stub JPEGs (tests/bench/engine_media.py)
    pytest.mark.qt_log_ignore("Corrupt JPEG data", "JPEG datastream contains no image"),
]
K = Qt.Key


@pytest.fixture(scope="module")
def media_cp(start_module_controlplane: StartControlPlane,
             tmp_path_factory: pytest.TempPathFactory) -> ReadyInfo:
    root = tmp_path_factory.mktemp("journey-media")
    make_media_catalog(root, long_segments=4)
    return start_module_controlplane(catalog_args=("--catalog-dir", str(root)),
                                     policy=("device_code_interval_s=0",)).ready


class App:
    def __init__(self, window: MainWindow) -> None:
        self.window = window
        self.widest = 0

    def press(self, qtbot: Any, key: Qt.Key, times: int = 1) -> None:
        for _ in range(times):
            qtbot.keyClick(focused(), key)
            self.widest = max(self.widest, self.window.width())


@pytest.fixture
def app(qtbot: Any, tmp_path: Path, media_cp: ReadyInfo) -> Iterator[App]:
    aio = AsyncLoop()
    aio.start()
    runner = Runner(aio)
    paths = AppPaths.under(tmp_path)
    backend = Backend(runner, paths, control_plane_url=media_cp.base_url, store=MemoryStore())
    art = ArtCache(runner, paths.art_cache)
    mpv = create_mpv(vo="null", ao="null")
    controller = PlayerController(runner, mpv, poll_ms=100)
    video = NullVideoWidget()
    window = MainWindow(backend, art, controller, video, Settings(), paths, tv=True)

    async def quick(_: float) -> None:  # the server's interval is 0 in this module
        await asyncio.sleep(0.05)
    window.tv_signin.sleep = quick
    window.go_fullscreen()
    qtbot.waitExposed(window)
    window.start()
    yield App(window)
    shutdown(window, runner, aio, backend, art, controller, video, mpv)


def focused_tile() -> str:
    view = QApplication.focusWidget()
    assert isinstance(view, RowView), view
    return str(view.currentIndex().data(Qt.ItemDataRole.DisplayRole))


_phones = itertools.count()


def test_sign_in_by_code_then_home_details_play_post_play_and_back(
        qtbot: Any, app: App, media_cp: ReadyInfo) -> None:
    w = app.window
    screen_w = w.screen().geometry().width()
    # 1. The TV shows a code; a phone signed in to an account confirms it.
    qtbot.waitUntil(lambda: w.current_name() == "pair" and w.pair.code.isVisible(),
                    timeout=15000)
    code = w.pair.code.text()
    assert len(code) == 9 and media_cp.base_url in w.pair.url.text()
    with httpx.Client(timeout=5.0) as http:
        phone = new_device(http, media_cp)
        r = phone.post("/v1/auth/device/confirm", {"user_code": code})
        assert r.status_code == 200, r.text
    # 2. Signed in (tokens in the store): who's watching? Enter picks the profile.
    qtbot.waitUntil(lambda: w.current_name() == "profiles", timeout=10000)
    assert w.backend.signed_in
    app.press(qtbot, K.Key_Return)
    qtbot.waitUntil(lambda: w.current_name() == "home" and bool(w.home.sections), timeout=10000)
    qtbot.waitUntil(lambda: isinstance(QApplication.focusWidget(), RowView), timeout=5000)
    opened = focused_tile()
    assert opened == "Short Film"
    # 3. Details, then Play.
    app.press(qtbot, K.Key_Return)
    assert w.current_name() == "details"
    app.press(qtbot, K.Key_Return)
    qtbot.waitUntil(lambda: w.controller.playing, timeout=15000)
    assert w.current_name() == "player"
    # 4. The 12 s title plays to its end: post-play offers the next title.
    qtbot.waitUntil(lambda: w.player.postplay.isVisible(), timeout=40000)
    app.widest = max(app.widest, w.width())
    assert w.player.postplay.next_title.get("name") == "Long Film"
    # More like this from the control plane: Long Film only (never Short Film itself), and as it
    # is up next on the card already, no row (and the focus stays on the card).
    post = w.player.postplay
    qtbot.waitUntil(lambda: bool(post._similar[0]), timeout=5000)
    assert [t.get("name") for t in post._similar[0]] == ["Long Film"]
    assert post.similar_ids() == [] and post.more is not None and post.more.isHidden()
    # 5. Back: the details page, Back again: home, on the tile opened.
    app.press(qtbot, K.Key_Escape)
    qtbot.waitUntil(lambda: w.current_name() == "details", timeout=5000)
    app.press(qtbot, K.Key_Escape)
    qtbot.waitUntil(lambda: w.current_name() == "home", timeout=5000)
    assert focused_tile() == opened
    assert 0 < app.widest <= screen_w
    assert w.width() <= screen_w
