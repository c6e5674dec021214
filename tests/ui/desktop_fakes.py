"""Fake freedesktop services for ``test_desktop.py``, run as their own process on the test's
session bus: ``python desktop_fakes.py screensaver,power,notifications`` (any subset).

A separate process because the code under test calls them synchronously from the GUI thread: an
in-process fake could not answer. Typed Qt slots make the fakes as strict as GDBus or Qt services:
a call whose D-Bus signature is off (``i`` for ``u``) is refused, not recorded. One JSON line per
call on stdout (``["Inhibit", "org.freedesktop.ScreenSaver", "Edgeplay", "Playing a video"]``);
the first line is ``["ready"]``, once every name is owned.
"""

from __future__ import annotations

import itertools
import json
import sys
from typing import Any

from PySide6.QtCore import ClassInfo, QCoreApplication, QObject, Slot
from PySide6.QtDBus import QDBusAbstractAdaptor, QDBusConnection

_cookies = itertools.count(1001)


def out(*fields: Any) -> None:
    print(json.dumps(fields), flush=True)


def inhibit_adaptor(interface: str) -> type[QDBusAbstractAdaptor]:
    @ClassInfo(**{"D-Bus Interface": interface})
    class Inhibit(QDBusAbstractAdaptor):
        @Slot(str, str, result="uint")
        def Inhibit(self, application: str, reason: str) -> int:
            cookie = next(_cookies)
            out("Inhibit", interface, application, reason, cookie)
            return cookie

        @Slot("uint")
        def UnInhibit(self, cookie: int) -> None:
            out("UnInhibit", interface, cookie)

    return Inhibit


@ClassInfo(**{"D-Bus Interface": "org.freedesktop.Notifications"})
class Notifications(QDBusAbstractAdaptor):
    @Slot(str, "uint", str, str, str, "QStringList", "QVariantMap", int, result="uint")
    def Notify(self, app: str, replaces: int, icon: str, summary: str, body: str,
               actions: list[str], hints: dict[str, Any], timeout_ms: int) -> int:
        out("Notify", app, replaces, icon, summary, body, actions, hints, timeout_ms)
        return 7

    @Slot(result="QStringList")
    def GetCapabilities(self) -> list[str]:
        return ["body"]


SERVICES = {
    "screensaver": ("org.freedesktop.ScreenSaver", "/org/freedesktop/ScreenSaver",
                    inhibit_adaptor("org.freedesktop.ScreenSaver")),
    "power": ("org.freedesktop.PowerManagement", "/org/freedesktop/PowerManagement/Inhibit",
              inhibit_adaptor("org.freedesktop.PowerManagement.Inhibit")),
    "notifications": ("org.freedesktop.Notifications", "/org/freedesktop/Notifications",
                      Notifications),
}


def main() -> int:
    app = QCoreApplication(sys.argv[:1])
    bus = QDBusConnection.sessionBus()
    keep = []
    for key in sys.argv[1].split(","):
        name, path, adaptor = SERVICES[key]
        holder = QObject()
        keep.append((holder, adaptor(holder)))
        if not (bus.registerObject(path, holder, QDBusConnection.RegisterOption.ExportAdaptors)
                and bus.registerService(name)):
            out("error", name, bus.lastError().message())
            return 1
    out("ready")
    return app.exec()


if __name__ == "__main__":
    sys.exit(main())
