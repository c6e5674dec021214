"""Single byte ranges (RFC 9110 section 14): ``bytes=a-b``, ``bytes=a-`` and ``bytes=-n``.

A header the edge cannot use (another unit, bad syntax, several ranges) is ignored and the whole
body is sent with 200, as the RFC allows. A well-formed range that misses the body raises
:class:`RangeNotSatisfiable` (416).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_SPEC = re.compile(r"bytes=(\d*)-(\d*)\Z", re.ASCII)


class RangeNotSatisfiable(Exception):
    """The range starts past the end of the body (or asks for the last 0 bytes)."""


@dataclass(frozen=True)
class ByteRange:
    start: int
    end: int
    """Inclusive, as in Content-Range."""

    @property
    def length(self) -> int:
        return self.end - self.start + 1

    def content_range(self, size: int) -> str:
        return f"bytes {self.start}-{self.end}/{size}"


def parse_range(header: str | None, size: int) -> ByteRange | None:
    """The range to send from a body of ``size`` bytes, or None for the whole body."""
    if not header:
        return None
    match = _SPEC.match(header.strip().replace(" ", ""))
    if match is None:
        return None
    first, last = match.group(1), match.group(2)
    if not first and not last:
        return None
    if not first:
        suffix = int(last)
        if suffix == 0 or size == 0:
            raise RangeNotSatisfiable(header)
        return ByteRange(max(0, size - suffix), size - 1)
    start = int(first)
    if last and int(last) < start:
        return None  # invalid: ignored
    if start >= size:
        raise RangeNotSatisfiable(header)
    end = int(last) if last else size - 1
    return ByteRange(start, min(end, size - 1))
