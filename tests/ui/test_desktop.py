"""Desktop integration through real D-Bus calls on the private session bus of the test run
(``scripts/in-test-session.sh …``): MPRIS seen from outside with
``dbus-send`` (which prints the wire types), PropertiesChanged on a second connection, the
screen-saver inhibition and notifications against fake services in their own process
(``desktop_fakes.py``). Without a session bus the bus tests skip; the "no bus" behaviour is
checked on a connection that was never opened.
"""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import SLOT, QObject, Slot
from PySide6.QtDBus import QDBusConnection

from player.mpv_seam import FakeMpv
from ui.aio import AsyncLoop, Runner
from ui.desktop import mpris_spec as spec
from ui.desktop import notify as notify_module
from ui.desktop.bus import has_service
from ui.desktop.inhibit import Inhibitor
from ui.desktop.integration import DesktopIntegration
from ui.desktop.mpris import MprisService
from ui.desktop.notify import notify
from ui.playback import PlayerController

from .conftest import FakeSession, make_title

FAKES = Path(__file__).with_name("desktop_fakes.py")


def _session_bus() -> QDBusConnection | None:
    if not os.environ.get("DBUS_SESSION_BUS_ADDRESS"):  # never let libdbus autolaunch one
        return None
    bus = QDBusConnection.sessionBus()
    return bus if bus.isConnected() else None


needs_bus = pytest.mark.skipif(_session_bus() is None, reason="no D-Bus session bus")


class Player:
    """A real PlayerController on a real engine loop, with fake sessions."""

    def __init__(self, qtbot: Any) -> None:
        self.qtbot = qtbot
        self.aio = AsyncLoop()
        self.aio.start()
        self.runner = Runner(self.aio)
        self.sessions: list[FakeSession] = []
        self.controller = PlayerController(self.runner, FakeMpv(), poll_ms=50,
                                           make_session=self._session)

    def _session(self, *args: Any) -> FakeSession:
        self.sessions.append(FakeSession())
        return self.sessions[-1]

    def play(self, n: int = 1) -> dict[str, Any]:
        title = make_title(n)
        title["poster_url"] = f"http://127.0.0.1:9/art/poster-{n}.jpg"
        self.controller.play(None, title, "p1", start_over=False,  # type: ignore[arg-type]
                             max_rung=None)
        self.qtbot.waitUntil(lambda: self.controller.playing, timeout=3000)
        return title

    def calls(self) -> list[tuple[str, Any]]:
        return self.sessions[-1].calls

    def close(self) -> None:
        self.controller.stop()
        self.runner.close()
        self.aio.stop()


@pytest.fixture
def player(qtbot: Any) -> Iterator[Player]:
    p = Player(qtbot)
    yield p
    p.close()


@pytest.fixture
def mpris(player: Player) -> Iterator[MprisService]:
    bus = _session_bus()
    assert bus is not None
    service = MprisService(player.controller, bus=bus, raise_window=lambda: None)
    assert service.start()
    yield service
    service.close()


