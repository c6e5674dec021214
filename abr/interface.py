"""The one interface between a bitrate policy and whoever drives it.

The player's engine and the trace simulator both drive a policy through :class:`AbrPolicy`; nothing
in it names a player or simulator type, so an external harness can drive a policy with plain
Python values. Every call is synchronous and cheap (microseconds): the engine calls it from its
asyncio loop.

The call sequence for one session::

    policy.start(bitrates_bps, segment_duration_s, segment_count)
    loop over segments k:
        decision = policy.choose(k, buffer_s, now_s)          # which rung to fetch
        while downloading:
            policy.on_progress(rung, bytes_so_far, total_bytes, elapsed_s, now_s)
            lower = policy.should_abandon(rung, bytes_so_far, total_bytes, elapsed_s,
                                          buffer_s, now_s)
            if lower is not None: drop this request and fetch rung `lower` instead
        policy.on_download_complete(rung, bytes_, seconds, ttfb_s, now_s)

Rungs are indices into the ladder, 0 = the lowest bitrate. ``now_s`` is any monotonic clock in
seconds (the simulator's or the engine's); policies never read a clock of their own.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol, runtime_checkable


@dataclass(frozen=True, slots=True)
class Decision:
    """Which rung to fetch next, and why (the player logs the reason with every switch)."""

    rung: int
    reason: str


@runtime_checkable
class AbrPolicy(Protocol):
    """A bitrate policy. See the module docstring for the call sequence."""

    name: str

    def start(
        self,
        bitrates_bps: Sequence[int],
        segment_duration_s: float,
        segment_count: int | None = None,
    ) -> None:
        """A new session: the ladder (ascending bits per second), the segment duration and,
        for a title of known length (video on demand), how many segments it has (None for live
        or unknown). Policies that do not use the length ignore it."""

    def on_download_complete(
        self, rung: int, bytes_: int, seconds: float, ttfb_s: float, now_s: float
    ) -> None:
        """A download finished: ``bytes_`` arrived in ``seconds`` (request to last byte), of
        which ``ttfb_s`` was time to first byte. Also called with the bytes that did arrive when
        a download is abandoned."""

    def on_progress(
        self, rung: int, bytes_so_far: int, total_bytes: int, elapsed_s: float, now_s: float
    ) -> None:
        """A download is in flight: ``bytes_so_far`` of ``total_bytes`` after ``elapsed_s``."""

    def choose(self, segment_index: int, buffer_s: float, now_s: float) -> Decision:
        """The rung to fetch for segment ``segment_index`` given ``buffer_s`` of media ahead."""

    def should_abandon(
        self,
        rung: int,
        bytes_so_far: int,
        total_bytes: int,
        elapsed_s: float,
        buffer_s: float,
        now_s: float,
    ) -> int | None:
        """The lower rung to switch to if the in-flight download should be dropped, else None."""

    @property
    def estimate_bps(self) -> float | None:
        """The current throughput estimate (persist it for the next session), None if unknown."""

    @property
    def max_rung(self) -> int | None:
        """The highest rung the policy may choose (screen size, user choice, data saver)."""

    @max_rung.setter
    def max_rung(self, rung: int | None) -> None: ...
