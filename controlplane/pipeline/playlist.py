"""HLS media playlists: reading the one ffmpeg wrote and writing the encrypted VOD playlist."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from controlplane.catalog import KEY_URI_PLACEHOLDER
from controlplane.pipeline.errors import PipelineError


@dataclass(frozen=True)
class Segment:
    uri: str
    duration_s: float


def read_segments(playlist: Path) -> list[Segment]:
    """The (uri, duration) pairs of a media playlist, in order."""
    segments: list[Segment] = []
    duration: float | None = None
    for raw in playlist.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if line.startswith("#EXTINF:"):
            duration = float(line[len("#EXTINF:") :].split(",", 1)[0])
        elif line and not line.startswith("#"):
            if duration is None:
                raise PipelineError(f"{playlist}: segment {line} has no #EXTINF")
            segments.append(Segment(line, duration))
            duration = None
    return segments


def segment_name(index: int) -> str:
    return f"seg_{index:05d}.ts"


def media_playlist(durations_s: Sequence[float], *, key_uri: str = KEY_URI_PLACEHOLDER) -> str:
    """A VOD media playlist for encrypted segments ``seg_00000.ts``.. with the given durations."""
    target = max(1, math.ceil(max(durations_s, default=1.0) - 1e-3))
    lines = [
        "#EXTM3U",
        "#EXT-X-VERSION:3",
        f"#EXT-X-TARGETDURATION:{target}",
        "#EXT-X-MEDIA-SEQUENCE:0",
        "#EXT-X-PLAYLIST-TYPE:VOD",
        "#EXT-X-INDEPENDENT-SEGMENTS",
        f'#EXT-X-KEY:METHOD=AES-128,URI="{key_uri}"',
    ]
    for i, duration in enumerate(durations_s):
        lines += [f"#EXTINF:{duration:.3f},", segment_name(i)]
    lines.append("#EXT-X-ENDLIST")
    return "\n".join(lines) + "\n"
