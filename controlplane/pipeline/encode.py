"""The ladder encode: one ffmpeg run turns a title into a group of renditions (or all of them).

Every rung is H.264 (x264, constrained baseline, CBR with filler so segment sizes follow the
nominal ladder) with a closed GOP forced every segment, so segment k starts at the same instant
in every rendition. For MPEG-TS, ffmpeg's HLS muxer cuts the plaintext segments (video and
audio muxed); for CMAF each rung is one video-only MP4 file that Shaka Packager segments
(:mod:`controlplane.pipeline.cmaf`). Encryption and playlists happen afterwards in Python.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from controlplane.pipeline.escape import filter_path
from controlplane.pipeline.ffmpeg import run_ffmpeg
from controlplane.pipeline.fonts import Fonts
from controlplane.pipeline.ladder import Rung
from controlplane.pipeline.picture import ingest_overlays, moving_parts
from controlplane.pipeline.profiles import EncodeSettings


@dataclass(frozen=True)
class EncodeInputs:
    """What feeds the ladder: input options and a graph whose outputs are ``[v0]``, ``[v1]``.."""

    input_args: tuple[str, ...]
    graph: str
    audio_args: tuple[str, ...]
    """Options mapping (and encoding or copying) the audio, repeated for every rendition."""
    frame_rate: float


def synthetic_inputs(
    *,
    stills: dict[str, Path],
    audio: Path | None,
    audio_tracks: int,
    rungs: tuple[Rung, ...],
    settings: EncodeSettings,
    duration_s: float,
    fonts: Fonts | None,
) -> EncodeInputs:
    """Generated titles: looped stills plus the moving parts, and the pre-encoded audio (None:
    video only)."""
    fps = settings.frame_rate
    chains = []
    for i, rung in enumerate(rungs):
        chains.append(
            f"{looped(stills[rung.id], f'N/{fps}/TB', duration_s)},fps={fps},"
            f"{moving_parts(rung.width, rung.height, fonts, period_s=settings.segment_duration_s)}"
            f"[v{i}]"
        )
    if audio is None:
        return EncodeInputs((), ";".join(chains), (), float(fps))
    audio_args: list[str] = []
    for i in range(audio_tracks):
        audio_args += ["-map", f"0:a:{i}"]
    audio_args += ["-c:a", "copy"]
    return EncodeInputs(("-i", str(audio)), ";".join(chains), tuple(audio_args), float(fps))


def looped(still: Path, pts_expr: str, duration_s: float) -> str:
    """A still image repeated as a stream whose frame N has timestamp ``pts_expr``."""
    return (
        f"movie={filter_path(str(still))},format=yuv420p,loop=loop=-1:size=1,"
        f"setpts={pts_expr},trim=duration={duration_s:g}"
    )


def file_inputs(
    *,
    source: Path,
    audio_streams: int,
    rungs: tuple[Rung, ...],
    settings: EncodeSettings,
    frame_rate: float,
    audio_bitrate_bps: int,
    fonts: Fonts | None,
) -> EncodeInputs:
    """An ingested file: scaled per rung with a small label; its audio encoded per rendition."""
    outs = "".join(f"[b{i}]" for i in range(len(rungs)))
    chains = [f"[0:v]fps={frame_rate:g},setsar=1,split={len(rungs)}{outs}"]
    for i, rung in enumerate(rungs):
        chains.append(
            f"[b{i}]scale={rung.width}:{rung.height},format=yuv420p,"
            f"{ingest_overlays(rung.id, i, rung.width, rung.height, fonts)}[v{i}]"
        )
    audio_args: list[str] = []
    for i in range(audio_streams):
        audio_args += ["-map", f"0:a:{i}"]
    if audio_streams:
        audio_args += ["-c:a", "aac", "-b:a", str(audio_bitrate_bps), "-ac", "2"]
    return EncodeInputs(("-i", str(source)), ";".join(chains), tuple(audio_args), frame_rate)


def encode_ladder(
    ffmpeg: str,
    inputs: EncodeInputs,
    *,
    rungs: tuple[Rung, ...],
    settings: EncodeSettings,
    duration_s: float,
    work_dir: Path,
    what: str,
    on_fraction: Callable[[float], None] | None = None,
    video_only: bool = False,
) -> None:
    """Write ``work_dir/{rung}/seg_NNNNN.ts`` and ffmpeg's ``index.m3u8`` for each rung, or
    with ``video_only`` one ``work_dir/{rung}.mp4`` (no audio) per rung, for CMAF packaging."""
    args = [*inputs.input_args, "-filter_complex", inputs.graph]
    for i, rung in enumerate(rungs):
        if video_only:
            args += ["-map", f"[v{i}]", *_x264_args(rung, settings, inputs), "-an",
                     "-f", "mp4", str(work_dir / f"{rung.id}.mp4")]
            continue
        out = work_dir / rung.id
        out.mkdir(parents=True, exist_ok=True)
        args += ["-map", f"[v{i}]", *inputs.audio_args, *_x264_args(rung, settings, inputs)]
        args += [
            "-f", "hls", "-hls_time", str(settings.segment_duration_s),
            "-hls_playlist_type", "vod", "-hls_list_size", "0",
            "-hls_segment_filename", str(out / "seg_%05d.ts"), str(out / "index.m3u8"),
        ]
    run_ffmpeg(ffmpeg, args, what=what, duration_s=duration_s, on_fraction=on_fraction)


def _x264_args(rung: Rung, settings: EncodeSettings, inputs: EncodeInputs) -> list[str]:
    gop = max(1, round(inputs.frame_rate * settings.segment_duration_s))
    rate = str(rung.bitrate_bps)
    return [
        "-c:v", "libx264", "-threads", "1", "-preset", settings.x264_preset,
        "-profile:v", "baseline",
        "-level:v", f"{rung.level / 10:g}", "-pix_fmt", "yuv420p",
        "-b:v", rate, "-minrate", rate, "-maxrate", rate, "-bufsize", rate,
        "-qmin", str(settings.qp_min),
        "-x264-params", "nal-hrd=cbr:force-cfr=1",
        "-g", str(gop), "-keyint_min", str(gop), "-sc_threshold", "0", "-flags", "+cgop",
        "-force_key_frames", f"expr:gte(t,n_forced*{settings.segment_duration_s})",
    ]
