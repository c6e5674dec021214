"""The app against a real bundled control plane (the fake catalog): killed with SIGKILL mid-run,
it is noticed, restarted on a new port with the same state folder, the device stays signed in
and home loads again. Also the client's profile edits against the real server."""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from player.errors import ConflictError
from player.mpv_seam import FakeMpv
from player.tokens import TokenStore
from ui.aio import AsyncLoop, Runner
from ui.app import shutdown
from ui.artwork import ArtCache
from ui.backend import Backend
from ui.config import AppPaths, Settings
from ui.nav import Action
from ui.playback import PlayerController
from ui.video import NullVideoWidget
from ui.window import MainWindow

pytestmark = pytest.mark.timeout(180)


class App:
    def __init__(self, window: MainWindow, backend: Backend, runner: Runner) -> None:
        self.window = window
        self.backend = backend
        self.runner = runner

    def call(self, qtbot: Any, coro: Any, timeout_ms: int = 10000) -> Any:
        """Run a coroutine on the engine loop; wait for its result without blocking Qt."""
        box: list[Any] = []
        self.runner.run(coro, box.append, box.append)
        qtbot.waitUntil(lambda: bool(box), timeout=timeout_ms)
        if isinstance(box[0], BaseException):
            raise box[0]
        return box[0]


@pytest.fixture()
def app(qtbot: Any, tmp_path: Path, fake_catalog_dir: Path) -> Iterator[App]:
    aio = AsyncLoop()
    aio.start()
    runner = Runner(aio)
    paths = AppPaths.under(tmp_path)
    backend = Backend(runner, paths, catalog_dir=str(fake_catalog_dir))
    backend.watch_interval_s = 0.2
    art = ArtCache(runner, paths.art_cache)
    mpv, video = FakeMpv(), NullVideoWidget()
    controller = PlayerController(runner, mpv)
    window = MainWindow(backend, art, controller, video, Settings(), paths,
                        auto_sign_in=True)
    # Not qtbot.addWidget: pytest-qt would close and delete it before this fixture's teardown
    # runs the app's own shutdown order.
    window.resize(1280, 720)
    window.show()
    with qtbot.waitSignal(window.home_ready, timeout=120000):
        window.start()
    yield App(window, backend, runner)
    # No poster load may be left to open a new HTTP client after art.aclose().
    qtbot.waitUntil(lambda: not art._pending, timeout=10000)
    shutdown(window, runner, aio, backend, art, controller, video, mpv)  # the app's own order
    window.deleteLater()


def test_a_killed_control_plane_comes_back(qtbot: Any, app: App) -> None:
    backend, window = app.backend, app.window
    assert backend.bundled is not None and backend.bundled.proc is not None
    old_proc = backend.bundled.proc
    old_url = backend.base_url
    state = backend.paths.controlplane_state
    assert window.current_name() == "home" and window.home.visible_sections()
    creds = backend.cp.credentials
    assert creds is not None
    # The session is keyed by the state folder, not by the port that is about to change.
    assert isinstance(backend.store, TokenStore) and backend.store.key == f"bundled:{state}"

    with qtbot.waitSignals([backend.restarting, backend.restarted, window.home_ready],
                           timeout=120000, order="strict"):
        os.kill(old_proc.pid, signal.SIGKILL)
    assert old_proc.poll() == -signal.SIGKILL
    texts = [m.text for m in window.messages.history]
    assert "The built-in service stopped; restarting it…" in texts
    assert backend.bundled is not None and backend.bundled.proc is not old_proc
    assert backend.bundled.proc is not None and backend.bundled.proc.poll() is None
    assert backend.base_url != old_url
    assert backend.cp.base_url == backend.base_url
    assert f"--state-dir={state}" in " ".join(backend.bundled.args).replace(
        "--state-dir ", "--state-dir=")
    # Still the same device, signed in: the rows (an authenticated call) loaded again.
    assert backend.signed_in and backend.cp.credentials == creds
    assert window.current_name() == "home" and window.home.visible_sections()
    assert TokenStore(f"bundled:{state}").load() in (creds, None)  # None: no keyring here
    me = app.call(qtbot, backend.cp.me())
    assert me["device"]["id"] == creds.device_id


def test_profile_edits_use_the_client(qtbot: Any, app: App) -> None:
    backend = app.backend
    made = app.call(qtbot, backend.cp.create_profile("Kim", avatar_color="#123456"))
    pid = str(made["id"])
    renamed = app.call(qtbot, backend.update_profile(pid, name="Kimberly"))
    assert renamed["name"] == "Kimberly" and renamed["avatar_color"] == "#123456"
    recoloured = app.call(qtbot, backend.cp.update_profile(pid, avatar_color="#654321"))
    assert (recoloured["name"], recoloured["avatar_color"]) == ("Kimberly", "#654321")
    app.call(qtbot, backend.delete_profile(pid))
    profiles = app.call(qtbot, backend.cp.profiles())
    assert pid not in [p["id"] for p in profiles]
    for other in profiles[1:]:
        app.call(qtbot, backend.cp.delete_profile(str(other["id"])))
    with pytest.raises(ConflictError) as refused:
        app.call(qtbot, backend.cp.delete_profile(str(profiles[0]["id"])))
    assert refused.value.server_code == "last_profile"


def test_a_crash_loop_stops_and_retry_brings_it_back(qtbot: Any, app: App) -> None:
    backend, window = app.backend, app.window
    backend.max_restarts = 0  # as if it had already died too often within a minute
    assert backend.bundled is not None and backend.bundled.proc is not None
    with qtbot.waitSignal(backend.restart_failed, timeout=10000):
        os.kill(backend.bundled.proc.pid, signal.SIGKILL)
    message = window.messages.history[-1]
    assert message.text.startswith("The built-in service could not restart")
    assert message.action_label == "Retry"
    assert window.toast.contains_focus()  # a remote can press it
    with qtbot.waitSignals([backend.restarted, window.home_ready], timeout=120000):
        window.toast.on_action(Action.SELECT)
    assert backend.bundled.proc is not None and backend.bundled.proc.poll() is None
    assert backend.cp.base_url == backend.base_url
