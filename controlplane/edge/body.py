"""Writing a response body in chunks, so pacing, truncation and corruption act mid-body.

Without faults a body goes out in 64 KiB chunks with no sleeps. With a pacer each chunk is split
into slices of about 50 ms of link time and each slice waits for its turn on the edge's link.
``cut_at`` stops after that many body bytes (the caller then closes the connection, leaving the
Content-Length unmet). ``flip_at`` lists offsets *in the source* whose byte is xor-ed with 0xFF,
so a range request sees the same corrupt bytes as a whole-file request.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from aiohttp import web

from controlplane.edge.throttle import Pacer

CHUNK_BYTES = 64 * 1024
"""Unpaced write size in bytes (default 64 KiB)."""


class Source(Protocol):
    size: int

    def read(self, offset: int, nbytes: int) -> bytes: ...

    def close(self) -> None: ...


class BytesSource:
    def __init__(self, data: bytes) -> None:
        self._data = data
        self.size = len(data)

    def read(self, offset: int, nbytes: int) -> bytes:
        return self._data[offset : offset + nbytes]

    def close(self) -> None:
        pass


class FileSource:
    """A file read in chunks (local disk, page-cached: plain blocking reads are fast enough)."""

    def __init__(self, path: Path) -> None:
        self._file = path.open("rb")
        self.size = path.stat().st_size

    def read(self, offset: int, nbytes: int) -> bytes:
        self._file.seek(offset)
        return self._file.read(nbytes)

    def close(self) -> None:
        self._file.close()


@dataclass(frozen=True)
class BodyPlan:
    pacer: Pacer | None = None
    cut_at: int | None = None
    flip_at: tuple[int, ...] = ()


def flip_bytes(chunk: bytes, offset: int, positions: tuple[int, ...]) -> bytes:
    """``chunk`` (starting at source ``offset``) with the bytes at ``positions`` inverted."""
    lo = bisect.bisect_left(positions, offset)
    hi = bisect.bisect_left(positions, offset + len(chunk))
    if lo == hi:
        return chunk
    out = bytearray(chunk)
    for pos in positions[lo:hi]:
        out[pos - offset] ^= 0xFF
    return bytes(out)


async def stream_body(
    resp: web.StreamResponse,
    source: Source,
    start: int,
    length: int,
    plan: BodyPlan,
    on_write: Callable[[int], None],
) -> bool:
    """Write ``length`` bytes of ``source`` from ``start``; return whether the body was cut.

    ``on_write(n)`` is called after each write, so a caller knows what went out even when the
    client disconnects mid-body (the write then raises ConnectionError).
    """
    limit = length if plan.cut_at is None else min(plan.cut_at, length)
    sent = 0
    while sent < limit:
        step = CHUNK_BYTES if plan.pacer is None else plan.pacer.slice_bytes()
        chunk = source.read(start + sent, min(step, limit - sent))
        if not chunk:
            break
        if plan.flip_at:
            chunk = flip_bytes(chunk, start + sent, plan.flip_at)
        if plan.pacer is not None:
            await plan.pacer.wait_for(len(chunk))
        await resp.write(chunk)
        sent += len(chunk)
        on_write(len(chunk))
    return sent < length
