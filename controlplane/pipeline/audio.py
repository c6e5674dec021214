"""The two synthetic audio tracks: a tone with a beep each second, one pitch per language.

They are encoded once per title into a small MP4 file (one AAC track per language): the TS
ladder encode copies it into every rendition, so AAC runs twice per title instead of ten times;
CMAF packaging (Shaka Packager, which reads MP4 but not AAC in Matroska) makes one audio
rendition of each track.
"""

from __future__ import annotations

from pathlib import Path

from controlplane.pipeline.ffmpeg import run_ffmpeg
from controlplane.pipeline.profiles import Track

TONES_HZ = (440, 330, 550, 660)
"""Base tone of each track, by track index; the beep is four times the tone."""
SAMPLE_RATE_HZ = 48_000


def encode_tones(
    ffmpeg: str,
    out: Path,
    *,
    duration_s: float,
    tracks: tuple[Track, ...],
    bitrate_bps: int,
) -> None:
    """Write ``out`` (.mp4) with one mono AAC stream per track, tagged with its language."""
    graph = ";".join(
        f"sine=f={TONES_HZ[i % len(TONES_HZ)]}:b=4:r={SAMPLE_RATE_HZ}:d={duration_s:g},"
        f"volume=0.25[a{i}]"
        for i in range(len(tracks))
    )
    args = ["-filter_complex", graph]
    for i, track in enumerate(tracks):
        args += ["-map", f"[a{i}]", f"-metadata:s:a:{i}", f"language={track.iso639_2}",
                 f"-metadata:s:a:{i}", f"title={track.name}"]
    args += ["-c:a", "aac", "-aac_coder", "fast", "-b:a", str(bitrate_bps), "-ac", "1", str(out)]
    run_ffmpeg(ffmpeg, args, what="encoding the audio tracks")