def dbus_send(qtbot: Any, member: str, *args: str, dest: str = spec.BUS_NAME) -> str:
    """``dbus-send --print-reply`` run while the Qt loop spins (the service is in this process);
    the reply with whitespace collapsed."""
    if shutil.which("dbus-send") is None:
        pytest.skip("dbus-send is not installed")
    proc = subprocess.Popen(["dbus-send", "--session", "--print-reply", f"--dest={dest}",
                             spec.PATH, member, *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    qtbot.waitUntil(lambda: proc.poll() is not None, timeout=5000)
    out, err = proc.communicate()
    assert proc.returncode == 0, err
    return re.sub(r"\s+", " ", out)


def get_all(qtbot: Any, interface: str) -> str:
    return dbus_send(qtbot, "org.freedesktop.DBus.Properties.GetAll", f"string:{interface}")


class Fakes:
    """desktop_fakes.py in its own process; :attr:`calls` are its JSON lines."""

    def __init__(self, services: str) -> None:
        self.calls: list[list[Any]] = []
        self._ready = threading.Event()
        self.proc = subprocess.Popen([sys.executable, str(FAKES), services],
                                     stdout=subprocess.PIPE, text=True)
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        assert self._ready.wait(15), "the fake services did not start"

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            fields = json.loads(line)
            if fields == ["ready"]:
                self._ready.set()
            else:
                self.calls.append(fields)

    def named(self, member: str) -> list[list[Any]]:
        return [c for c in self.calls if c[0] == member]

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(5)
        self._reader.join(5)
        assert self.proc.stdout is not None
        self.proc.stdout.close()


@pytest.fixture
def fakes(request: pytest.FixtureRequest) -> Iterator[Fakes]:
    f = Fakes(request.param)
    yield f
    f.stop()


# --- without a bus -------------------------------------------------------------------------------

def test_no_bus_is_a_quiet_no_op(player: Player, caplog: pytest.LogCaptureFixture,
                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(notify_module, "_told", set())
    never_opened = QDBusConnection("edgeplay-test-no-bus")
    assert not never_opened.isConnected()
    with caplog.at_level(logging.INFO, logger="ui.desktop"):
        assert not MprisService(player.controller, bus=never_opened).start()
        inhibitor = Inhibitor(player.controller, bus=never_opened)
        assert not inhibitor.start()
        assert not notify("Download finished", "Title 1", bus=never_opened)
        assert not notify("Download finished", "Title 2", bus=never_opened)
    lines = [r.getMessage() for r in caplog.records if r.name == "ui.desktop"]
    assert len(lines) == 3, lines  # one each; the second notify says nothing
    assert all(r.levelno == logging.INFO for r in caplog.records if r.name == "ui.desktop")
    player.play()
    inhibitor.close()
    assert inhibitor.cookie is None


def test_track_ids_are_object_paths() -> None:
    assert spec.track_id("") == spec.NO_TRACK
    assert spec.track_id("t1") == spec.TRACK_PREFIX + "t1"
    assert spec.track_id("a-b/é") == spec.TRACK_PREFIX + "a_2Db_2F_E9"


# --- MPRIS ---------------------------------------------------------------------------------------

@needs_bus
def test_getall_says_what_plays_with_the_right_types(qtbot: Any, player: Player,
                                                     mpris: MprisService) -> None:
    assert 'string "PlaybackStatus" variant string "Stopped"' in get_all(qtbot, spec.PLAYER)
    player.play(1)
    out = get_all(qtbot, spec.PLAYER)
    assert 'string "PlaybackStatus" variant string "Playing"' in out
    assert ('string "mpris:trackid" variant object path '
            '"/io/github/edgeplay/Edgeplay/title/t1"') in out
    assert 'string "xesam:title" variant string "Title 1"' in out
    assert 'string "mpris:length" variant int64 600000000' in out  # µs, int64 on the wire
    assert 'string "mpris:artUrl" variant string "http://127.0.0.1:9/art/poster-1.jpg"' in out
    assert re.search(r'string "Position" variant int64 \d+', out)
    assert 'string "Volume" variant double 1' in out
    for flag in ("CanPlay", "CanPause", "CanSeek", "CanControl"):
        assert f'string "{flag}" variant boolean true' in out
    for flag in ("CanGoNext", "CanGoPrevious"):
        assert f'string "{flag}" variant boolean false' in out
    root = get_all(qtbot, spec.ROOT)
    assert 'string "Identity" variant string "Edgeplay"' in root
    assert 'string "DesktopEntry" variant string "io.github.edgeplay.Edgeplay"' in root
    assert 'string "CanRaise" variant boolean true' in root
    assert 'string "CanQuit" variant boolean false' in root  # no quit hook given
    assert 'string "SupportedUriSchemes" variant array [ ]' in root


@needs_bus
def test_controls_from_dbus_drive_the_controller(qtbot: Any, player: Player,
                                                 mpris: MprisService) -> None:
    player.play(1)
    c = player.controller
    dbus_send(qtbot, f"{spec.PLAYER}.PlayPause")
    qtbot.waitUntil(lambda: ("pause", None) in player.calls())
    assert c.paused
    assert 'variant string "Paused"' in dbus_send(
        qtbot, "org.freedesktop.DBus.Properties.Get", f"string:{spec.PLAYER}",
        "string:PlaybackStatus")
    dbus_send(qtbot, f"{spec.PLAYER}.Play")
    qtbot.waitUntil(lambda: ("resume", None) in player.calls())
    assert not c.paused
    dbus_send(qtbot, f"{spec.PLAYER}.Seek", "int64:30000000")
    qtbot.waitUntil(lambda: ("seek", 30.0) in player.calls())
    dbus_send(qtbot, f"{spec.PLAYER}.SetPosition", f"objpath:{spec.track_id('t1')}",
              "int64:5000000")
    qtbot.waitUntil(lambda: ("seek", 5.0) in player.calls())
    dbus_send(qtbot, f"{spec.PLAYER}.SetPosition", f"objpath:{spec.track_id('t9')}",
              "int64:7000000")  # a stale track id is ignored
    dbus_send(qtbot, "org.freedesktop.DBus.Properties.Set", f"string:{spec.PLAYER}",
              "string:Volume", "variant:double:0.5")
    assert c.volume == 50
    dbus_send(qtbot, f"{spec.PLAYER}.Next")  # no queue: nothing happens
    dbus_send(qtbot, f"{spec.PLAYER}.Stop")
    qtbot.waitUntil(lambda: ("stop", None) in player.calls())
    assert ("seek", 7.0) not in player.calls()
    assert not c.playing
    out = get_all(qtbot, spec.PLAYER)
    assert 'variant string "Stopped"' in out
    assert f'object path "{spec.NO_TRACK}"' in out


class Listener(QObject):
    def __init__(self) -> None:
        super().__init__()
        self.changes: list[dict[str, Any]] = []

    @Slot(str, "QVariantMap", "QStringList")
    def changed(self, interface: str, props: dict[str, Any], invalidated: list[str]) -> None:
        if interface == spec.PLAYER:
            self.changes.append(dict(props))


@needs_bus
def test_properties_changed_on_status_and_metadata(qtbot: Any, player: Player,
                                                   mpris: MprisService) -> None:
    other = QDBusConnection.connectToBus(QDBusConnection.BusType.SessionBus, "edgeplay-listener")
    listener = Listener()
    try:
        assert other.connect(spec.BUS_NAME, spec.PATH, "org.freedesktop.DBus.Properties",
                             "PropertiesChanged", listener,
                             SLOT("changed(QString,QVariantMap,QStringList)"))
        player.play(1)
        qtbot.waitUntil(lambda: any(ch.get("PlaybackStatus") == "Playing"
                                    for ch in listener.changes), timeout=3000)
        assert any("Metadata" in ch for ch in listener.changes)
        player.controller.toggle_pause()  # from the UI: seen on the next state snapshot
        qtbot.waitUntil(lambda: listener.changes[-1].get("PlaybackStatus") == "Paused",
                        timeout=3000)
        player.controller.stop()
        qtbot.waitUntil(lambda: listener.changes[-1].get("PlaybackStatus") == "Stopped",
                        timeout=3000)
        assert "Metadata" in listener.changes[-1]
        assert not any("Position" in ch for ch in listener.changes)
    finally:
        QDBusConnection.disconnectFromBus("edgeplay-listener")


@needs_bus
def test_a_second_instance_takes_an_instance_name(player: Player, mpris: MprisService) -> None:
    other = QDBusConnection.connectToBus(QDBusConnection.BusType.SessionBus, "edgeplay-second")
    try:
        second = MprisService(player.controller, bus=other)
        assert second.start()
        assert second.name == f"{spec.BUS_NAME}.instance{os.getpid()}"
        second.close()
        assert not has_service(mpris.bus, second.name)  # type: ignore[arg-type]
    finally:
        QDBusConnection.disconnectFromBus("edgeplay-second")
    assert mpris.name == spec.BUS_NAME


@needs_bus
def test_integration_starts_and_leaves_the_bus(qtbot: Any, player: Player) -> None:
    from PySide6.QtWidgets import QWidget
    window = QWidget()
    qtbot.addWidget(window)
    quits: list[bool] = []
    desktop = DesktopIntegration(player.controller, window, quit_app=lambda: quits.append(True))
    desktop.start()
    bus = _session_bus()
    assert bus is not None
    assert has_service(bus, spec.BUS_NAME)
    assert 'string "CanQuit" variant boolean true' in get_all(qtbot, spec.ROOT)
    dbus_send(qtbot, f"{spec.ROOT}.Raise")
    assert window.isVisible()
    dbus_send(qtbot, f"{spec.ROOT}.Quit")
    assert quits == [True]
    desktop.close()
    desktop.close()
    assert not has_service(bus, spec.BUS_NAME)


# --- inhibit and notify --------------------------------------------------------------------------

@needs_bus
@pytest.mark.parametrize("fakes", ["screensaver"], indirect=True)
def test_inhibit_while_playing_release_on_pause_and_stop(qtbot: Any, player: Player,
                                                        fakes: Fakes) -> None:
    inhibitor = Inhibitor(player.controller)
    assert inhibitor.start()
    player.play(1)
    qtbot.waitUntil(lambda: len(fakes.named("Inhibit")) == 1, timeout=3000)
    _, interface, app, reason, cookie = fakes.named("Inhibit")[0]
    assert (interface, app, reason) == ("org.freedesktop.ScreenSaver", "Edgeplay",
                                        "Playing a video")
    player.controller.toggle_pause()
    qtbot.waitUntil(lambda: len(fakes.named("UnInhibit")) == 1, timeout=3000)
    assert fakes.named("UnInhibit")[0] == ["UnInhibit", "org.freedesktop.ScreenSaver", cookie]
    player.controller.toggle_pause()
    qtbot.waitUntil(lambda: len(fakes.named("Inhibit")) == 2, timeout=3000)
    second = fakes.named("Inhibit")[1][-1]
    player.controller.stop()
    qtbot.waitUntil(lambda: len(fakes.named("UnInhibit")) == 2, timeout=3000)
    assert fakes.named("UnInhibit")[1][-1] == second
    assert inhibitor.cookie is None
    player.play(2)
    qtbot.waitUntil(lambda: len(fakes.named("Inhibit")) == 3, timeout=3000)
    inhibitor.close()  # the app's shutdown
    # The service answered; its log line reaches this process through a pipe reader: wait.
    qtbot.waitUntil(lambda: len(fakes.named("UnInhibit")) == 3, timeout=10000)
    assert [c[0] for c in fakes.calls] == ["Inhibit", "UnInhibit"] * 3


@needs_bus
@pytest.mark.parametrize("fakes", ["power"], indirect=True)
def test_inhibit_falls_back_to_power_management(qtbot: Any, player: Player,
                                               fakes: Fakes) -> None:
    inhibitor = Inhibitor(player.controller)
    assert inhibitor.start()
    player.play(1)
    qtbot.waitUntil(lambda: len(fakes.named("Inhibit")) == 1, timeout=3000)
    assert fakes.calls[0][1] == "org.freedesktop.PowerManagement.Inhibit"
    inhibitor.close()
    qtbot.waitUntil(lambda: len(fakes.named("UnInhibit")) == 1, timeout=10000)  # via a pipe
    assert fakes.named("UnInhibit")[0][1:] == ["org.freedesktop.PowerManagement.Inhibit",
                                               fakes.calls[0][-1]]


@needs_bus
def test_inhibit_without_a_service_says_so_once(qtbot: Any, player: Player,
                                                caplog: pytest.LogCaptureFixture) -> None:
    inhibitor = Inhibitor(player.controller)
    with caplog.at_level(logging.INFO, logger="ui.desktop"):
        assert inhibitor.start()
        player.play(1)
        player.controller.toggle_pause()
        qtbot.waitUntil(lambda: not inhibitor.wanted, timeout=3000)
        player.controller.toggle_pause()
        qtbot.waitUntil(lambda: inhibitor.wanted, timeout=3000)
    told = [r for r in caplog.records if "the screen may blank" in r.getMessage()]
    assert len(told) == 1 and inhibitor.cookie is None
    inhibitor.close()


@needs_bus
@pytest.mark.parametrize("fakes", ["notifications"], indirect=True)
def test_notify_sends_a_typed_notification(qtbot: Any, fakes: Fakes) -> None:
    assert notify("Download finished", "Title 1 is ready to watch offline.",
                  category="transfer.complete")
    qtbot.waitUntil(lambda: bool(fakes.calls), timeout=3000)  # the fake's line, via its pipe
    assert fakes.named("Notify") == [[
        "Notify", "Edgeplay", 0, "io.github.edgeplay.Edgeplay", "Download finished",
        "Title 1 is ready to watch offline.", [],
        {"desktop-entry": "io.github.edgeplay.Edgeplay", "category": "transfer.complete"}, -1]]


@needs_bus
def test_notify_without_a_server_is_false() -> None:
    bus = _session_bus()
    assert bus is not None and not has_service(bus, "org.freedesktop.Notifications")
    assert not notify("Download finished", "Title 1")
