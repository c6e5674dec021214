"""What the scheduler is tuned by, and the check that a media playlist keeps the announced timeline.

:class:`SchedulerConfig` holds the tunables (buffer, the optional second fetch, loop-lag
sampling); :func:`check_timeline` compares the timeline playlist with the playback answer's
``segment_durations_s`` (which mpv's playlist was already built from).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from player.buffer import BufferConfig
from player.errors import ManifestError
from player.loadlag import LagConfig


@dataclass(frozen=True)
class SchedulerConfig:
    buffer: BufferConfig = field(default_factory=BufferConfig)
    """Target, back-buffer and window of the forward buffer."""
    parallel_fetch: bool = False
    """Allow one extra fetch in parallel when the buffer is low (bool). Default False."""
    parallel_below_s: float = 10.0
    """Buffer under which the extra fetch may start (seconds). Default 10.0."""
    parallel_headroom: float = 2.5
    """The estimate must exceed this × the current rung's bitrate for it (factor). Default 2.5."""
    lag: LagConfig = field(default_factory=LagConfig)
    """How the event loop's lateness is sampled and what it adds to the fetch timeouts."""


TIMELINE_TOLERANCE_S = 0.001
"""How far a media playlist's ``EXTINF`` may be from the announced duration (the playlists
print three decimals)."""


def check_timeline(durations_s: Sequence[float], media_sequence: int,
                   expected_s: Sequence[float], rendition: str) -> None:
    """The media playlist's timeline is the announced one, or :class:`ManifestError`."""
    problem = None
    if media_sequence != 0:
        problem = f"it starts at media sequence {media_sequence}, not 0"
    elif len(durations_s) != len(expected_s):
        problem = f"it has {len(durations_s)} segments, not {len(expected_s)}"
    else:
        for k, (got, want) in enumerate(zip(durations_s, expected_s, strict=True)):
            if abs(got - want) > TIMELINE_TOLERANCE_S:
                problem = f"segment {k} lasts {got:.3f} s, not {want:.3f} s"
                break
    if problem is not None:
        raise ManifestError(f"The {rendition} playlist does not match the title's timeline "
                            f"from the playback answer: {problem}.")
