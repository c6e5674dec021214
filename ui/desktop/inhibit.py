"""Keep the screen awake while a title plays: ``org.freedesktop.ScreenSaver.Inhibit`` on the
session bus, falling back to ``org.freedesktop.PowerManagement.Inhibit`` (which keeps the machine
from suspending rather than blanking the screen), else nothing after one info line.

Inhibited while the controller is playing and not paused; released on pause, stop, the end, an
error and :meth:`Inhibitor.close` (the app's shutdown). Services also drop an inhibition when its
caller leaves the bus, so a crash does not keep the screen on. The controller's pause flag has no
signal of its own; its 250 ms ``state`` snapshot carries it, so a pause is seen within a tick.

The calls are synchronous (``UnInhibit`` takes a uint32 cookie, which only a typed QDBusInterface
call can send from PySide; see :mod:`ui.desktop.bus`) with a 500 ms timeout, and are made only
on a change and only to a service that is on the bus.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from PySide6.QtCore import QObject
from PySide6.QtDBus import QDBusConnection

from ui.desktop.bus import call_typed, has_service, session_bus
from ui.playback import PlayerController

log = logging.getLogger("ui.desktop")


@dataclass(frozen=True)
class Target:
    service: str
    path: str
    interface: str


SCREENSAVER = Target("org.freedesktop.ScreenSaver", "/org/freedesktop/ScreenSaver",
                     "org.freedesktop.ScreenSaver")
POWER = Target("org.freedesktop.PowerManagement", "/org/freedesktop/PowerManagement/Inhibit",
               "org.freedesktop.PowerManagement.Inhibit")


class Inhibitor(QObject):
    """Follows ``controller``. :attr:`wanted`: "playing, not paused" at the last look;
    :attr:`cookie`: the inhibition held, ``(target, cookie)``, or None."""

    def __init__(self, controller: PlayerController, *, bus: QDBusConnection | None = None,
                 application: str = "Edgeplay", reason: str = "Playing a video",
                 timeout_ms: int = 500, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.controller = controller
        self.bus = bus
        self.application = application
        self.reason = reason
        self.timeout_ms = timeout_ms
        self.cookie: tuple[Target, int] | None = None
        self.wanted = False
        self._started = False
        self._told_none = False

    def start(self) -> bool:
        self.bus = session_bus("screen-saver inhibit", self.bus)
        if self.bus is None:
            return False
        c = self.controller
        for signal in (c.started, c.state, c.ended, c.stopped, c.failed):
            signal.connect(self.sync)
        self._started = True
        self.sync()
        return True

    def close(self) -> None:
        """Release and stop following the controller (idempotent)."""
        if self._started:
            c = self.controller
            for signal in (c.started, c.state, c.ended, c.stopped, c.failed):
                signal.disconnect(self.sync)
            self._started = False
        self.wanted = False
        self.release()

    def sync(self, *_: object) -> None:
        """Inhibit or release when "playing, not paused" changed since the last look."""
        want = self.controller.playing and not self.controller.paused
        if want == self.wanted:
            return
        self.wanted = want
        if want:
            self.inhibit()
        else:
            self.release()

    def inhibit(self) -> bool:
        if self.cookie is not None or self.bus is None:
            return self.cookie is not None
        for target in (SCREENSAVER, POWER):
            if not has_service(self.bus, target.service):
                continue
            ok, cookie = call_typed(self.bus, target.service, target.path, target.interface,
                                    "Inhibit", [("QString", self.application),
                                                ("QString", self.reason)],
                                    result="uint", timeout_ms=self.timeout_ms)
            if ok:
                self.cookie = (target, int(cookie))
                log.info("inhibit: %s cookie %s", target.service, cookie)
                return True
        if not self._told_none:
            self._told_none = True
            log.info("inhibit: neither %s nor %s answered; the screen may blank while playing",
                     SCREENSAVER.service, POWER.service)
        return False

    def release(self) -> None:
        held, self.cookie = self.cookie, None
        if held is None or self.bus is None:
            return
        target, cookie = held
        ok, _ = call_typed(self.bus, target.service, target.path, target.interface, "UnInhibit",
                           [("uint", cookie)], timeout_ms=self.timeout_ms)
        log.info("inhibit: released %s cookie %s%s", target.service, cookie,
                 "" if ok else " (the service did not answer)")
