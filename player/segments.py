"""What the bridge to mpv reads from: the engine's buffer, one plaintext MPEG-TS segment at a time.

The scheduler implements :class:`SegmentSource`; the loopback bridge (``player.bridge``) serves it
to mpv. ``StaticSegments`` is a small in-memory implementation for tests and benchmarks, which
can be made slow or failing.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Container, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol, runtime_checkable


class SegmentSourceError(Exception):
    """The stream ended in error: the segment will never be available (e.g. every edge is down)."""


@runtime_checkable
class SegmentSource(Protocol):
    """The engine's buffer as seen by the bridge.

    ``segment_count`` and ``segment_durations_s`` describe the timeline (the same for every
    rendition: aligned segments). Both are read once, when the bridge builds its playlist.
    """

    @property
    def segment_count(self) -> int: ...

    @property
    def segment_durations_s(self) -> Sequence[float]: ...

    async def segment(self, index: int) -> bytes:
        """Plaintext MPEG-TS of position ``index``, from whichever rendition the ABR chose.

        Waits until the segment is buffered; raises :class:`SegmentSourceError` if the stream ended
        in error. Called on the engine's asyncio loop.
        """
        ...

    def on_request(self, index: int) -> None:
        """mpv asked for segment ``index`` now (its read position: seeks and pacing)."""
        ...


@dataclass
class SegmentStream:
    """A segment handed over progressively: ``length`` bytes in total, as ``chunks``.

    ``chunks`` may raise :class:`SegmentSourceError` (the stream died: the bridge ends it) or
    any other exception (this segment's bytes cannot be completed as sent, e.g. corruption
    found after some reached mpv: the bridge drops mpv's connection mid-body)."""

    length: int
    chunks: AsyncIterator[bytes]
    rung: int | None = None
    rendition_id: str | None = None
    edge: str | None = None


@runtime_checkable
class StreamingSegmentSource(SegmentSource, Protocol):
    """A :class:`SegmentSource` that can also hand a segment over while it is still arriving.

    The bridge prefers :meth:`stream` when the source has it (``GET`` requests)."""

    async def stream(self, index: int) -> SegmentStream:
        """Position ``index`` as soon as its length is known (the same waits and errors as
        :meth:`SegmentSource.segment`); must be cancel-safe."""
        ...


async def whole(data: bytes) -> AsyncIterator[bytes]:
    """``data`` as a one-chunk stream."""
    yield data


class StaticSegments:
    """An in-memory :class:`SegmentSource` for tests: fixed bytes per position.

    ``delay_s`` delays chosen segments (``{index: seconds}``) or all of them (a float);
    ``fail_at`` lists positions whose ``segment()`` raises :class:`SegmentSourceError`.
    ``requests`` records every ``on_request`` index, ``served`` every segment handed out.
    """

    def __init__(
        self,
        segments: Sequence[bytes],
        durations_s: Sequence[float],
        *,
        delay_s: float | Mapping[int, float] = 0.0,
        fail_at: Container[int] = (),
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        if len(segments) != len(durations_s):
            raise ValueError("one duration per segment")
        self._segments = list(segments)
        self._durations_s = tuple(float(d) for d in durations_s)
        self._delay_s = delay_s
        self._fail_at = fail_at
        self._sleep = sleep
        self.requests: list[int] = []
        self.served: list[int] = []

    @property
    def segment_count(self) -> int:
        return len(self._segments)

    @property
    def segment_durations_s(self) -> Sequence[float]:
        return self._durations_s

    def _delay_for(self, index: int) -> float:
        if isinstance(self._delay_s, Mapping):
            return float(self._delay_s.get(index, 0.0))
        return float(self._delay_s)

    async def segment(self, index: int) -> bytes:
        if not 0 <= index < len(self._segments):
            raise IndexError(index)
        delay = self._delay_for(index)
        if delay > 0:
            await self._sleep(delay)
        if index in self._fail_at:
            raise SegmentSourceError(f"segment {index}: stream failed")
        self.served.append(index)
        return self._segments[index]

    def on_request(self, index: int) -> None:
        self.requests.append(index)
