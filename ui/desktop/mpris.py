"""MPRIS media controls: ``org.mpris.MediaPlayer2.edgeplay`` at ``/org/mpris/MediaPlayer2`` on the
session bus, so desktop shells, media keys and ``playerctl`` see and drive the player.

It is a :class:`QDBusVirtualObject` that answers the two MPRIS interfaces and
``org.freedesktop.DBus.Properties`` itself rather than Qt adaptors with Qt properties: Qt's own
property export cannot give the ``Metadata`` map typed values (``mpris:length`` must be an int64;
see :mod:`ui.desktop.bus`), and Get/GetAll/PropertiesChanged must agree. What it says comes from
:mod:`ui.desktop.mpris_spec`; methods call the :class:`ui.playback.PlayerController`.

``PropertiesChanged`` goes out when the status, metadata, volume or a capability changes: checked
on every controller signal (``started``, the 250 ms ``state``, ``ended``, ``stopped``,
``failed``) and right after a D-Bus control. ``Seeked`` is declared but not emitted: a hand-built
signal cannot carry a typed int64 from PySide; clients read ``Position``, which is current to
the last 250 ms snapshot.

If the name is taken (a second Edgeplay), ``org.mpris.MediaPlayer2.edgeplay.instance<pid>`` is
used, as the specification suggests. Everything runs on the GUI thread (Qt delivers a virtual
object's messages on the thread it lives in).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, SignalInstance
from PySide6.QtDBus import QDBusConnection, QDBusMessage, QDBusVariant, QDBusVirtualObject

from ui.desktop import mpris_spec as spec
from ui.desktop.bus import PROPERTIES, Int64Source, session_bus, string_array, vardict, variant
from ui.playback import PlayerController

log = logging.getLogger("ui.desktop")
Handler = Callable[[list[Any]], None]
_ERR = "org.freedesktop.DBus.Error."


def _signals(c: PlayerController) -> tuple[SignalInstance, ...]:
    return c.started, c.state, c.ended, c.stopped, c.failed


class MprisService(QDBusVirtualObject):
    """The MPRIS object. :meth:`start` registers it (False without a bus); :meth:`close` leaves.

    Hooks: ``raise_window`` and ``quit_app`` back ``Raise``/``Quit`` (``CanRaise``/``CanQuit``
    say whether they were given); ``stop`` backs ``Stop`` (default: ``controller.stop``; the app
    passes "leave the player page"); ``art_folder`` is the art cache, for ``file://`` art.
    """

    def __init__(self, controller: PlayerController, *, bus: QDBusConnection | None = None,
                 raise_window: Callable[[], None] | None = None,
                 quit_app: Callable[[], None] | None = None,
                 stop: Callable[[], None] | None = None, art_folder: Path | None = None,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.controller = controller
        self.bus = bus
        self.raise_window = raise_window
        self.quit_app = quit_app
        self.stop: Callable[[], object] = stop or controller.stop
        self.art_folder = art_folder
        self.name: str | None = None
        self._int64: Int64Source | None = None
        self._last: dict[str, Any] = {}
        c = controller
        self._methods: dict[tuple[str, str], Handler] = {
            (spec.ROOT, "Raise"): lambda a: self.raise_window() if self.raise_window else None,
            (spec.ROOT, "Quit"): lambda a: self.quit_app() if self.quit_app else None,
            (spec.PLAYER, "Next"): lambda a: None,
            (spec.PLAYER, "Previous"): lambda a: None,
            (spec.PLAYER, "Play"): lambda a: c.toggle_pause() if c.playing and c.paused else None,
            (spec.PLAYER, "Pause"): lambda a: c.toggle_pause() if c.playing and not c.paused
            else None,
            (spec.PLAYER, "PlayPause"): lambda a: c.toggle_pause() if c.playing else None,
            (spec.PLAYER, "Stop"): self._stop,
            (spec.PLAYER, "Seek"): self._seek,
            (spec.PLAYER, "SetPosition"): self._set_position,
            (spec.PLAYER, "OpenUri"): self._open_uri,
        }

    # --- lifecycle -----------------------------------------------------------------------------

    def start(self) -> bool:
        bus = session_bus("MPRIS", self.bus)
        if bus is None:
            return False
        if not bus.registerVirtualObject(spec.PATH, self):
            log.info("MPRIS: %s is already registered on this connection; skipped", spec.PATH)
            return False
        self.bus, self._int64 = bus, Int64Source(bus)
        for name in (spec.BUS_NAME, f"{spec.BUS_NAME}.instance{os.getpid()}"):
            if bus.registerService(name):
                break
        else:
            log.info("MPRIS: could not own %s (%s); skipped", spec.BUS_NAME,
                     bus.lastError().message())
            bus.unregisterObject(spec.PATH)
            self._int64.close()
            self._int64 = None
            return False
        self.name = name
        self._last = self._player_properties()
        for signal in _signals(self.controller):
            signal.connect(self.refresh)
        log.info("MPRIS: %s at %s", name, spec.PATH)
        return True

    def close(self) -> None:
        """Leave the bus (idempotent); the controller's signals no longer reach it."""
        if self.bus is None or self.name is None:
            return
        for signal in _signals(self.controller):
            signal.disconnect(self.refresh)
        self.bus.unregisterService(self.name)
        self.bus.unregisterObject(spec.PATH)
        if self._int64 is not None:
            self._int64.close()
        self.name = self._int64 = None

    # --- state out -----------------------------------------------------------------------------

    def _player_properties(self) -> dict[str, Any]:
        return spec.player_properties(self.controller, self.art_folder)

    def _properties(self, interface: str) -> dict[str, Any] | None:
        if interface == spec.ROOT:
            return spec.root_properties(can_raise=self.raise_window is not None,
                                        can_quit=self.quit_app is not None)
        if interface == spec.PLAYER:
            return {**self._player_properties(), "Position": spec.position(self.controller)}
        return None

    def refresh(self, *_: object) -> None:
        """Emit ``PropertiesChanged`` for what changed since the last look."""
        now = self._player_properties()
        changed = {k: v for k, v in now.items() if self._last.get(k) != v}
        self._last = now
        if not changed or self.bus is None or self._int64 is None:
            return
        signal = QDBusMessage.createSignal(spec.PATH, PROPERTIES, "PropertiesChanged")
        signal.setArguments([spec.PLAYER, vardict(changed, self._int64), string_array([])])
        self.bus.send(signal)

    # --- messages in ---------------------------------------------------------------------------

    def introspect(self, path: str) -> str:
        return spec.INTROSPECTION if path == spec.PATH else ""

    def handleMessage(self, message: QDBusMessage, connection: QDBusConnection) -> bool:
        interface, member = message.interface(), message.member()
        if interface == PROPERTIES:
            reply = self._on_properties(message)
        else:
            handler = self._methods.get((interface, member))
            if handler is None and not interface:  # D-Bus allows calls without an interface
                handler = self._methods.get((spec.PLAYER, member)) \
                    or self._methods.get((spec.ROOT, member))
            if handler is None:
                return False  # Qt answers: unknown method (and handles Introspect, Peer)
            try:
                handler(list(message.arguments()))
                reply = message.createReply()
            except NotImplementedError as exc:
                reply = message.createErrorReply(_ERR + "NotSupported", str(exc))
            except (ValueError, TypeError, IndexError) as exc:
                reply = message.createErrorReply(_ERR + "InvalidArgs", str(exc))
            self.refresh()
        connection.send(reply)
        return True

    def _on_properties(self, message: QDBusMessage) -> QDBusMessage:
        args = list(message.arguments())
        member = message.member()
        props = self._properties(str(args[0])) if args else None
        if props is None:
            if member == "GetAll" and args:  # a standard interface: no properties
                reply = message.createReply()
                reply.setArguments([vardict({}, self._ints())])
                return reply
            return message.createErrorReply(_ERR + "UnknownInterface", f"no interface {args[:1]}")
        if member == "GetAll":
            reply = message.createReply()
            reply.setArguments([vardict(props, self._ints())])
            return reply
        name = str(args[1]) if len(args) > 1 else ""
        if name not in props:
            return message.createErrorReply(_ERR + "UnknownProperty", f"no property {name!r}")
        if member == "Get":
            reply = message.createReply()
            reply.setArguments([variant(props[name], self._ints())])
            return reply
        if member == "Set" and len(args) == 3:
            if (str(args[0]), name) not in spec.WRITABLE:
                return message.createErrorReply(_ERR + "PropertyReadOnly", f"{name} is read-only")
            value = args[2].variant() if isinstance(args[2], QDBusVariant) else args[2]
            if name == "Volume" and isinstance(value, int | float):
                self.controller.set_volume(round(max(0.0, float(value)) * 100))
            self.refresh()
            return message.createReply()
        return message.createErrorReply(_ERR + "UnknownMethod", f"Properties.{member}")

    def _ints(self) -> Int64Source:
        assert self._int64 is not None  # messages only arrive while registered
        return self._int64

    # --- methods -------------------------------------------------------------------------------

    def _stop(self, args: list[Any]) -> None:
        if self.controller.session is not None:
            self.stop()

    def _seek(self, args: list[Any]) -> None:
        offset_us = int(args[0])
        if self.controller.playing:
            self.controller.seek_by(offset_us / 1_000_000)

    def _set_position(self, args: list[Any]) -> None:
        track, position_us = args[0], int(args[1])
        c = self.controller
        current = spec.track_id(str(c.title.get("id") or ""))
        length_us = c.duration_s * 1_000_000
        if c.playing and spec.same_path(track, current) and 0 <= position_us <= length_us:
            c.seek_to(position_us / 1_000_000)

    def _open_uri(self, args: list[Any]) -> None:
        raise NotImplementedError("Edgeplay opens no URIs (SupportedUriSchemes is empty)")
