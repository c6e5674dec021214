"""What the app creates next to the :class:`ui.playback.PlayerController`: the MPRIS object and
the screen-saver inhibitor, started together and closed before the app shuts the player down.

Without QtDBus (a PySide build without it) or a session bus, both log one info line and stay off.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtWidgets import QWidget

from ui.playback import PlayerController

log = logging.getLogger("ui.desktop")


class DesktopIntegration:
    def __init__(self, controller: PlayerController, window: QWidget, *,
                 quit_app: Callable[[], None] | None = None,
                 stop: Callable[[], None] | None = None,
                 art_folder: Path | None = None) -> None:
        self.controller = controller
        self.window = window
        self.quit_app = quit_app
        self.stop = stop
        self.art_folder = art_folder
        self.mpris: Any = None
        self.inhibitor: Any = None

    def start(self) -> None:
        try:
            from ui.desktop.bus import session_bus
            from ui.desktop.inhibit import Inhibitor
            from ui.desktop.mpris import MprisService
        except ImportError as exc:  # no QtDBus in this PySide build
            log.info("desktop integration: %s; skipped", exc)
            return
        bus = session_bus("desktop integration (MPRIS, screen-saver inhibit)")
        if bus is None:
            return
        self.mpris = MprisService(self.controller, bus=bus, raise_window=self.raise_window,
                                  quit_app=self.quit_app, stop=self.stop,
                                  art_folder=self.art_folder)
        if not self.mpris.start():
            self.mpris = None
        self.inhibitor = Inhibitor(self.controller, bus=bus)
        self.inhibitor.start()

    def raise_window(self) -> None:
        w = self.window
        if w.isMinimized():
            w.showNormal()
        w.show()
        w.raise_()
        w.activateWindow()

    def close(self) -> None:
        """Release the inhibition and leave the bus (before the session stops)."""
        if self.inhibitor is not None:
            self.inhibitor.close()
            self.inhibitor = None
        if self.mpris is not None:
            self.mpris.close()
            self.mpris = None
