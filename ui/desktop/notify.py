"""A desktop notification: ``org.freedesktop.Notifications.Notify`` on the session bus.

``notify("Download finished", "Big Buck Bunny is ready to watch offline.")`` returns True when a
notification server took it, False (never an exception) when there is no session bus, no server,
or the server refused. The call is synchronous with a 500 ms timeout (``Notify`` takes a uint32,
which only a typed QDBusInterface call sends from PySide; see :mod:`ui.desktop.bus`) and is made
only when a server is on the bus or can be started by it. Call it on the GUI thread.
"""

from __future__ import annotations

import logging

from PySide6.QtDBus import QDBusConnection

from ui.desktop.bus import call_typed, has_service

log = logging.getLogger("ui.desktop")
SERVICE = "org.freedesktop.Notifications"
PATH = "/org/freedesktop/Notifications"
APP_ID = "io.github.edgeplay.Edgeplay"
_told: set[str] = set()


def notify(summary: str, body: str, icon: str = APP_ID, *, category: str | None = None,
           timeout_ms: int = -1, bus: QDBusConnection | None = None) -> bool:
    """Show ``summary`` / ``body`` (plain text) with ``icon`` (an icon name or file URI).

    ``category`` is a freedesktop category (``"transfer.complete"`` for a finished download);
    ``timeout_ms`` is how long the server shows it (-1: its default). Logs one info line the
    first time there is no bus or no server.
    """
    bus = bus or QDBusConnection.sessionBus()
    if not bus.isConnected():
        _once("no D-Bus session bus: notifications are skipped")
        return False
    if not has_service(bus, SERVICE):
        _once(f"no {SERVICE} server: notifications are skipped")
        return False
    hints: dict[str, str] = {"desktop-entry": APP_ID}
    if category:
        hints["category"] = category
    ok, _ = call_typed(bus, SERVICE, PATH, SERVICE, "Notify", [
        ("QString", "Edgeplay"), ("uint", 0), ("QString", icon), ("QString", summary),
        ("QString", body), ("QStringList", []), ("QVariantMap", hints), ("int", timeout_ms)],
        result="uint", timeout_ms=500)
    return ok


def _once(text: str) -> None:
    if text not in _told:
        _told.add(text)
        log.info("notify: %s", text)
