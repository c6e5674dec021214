"""One JSON line per request, plus an in-memory ring buffer for the admin API.

An entry reads::

    {"ts": 1767225600.123, "edge": "edge-1", "method": "GET",
     "path": "/v1/media/REDACTED/t0/360p/seg_00000.ts", "status": 206, "bytes": 1000,
     "range": "bytes=0-999", "cache": "HIT", "duration_ms": 1.7, "fault": ["slow"],
     "client": "127.0.0.1"}

``status`` is null when no response was sent (hang, a dropped connection); ``bytes`` counts body
bytes actually written; ``fault`` lists the fault kinds that changed this response, or null.
"""

from __future__ import annotations

import json
from collections import deque
from typing import Any, TextIO

from controlplane.edge.paths import MEDIA_PREFIX

RING_ENTRIES = 1000
"""How many recent entries each edge keeps for the admin API (default 1000)."""


def redact_path(raw_path: str) -> str:
    """The request target with the signed token replaced by ``REDACTED``."""
    if not raw_path.startswith(MEDIA_PREFIX):
        return raw_path
    _token, sep, rest = raw_path[len(MEDIA_PREFIX) :].partition("/")
    return f"{MEDIA_PREFIX}REDACTED{sep}{rest}"


class RequestLog:
    def __init__(self, stream: TextIO | None, capacity: int = RING_ENTRIES) -> None:
        self._stream = stream
        self._recent: deque[dict[str, Any]] = deque(maxlen=capacity)

    def record(self, entry: dict[str, Any]) -> None:
        self._recent.append(entry)
        if self._stream is None:
            return
        try:
            self._stream.write(json.dumps(entry, separators=(",", ":")) + "\n")
            self._stream.flush()
        except (OSError, ValueError):
            pass  # a closed or broken log stream must not break serving

    def recent(self, limit: int | None = None) -> list[dict[str, Any]]:
        """The newest ``limit`` entries (all kept ones when None), oldest first."""
        entries = list(self._recent)
        return entries if limit is None else entries[-limit:] if limit > 0 else []
