"""What is in a media file, read from ``ffmpeg -i`` (ffprobe may not exist: the wheel ships
only ffmpeg). Enough for ingest: duration, picture size and rate, audio and subtitle streams."""

from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

from controlplane.lifeline import die_with_parent
from controlplane.pipeline.errors import PipelineError

TEXT_SUBTITLE_CODECS = frozenset({"subrip", "srt", "ass", "ssa", "webvtt", "mov_text", "text"})

_DURATION = re.compile(r"Duration: (\d+):(\d+):(\d+(?:\.\d+)?)")
_STREAM = re.compile(
    r"Stream #0:\d+(?:\[0x[0-9a-f]+\])?(?:\((\w+)\))?: (Video|Audio|Subtitle): (\w+)"
)
_SIZE = re.compile(r", (\d{2,5})x(\d{2,5})")
_DAR = re.compile(r"DAR (\d+):(\d+)")
_FPS = re.compile(r"([\d.]+) fps")


@dataclass(frozen=True)
class StreamInfo:
    kind: str
    """``"video"``, ``"audio"`` or ``"subtitle"``."""
    codec: str
    language: str | None


@dataclass(frozen=True)
class MediaInfo:
    duration_s: float
    width: int
    height: int
    display_aspect: float
    frame_rate: float | None
    audio: tuple[StreamInfo, ...]
    subtitles: tuple[StreamInfo, ...]

    @property
    def text_subtitles(self) -> tuple[tuple[int, StreamInfo], ...]:
        """(index among subtitle streams, stream) of the ones that convert to WebVTT."""
        return tuple((i, s) for i, s in enumerate(self.subtitles)
                     if s.codec in TEXT_SUBTITLE_CODECS)


def probe(ffmpeg: str, source: Path) -> MediaInfo:
    """Describe ``source``; :class:`PipelineError` if it is missing or not a playable video."""
    if not source.is_file():
        raise PipelineError(f"{source} does not exist or is not a file")
    done = subprocess.run([ffmpeg, "-hide_banner", "-nostdin", "-i", str(source)],
                          capture_output=True, text=True, errors="replace", check=False,
                          preexec_fn=die_with_parent())
    return parse_probe(done.stderr, source)


def parse_probe(text: str, source: Path) -> MediaInfo:
    streams = []
    video_line = None
    for line in text.splitlines():
        found = _STREAM.search(line)
        if not found:
            continue
        kind = found.group(2).lower()
        streams.append(StreamInfo(kind, found.group(3), found.group(1)))
        if kind == "video" and video_line is None and "attached pic" not in line:
            video_line = line
    duration = _DURATION.search(text)
    if video_line is None:
        last = text.strip().splitlines()[-1] if text.strip() else "no output"
        reason = last if not streams else "it has no video stream"
        raise PipelineError(f"{source.name} is not a video ffmpeg can read ({reason})")
    size = _SIZE.search(video_line)
    if size is None or duration is None:
        raise PipelineError(f"{source.name}: cannot tell the picture size or the duration")
    hours, minutes, seconds = duration.groups()
    width, height = int(size.group(1)), int(size.group(2))
    dar = _DAR.search(video_line)
    aspect = int(dar.group(1)) / int(dar.group(2)) if dar and int(dar.group(2)) else width / height
    fps = _FPS.search(video_line)
    return MediaInfo(
        duration_s=int(hours) * 3600 + int(minutes) * 60 + float(seconds),
        width=width,
        height=height,
        display_aspect=aspect,
        frame_rate=float(fps.group(1)) if fps else None,
        audio=tuple(st for st in streams if st.kind == "audio"),
        subtitles=tuple(st for st in streams if st.kind == "subtitle"),
    )
