"""What a UI may use of a playing session: the :class:`Session` protocol and its
:class:`SessionSnapshot`.

A UI (``ui/playback.py``) drives a session through this protocol only, never through the
session's internals: the controls are coroutines run on the engine loop, and :meth:`snapshot`
(also called on the engine loop) is the one read of the session's state — position, buffer,
estimate, edges, and the two rungs the stats overlay labels: the rung of the segment on screen
(what mpv was handed for the playback position) and the rung being fetched. ``estimate_bps`` is
the one value read from another thread (a float, read once), for the next session's start.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from player.edgepool import EdgeStatus
from player.sync.reporter import ProgressSink
from player.telemetry import Telemetry


@dataclass(frozen=True)
class EdgeView:
    name: str
    state: str
    """``closed`` (healthy), ``open`` (failed, waiting) or ``half_open`` (on trial)."""
    rtt_ms: float | None
    throughput_bps: float | None
    last_error: str | None

    @classmethod
    def of(cls, status: EdgeStatus) -> EdgeView:
        return cls(name=status.name, state=str(getattr(status.state, "value", status.state)),
                   rtt_ms=None if status.rtt_s is None else round(status.rtt_s * 1000, 1),
                   throughput_bps=status.throughput_bps, last_error=status.last_error)


@dataclass(frozen=True)
class SessionSnapshot:
    position_s: float
    duration_s: float
    buffer_s: float
    """Media buffered ahead of the position (fetched, not yet played), seconds."""
    estimate_bps: float | None
    edges: tuple[EdgeView, ...]
    """Best first."""
    shown_rung: int | None
    """The rung of the segment on screen; None before the first frame."""
    fetching_rung: int | None
    """The rung the scheduler fetches now; None before it starts."""


@dataclass(frozen=True)
class ThumbnailSource:
    """Where a title's trick-play thumbnails are: a WebVTT index of sprite tiles."""

    vtt_url: str
    interval_s: float
    pathways: tuple[tuple[str, str], ...]
    """(pathway id, base URL) of the edges, best first: the index's URL names one of them."""


class Session(Protocol):
    """A playing title, as a UI sees it (``player.session.PlaybackSession`` is one)."""

    telemetry: Telemetry
    progress: ProgressSink | None
    """Where positions go (set before ``play()``); None: the session's own default."""

    @property
    def max_rung(self) -> int | None: ...

    @max_rung.setter
    def max_rung(self, rung: int | None) -> None: ...

    @property
    def estimate_bps(self) -> float | None:
        """The ABR's throughput estimate now, bit/s (None: nothing measured)."""

    async def play(self) -> None: ...

    async def wait_ended(self) -> str: ...

    async def pause(self) -> None: ...

    async def resume(self) -> None: ...

    async def seek(self, position_s: float) -> None: ...

    async def set_audio(self, language: str) -> None: ...

    async def set_subtitles(self, language: str | None) -> None: ...

    async def stop(self) -> None: ...

    def snapshot(self) -> SessionSnapshot:
        """The state a player page shows (call on the engine loop)."""

    def thumbnails(self) -> ThumbnailSource | None:
        """The title's trick-play thumbnails, once playback started (on the engine loop);
        None: the title has none."""
