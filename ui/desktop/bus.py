"""QtDBus helpers for the desktop integration: the session bus (or None), typed values and typed
calls.

Why this module exists: the freedesktop interfaces are strictly typed (MPRIS wants ``int64``
positions and lengths, ``UnInhibit`` and ``Notify`` want ``uint32``; GDBus- and Qt-based services
reject a call whose signature is off), but PySide6 turns a Python ``int`` into an ``int32`` when it
fits and has no way to ask for another integer type. Two of Qt's own paths keep types, measured
with PySide6 6.11:

- a Qt property declared ``qlonglong`` and read through D-Bus comes back as a
  :class:`QDBusVariant` that holds an int64. :class:`Int64Source` reads its own property over the
  connection's local loop (no bus traffic, ~0.2 ms) to make such variants for MPRIS;
- :class:`QDBusInterface` builds its methods from the service's introspection, so invoking one
  with ``Q_ARG("uint", …)`` marshals a uint32. :func:`call_typed` does that; it is a synchronous
  call (bounded by a timeout), made only when the service is on the bus.

Values for :func:`variant` / :func:`vardict`: ``bool``, ``str``, ``float`` (a D-Bus double),
:class:`Int64`, :class:`QDBusObjectPath`, ``list[str]`` and nested ``dict[str, …]``.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import (
    Q_ARG,
    Q_RETURN_ARG,
    ClassInfo,
    Property,
    QMetaObject,
    QMetaType,
    QObject,
    Qt,
)
from PySide6.QtDBus import (
    QDBusArgument,
    QDBusConnection,
    QDBusInterface,
    QDBusMessage,
    QDBusObjectPath,
    QDBusVariant,
)

log = logging.getLogger("ui.desktop")
PROPERTIES = "org.freedesktop.DBus.Properties"


def session_bus(what: str, bus: QDBusConnection | None = None) -> QDBusConnection | None:
    """``bus`` (default: the session bus) if connected, else None after one info line saying
    ``what`` is skipped."""
    bus = bus if bus is not None else QDBusConnection.sessionBus()
    if bus.isConnected():
        return bus
    reason = " ".join(bus.lastError().message().split()) or "not connected"
    log.info("%s: no D-Bus session bus (%s); skipped", what, reason)
    return None


def has_service(bus: QDBusConnection, name: str) -> bool:
    """True when ``name`` is owned on the bus or can be started by it (D-Bus activation)."""
    iface = bus.interface()
    if iface is None:
        return False
    registered = iface.isServiceRegistered(name)
    if registered.isValid() and registered.value():
        return True
    activatable = iface.activatableServiceNames()
    return bool(activatable.isValid() and name in (activatable.value() or []))


@dataclass(frozen=True)
class Int64:
    """An integer to send as a D-Bus ``x`` (int64)."""

    value: int


# PySide's stub types ClassInfo's keywords as dicts and gives it no __call__.
@ClassInfo(**{"D-Bus Interface": "io.github.edgeplay.Int64"})  # type: ignore[arg-type]
class _Int64Holder(QObject):  # type: ignore[operator]
    def __init__(self) -> None:
        super().__init__()
        self.current = 0

    def _read(self) -> int:
        return self.current

    value = Property("qlonglong", _read)  # type: ignore[arg-type]  # a Qt type name


class Int64Source:
    """Makes :class:`QDBusVariant` values that hold a real int64 (see the module docstring).

    The holder object is registered at :attr:`PATH` on ``bus``; :meth:`close` removes it.
    """

    PATH = "/io/github/edgeplay/Int64"

    def __init__(self, bus: QDBusConnection) -> None:
        self.bus = bus
        self._holder = _Int64Holder()
        self.registered = bus.registerObject(
            self.PATH, self._holder, QDBusConnection.RegisterOption.ExportAllProperties)

    def __call__(self, value: int) -> QDBusVariant:
        if self.registered:
            self._holder.current = value
            call = QDBusMessage.createMethodCall(self.bus.baseService(), self.PATH, PROPERTIES,
                                                 "Get")
            call.setArguments(["io.github.edgeplay.Int64", "value"])
            reply = self.bus.call(call)  # the local loop: answered in this call, no bus traffic
            args = reply.arguments()
            if reply.type() == QDBusMessage.MessageType.ReplyMessage and args \
                    and isinstance(args[0], QDBusVariant):
                return args[0]
            log.warning("int64 for D-Bus: %s", reply.errorMessage())
        return QDBusVariant(value)  # int32-typed when it fits: still readable by most clients

    def close(self) -> None:
        if self.registered:
            self.bus.unregisterObject(self.PATH)
            self.registered = False


def variant(value: Any, int64: Int64Source) -> QDBusVariant:
    """``value`` as a D-Bus variant, typed as the module docstring lists."""
    if isinstance(value, Int64):
        return int64(value.value)
    if isinstance(value, Mapping):
        return QDBusVariant(vardict(value, int64))
    if isinstance(value, list):
        return QDBusVariant(string_array(value))
    if isinstance(value, bool | str | float | QDBusObjectPath):
        return QDBusVariant(value)
    raise TypeError(f"no D-Bus type for {type(value).__name__}")


def vardict(values: Mapping[str, Any], int64: Int64Source) -> QDBusArgument:
    """An ``a{sv}`` built entry by entry (a Python dict would turn int64s into int32s)."""
    arg = QDBusArgument()
    arg.beginMap(QMetaType(QMetaType.Type.QString), QMetaType.fromName(b"QDBusVariant"))
    for key, value in values.items():
        arg.beginMapEntry()
        arg.appendVariant(str(key))
        arg.appendVariant(variant(value, int64))
        arg.endMapEntry()
    arg.endMap()
    return arg


def string_array(items: Sequence[str]) -> QDBusArgument:
    """An ``as`` (an empty Python list would become ``av``)."""
    arg = QDBusArgument()
    arg.beginArray(QMetaType(QMetaType.Type.QString))
    for item in items:
        arg.appendVariant(str(item))
    arg.endArray()
    return arg


def call_typed(bus: QDBusConnection, service: str, path: str, interface: str, method: str,
               args: Sequence[tuple[str, Any]], *, result: str | None = None,
               timeout_ms: int = 500) -> tuple[bool, Any]:
    """Call ``method`` with Qt-typed ``args`` (``[("uint", 5), ("QString", "x")]``).

    Returns ``(True, reply value or None)``, or ``(False, None)`` after a warning; never raises.
    Synchronous: the first call to an interface also introspects the service (Qt caches it).
    """
    iface = QDBusInterface(service, path, interface, bus)
    try:
        if not iface.isValid():
            log.warning("%s: %s", service, iface.lastError().message())
            return False, None
        iface.setTimeout(timeout_ms)
        q_args = [Q_ARG(type_name, value) for type_name, value in args]
        direct = Qt.ConnectionType.DirectConnection
        if result is None:
            value = None
            QMetaObject.invokeMethod(iface, method, direct, *q_args)
        else:
            value = QMetaObject.invokeMethod(iface, method, direct, Q_RETURN_ARG(result), *q_args)
        error = iface.lastError()
        if error.isValid():
            log.warning("%s.%s: %s", interface, method, error.message())
            return False, None
        return True, value
    except (RuntimeError, TypeError) as exc:
        log.warning("%s.%s: %s", interface, method, exc)
        return False, None
