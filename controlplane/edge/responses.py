"""What an edge answers, before faults shape how it goes out."""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from controlplane.edge.body import BytesSource, Source
from controlplane.edge.ranges import ByteRange


@dataclass
class Reply:
    status: int
    content_type: str
    source: Source
    headers: dict[str, str] = field(default_factory=dict)
    cache: str | None = None
    """"HIT", "MISS" or None (not a media response)."""
    byte_range: ByteRange | None = None
    is_ts: bool = False
    """The body is a media segment, .ts or .m4s (the only kind the corrupt fault touches)."""


def json_reply(
    status: int, payload: dict[str, object], headers: dict[str, str] | None = None
) -> Reply:
    body = json.dumps(payload).encode()
    return Reply(status, "application/json", BytesSource(body), headers=dict(headers or {}))


def error_reply(
    status: int, code: str, message: str, headers: dict[str, str] | None = None
) -> Reply:
    """Every error body is ``{"error": code, "message": human text}``."""
    return json_reply(status, {"error": code, "message": message}, headers)
