"""The bitrate ladder: rendition ids, frame sizes, nominal bitrates and H.264 levels."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Rung:
    id: str
    """Rendition id and folder name, e.g. ``"720p"``."""
    width: int
    height: int
    bitrate_bps: int
    """Nominal video bitrate in bit/s; x264 runs CBR with filler so segments really have it."""
    level: int
    """H.264 level times ten (31 = level 3.1), written into the SPS."""

    @property
    def bitrate_kbps(self) -> int:
        return self.bitrate_bps // 1000

    def label(self) -> str:
        """What is burned into the picture, e.g. ``"720p · 3.0 Mbit/s"``."""
        if self.bitrate_bps >= 1_000_000:
            return f"{self.id} · {self.bitrate_bps / 1e6:.1f} Mbit/s"
        return f"{self.id} · {self.bitrate_kbps} kbit/s"


DEFAULT_LADDER: tuple[Rung, ...] = (
    Rung("240p", 426, 240, 300_000, 21),
    Rung("360p", 640, 360, 750_000, 30),
    Rung("480p", 854, 480, 1_500_000, 30),
    Rung("720p", 1280, 720, 3_000_000, 31),
    Rung("1080p", 1920, 1080, 5_000_000, 40),
)
"""The shipped ladder: about 240p at 300 kbit/s up to 1080p at 5 Mbit/s."""

TEST_LADDER: tuple[Rung, ...] = (
    Rung("240p", 160, 90, 150_000, 21),
    Rung("360p", 256, 144, 300_000, 21),
    Rung("480p", 320, 180, 600_000, 21),
    Rung("720p", 480, 270, 1_200_000, 30),
    Rung("1080p", 640, 360, 2_400_000, 30),
)
"""Same ids and shape (each rung twice the last) at tiny frame sizes, for fast tests."""


def cap_to_height(ladder: tuple[Rung, ...], source_height: int) -> tuple[Rung, ...]:
    """The rungs not taller than the source (never fewer than the lowest rung)."""
    kept = tuple(r for r in ladder if r.height <= source_height)
    return kept or ladder[:1]


def pixels_per_second(rungs: tuple[Rung, ...], frame_rate: float) -> float:
    """Encoding cost proxy: pixels x264 has to encode per second of video."""
    return sum(r.width * r.height for r in rungs) * frame_rate


def split_for_parallel(ladder: tuple[Rung, ...], groups: int = 2) -> tuple[tuple[Rung, ...], ...]:
    """Partition the rungs into ``groups`` sets of similar pixel count (ladder order kept).

    One ffmpeg run cannot keep two cores busy (its filtergraph runs on one thread), so a long
    title is encoded as two runs over the same timeline; forced keyframes keep them aligned.
    """
    loads = [0] * groups
    members: list[list[Rung]] = [[] for _ in range(groups)]
    for rung in sorted(ladder, key=lambda r: -(r.width * r.height)):
        lightest = loads.index(min(loads))
        members[lightest].append(rung)
        loads[lightest] += rung.width * rung.height
    order = {r.id: i for i, r in enumerate(ladder)}
    parts = [tuple(sorted(m, key=lambda r: order[r.id])) for m in members if m]
    return tuple(sorted(parts, key=lambda p: order[p[0].id]))
