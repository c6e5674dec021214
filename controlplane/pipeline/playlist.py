"""HLS media playlists: reading the one ffmpeg wrote and writing the encrypted VOD playlist."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from controlplane.catalog import KEY_URI_PLACEHOLDER
from controlplane.pipeline.cenc import cenc_key_line
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


INIT_SEGMENT = "init.mp4"
"""The fragmented-MP4 initialisation segment of a CMAF rendition (clear: it holds no media)."""


def segment_name(index: int, extension: str = "ts") -> str:
    return f"seg_{index:05d}.{extension}"


def key_line(key_uri: str = KEY_URI_PLACEHOLDER) -> str:
    """The protection of every media playlist the pipeline writes: whole-segment AES-128, IV =
    media sequence number (see :mod:`controlplane.pipeline.encrypt`, the other half)."""
    return f'#EXT-X-KEY:METHOD=AES-128,URI="{key_uri}"'


def media_playlist(
    durations_s: Sequence[float], *, key_uri: str = KEY_URI_PLACEHOLDER, fmp4: bool = False,
    cenc: bool = False,
) -> str:
    """A VOD media playlist for encrypted segments ``seg_00000.ts``.. with the given durations;
    ``fmp4``: segments ``seg_00000.m4s``.. after ``EXT-X-MAP`` :data:`INIT_SEGMENT`, which the
    key line follows, so the init segment is clear (RFC 8216 section 4.3.2.4); ``cenc``: the
    segments are CENC ``cbcs`` (the key line is :func:`~controlplane.pipeline.cenc.
    cenc_key_line`, the key URI a ClearKey licence URL)."""
    target = max(1, math.ceil(max(durations_s, default=1.0) - 1e-3))
    lines = [
        "#EXTM3U",
        f"#EXT-X-VERSION:{6 if fmp4 else 3}",
        f"#EXT-X-TARGETDURATION:{target}",
        "#EXT-X-MEDIA-SEQUENCE:0",
        "#EXT-X-PLAYLIST-TYPE:VOD",
        "#EXT-X-INDEPENDENT-SEGMENTS",
    ]
    if fmp4:
        lines.append(f'#EXT-X-MAP:URI="{INIT_SEGMENT}"')
    lines.append(cenc_key_line(key_uri) if cenc else key_line(key_uri))
    extension = "m4s" if fmp4 else "ts"
    for i, duration in enumerate(durations_s):
        lines += [f"#EXTINF:{duration:.3f},", segment_name(i, extension)]
    lines.append("#EXT-X-ENDLIST")
    return "\n".join(lines) + "\n"
