"""The one interface between a bitrate policy and whoever drives it.

The player's engine and the trace simulator both drive a policy through :class:`AbrPolicy`; nothing
in it names a player or simulator type, so an external harness can drive a policy with plain
Python values. Every call is synchronous and cheap (microseconds): the engine calls it from its
asyncio loop.

The call sequence for one session::

    policy.start(bitrates_bps, segment_duration_s, segment_count,
                 max_buffer_s=cap, segment_sizes_bits=table)   # the last two: when known
    loop over segments k:
        decision = policy.choose(k, buffer_s, now_s)          # which rung to fetch
        # (or choose(k, buffer_s, now_s, segment_bits=row): this segment's size per rung)
        while downloading:
            policy.on_progress(rung, bytes_so_far, total_bytes, elapsed_s, now_s)
            lower = policy.should_abandon(rung, bytes_so_far, total_bytes, elapsed_s,
                                          buffer_s, now_s)
            if lower is not None:
                policy.on_download_complete(rung, bytes_so_far, elapsed_s, ttfb_s, now_s)
                fetch rung `lower` instead (no new choose needed; if the caller does call
                choose(k, ...) again, it returns `lower`)
        policy.on_download_complete(rung, bytes_, seconds, ttfb_s, now_s)

Rungs are indices into the ladder, 0 = the lowest bitrate. ``now_s`` is any monotonic clock in
seconds (the simulator's or the engine's); policies never read a clock of their own.

Everything a decision depends on is passed in: the ladder, the segment duration, the title's
length, the caller's buffer cap (``max_buffer_s``: the most media it will hold, which is where
it stops fetching and idles) and, when the manifest knows them, the segment sizes (per segment
and rung, so variable bitrate is seen). A policy that needs more than the caller gave falls back
to documented defaults (the nominal bitrate × duration for a size, its configured cap for the
cap) and says so through :mod:`warnings` when the cap is too small for its thresholds.

State a policy keeps between calls is only what it measured (``on_download_complete``), what it
decided (the current rung) and what it was told in ``start``. ``should_abandon`` is the one
query that decides: a non-None answer makes that rung the current one (the caller must fetch it,
and a ``choose`` for the same segment before that download completes returns it again).
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
        *,
        max_buffer_s: float | None = None,
        segment_sizes_bits: Sequence[Sequence[int]] | None = None,
    ) -> None:
        """A new session: the ladder (ascending bits per second), the segment duration and,
        for a title of known length (video on demand), how many segments it has (None for live
        or unknown). ``max_buffer_s``: the caller's buffer cap, seconds (None: the policy's
        configured one). ``segment_sizes_bits[k][rung]``: every segment's size in bits when the
        manifest knows them (None: nominal bitrate × duration). Policies that do not use one of
        these ignore it."""

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

    def choose(
        self,
        segment_index: int,
        buffer_s: float,
        now_s: float,
        segment_bits: Sequence[int] | None = None,
    ) -> Decision:
        """The rung to fetch for segment ``segment_index`` given ``buffer_s`` of media ahead;
        ``segment_bits``: this segment's size per rung when known and not given to ``start``."""

    def should_abandon(
        self,
        rung: int,
        bytes_so_far: int,
        total_bytes: int,
        elapsed_s: float,
        buffer_s: float,
        now_s: float,
    ) -> int | None:
        """The lower rung to switch to if the in-flight download should be dropped, else None.

        None changes nothing. A rung is binding: the policy takes it as its current rung and
        the next ``on_download_complete`` as the report of the dropped download's bytes."""

    @property
    def estimate_bps(self) -> float | None:
        """The current throughput estimate (persist it for the next session), None if unknown."""

    @property
    def max_rung(self) -> int | None:
        """The highest rung the policy may choose (screen size, user choice, data saver)."""

    @max_rung.setter
    def max_rung(self, rung: int | None) -> None: ...
