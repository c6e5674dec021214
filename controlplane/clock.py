"""The server's notion of time.

Everything in the control plane that issues or checks an expiry (tokens, signed URLs, licenses)
asks a :class:`Clock` instead of calling :func:`time.time` directly, so the admin API can shift
server time (to exercise license expiry) and unit tests can set it outright.
"""

from __future__ import annotations

import time
from collections.abc import Callable


class Clock:
    """Wall-clock seconds since the epoch, plus an adjustable offset."""

    def __init__(self, source: Callable[[], float] = time.time) -> None:
        self._source = source
        self.offset_s = 0.0

    def now(self) -> float:
        return self._source() + self.offset_s

    def now_ms(self) -> int:
        return int(self.now() * 1000)
