"""Trusted time for license checks: the clock may only move forward.

A high-water mark of trusted time is kept in the journal. Every control-plane answer carries
``X-Server-Time`` (and every license its ``server_time``); each raises the mark. Each offline
check raises it to the local clock too, so an evening of offline viewing counts. A local clock
more than ``tolerance_s`` behind the mark has been moved back: licenses refuse to play until the
clock is right again or the control plane has been reached.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Protocol

from offline.errors import OfflineError

DEFAULT_TOLERANCE_S = 300.0
"""How far behind the mark the local clock may be (NTP steps, time-zone mistakes), s."""
MARK_STEP_S = 60.0
"""The local clock raises the mark only once it is this far ahead of it, s (well inside the
tolerance; spares a fsync on every check)."""


class MarkStore(Protocol):
    def get_mark(self) -> float: ...

    def set_mark(self, value: float) -> None: ...


class TrustedTime:
    def __init__(self, store: MarkStore, *, wall: Callable[[], float] = time.time,
                 tolerance_s: float = DEFAULT_TOLERANCE_S) -> None:
        self.store = store
        self.wall = wall
        self.tolerance_s = tolerance_s

    @property
    def mark(self) -> float:
        return self.store.get_mark()

    def observe_server(self, server_time: float | None) -> None:
        """The control plane said what time it is: that is trusted (it may move the mark
        back too, when the server is behind a clock that ran ahead)."""
        if server_time is not None and server_time > 0:
            self.store.set_mark(server_time)

    def now(self) -> float:
        """The local clock, checked against the mark (raises ``clock_rollback``)."""
        wall = self.wall()
        mark = self.store.get_mark()
        if wall + self.tolerance_s < mark:
            raise OfflineError(
                f"This device's clock is {(mark - wall) / 60:.0f} minutes behind the last "
                "time it was seen, so downloaded titles cannot be checked. Set the clock "
                "right, or go online once so Edgeplay can read the time from the service.",
                code="clock_rollback")
        if wall > mark + MARK_STEP_S:  # a durable write, so not on every check
            self.store.set_mark(wall)
        return wall
