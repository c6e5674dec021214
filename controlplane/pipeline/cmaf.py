"""CMAF packaging: Shaka Packager segments the encoded title, then the pipeline protects it.

Input: one video-only MP4 per rung (``work_dir/{rung}.mp4``, keyframes every segment), the
title's audio MP4 (one AAC track per language) and one WebVTT file per subtitle language.
Shaka Packager writes, in one run, the fragmented-MP4 segments of every video rung and audio
language, segmented WebVTT, an HLS multivariant playlist and a DASH MPD over the same segments.
The pipeline then encrypts every media segment (whole-segment AES-128, the title's key, IV =
media sequence number; :mod:`~controlplane.pipeline.encrypt`, :func:`~controlplane.pipeline.
playlist.key_line`) and writes each media playlist with ``EXT-X-MAP`` (the init segment stays
clear) and the key line. Title layout::

    {rung}/index.m3u8, init.mp4, seg_00000.m4s..     video (H.264), one folder per rung
    audio/{lang}/index.m3u8, init.mp4, seg_..m4s     AAC, one rendition per language
    subs/{lang}/index.m3u8, seg_00000.vtt..          segmented WebVTT (clear)
    subs/{lang}.vtt                                  the whole WebVTT file, as in MPEG-TS titles
    manifest.mpd, master.m3u8                        Shaka's DASH MPD and HLS multivariant playlist

``master.m3u8`` is the packager's multivariant playlist: its relative URIs name the protected media
playlists, so it plays as is once the key URI is filled in (the control plane writes its own,
with a pathway per edge). ``manifest.mpd`` describes the segments as the packager wrote them,
before the AES-128 layer (which DASH cannot express): it is for CENC packaging, which replaces
AES-128, and nothing serves it yet.
"""

from __future__ import annotations

import re
import shutil
from dataclasses import dataclass
from pathlib import Path

from controlplane.catalog import Rendition
from controlplane.pipeline.encrypt import encrypt_segment
from controlplane.pipeline.errors import PipelineError
from controlplane.pipeline.ladder import Rung
from controlplane.pipeline.playlist import INIT_SEGMENT, media_playlist, read_segments
from controlplane.pipeline.profiles import Track
from controlplane.pipeline.shaka import run_packager

DURATION_TOLERANCE_S = 0.05
"""Video renditions whose segment durations differ by more than this are not aligned."""
AUDIO_DIR = "audio"
SUBS_DIR = "subs"
_TEMPLATE = "seg_$Number%05d$"


@dataclass(frozen=True)
class CmafInputs:
    video: dict[str, Path]
    """Rung id → its video-only MP4."""
    audio: Path
    """One AAC track per entry of ``audio_tracks``, in that order."""
    audio_tracks: tuple[Track, ...]
    subtitles: dict[str, tuple[Track, Path]]
    """Language → (track, plain WebVTT file without X-TIMESTAMP-MAP)."""


@dataclass(frozen=True)
class PackagedCmaf:
    renditions: tuple[Rendition, ...]
    segment_durations_s: tuple[float, ...]


def packager_args(inputs: CmafInputs, rungs: tuple[Rung, ...], segment_s: float) -> list[str]:
    """Shaka Packager's stream descriptors and flags; outputs relative to its working dir."""
    args = []
    for rung in rungs:
        args.append(f"in={inputs.video[rung.id]},stream=video,"
                    + _outputs(rung.id, "m4s", init=True))
    for i, track in enumerate(inputs.audio_tracks):
        args.append(f"in={inputs.audio},stream={i},language={track.language},"
                    f"hls_group_id=audio,hls_name={track.name},"
                    + _outputs(f"{AUDIO_DIR}/{track.language}", "m4s", init=True))
    for language, (track, vtt) in inputs.subtitles.items():
        args.append(f"in={vtt},stream=text,language={language},hls_group_id=subs,"
                    f"hls_name={track.name}," + _outputs(f"{SUBS_DIR}/{language}", "vtt"))
    default = inputs.audio_tracks[0].language if inputs.audio_tracks else "en"
    # segment templates make a live-profile MPD; --generate_static_live_mpd makes it VOD
    # (type="static", no availabilityStartTime or update period)
    return [*args, "--segment_duration", f"{segment_s:g}", "--start_segment_number", "0",
            "--default_language", default, "--hls_master_playlist_output", "master.m3u8",
            "--mpd_output", "manifest.mpd", "--generate_static_live_mpd"]


def _outputs(folder: str, extension: str, *, init: bool = False) -> str:
    init_part = f"init_segment={folder}/{INIT_SEGMENT}," if init else ""
    return (f"{init_part}segment_template={folder}/{_TEMPLATE}.{extension},"
            f"playlist_name={folder}/index.m3u8")


def package_cmaf(
    packager: str, inputs: CmafInputs, *, rungs: tuple[Rung, ...], stage: Path,
    title_dir: Path, key: bytes, frame_rate: float, segment_s: float, what: str,
) -> PackagedCmaf:
    """Package into ``stage`` (an empty scratch folder), then protect into ``title_dir``.
    Clear segments are deleted as they are encrypted, so disk use stays near one copy."""
    stage.mkdir(parents=True, exist_ok=True)
    run_packager(packager, packager_args(inputs, rungs, segment_s), cwd=stage, what=what)
    codecs = variant_codecs((stage / "master.m3u8").read_text(encoding="utf-8"))
    audio_peak, audio_average = 0.0, 0.0
    for track in inputs.audio_tracks:
        folder = f"{AUDIO_DIR}/{track.language}"
        sizes, durations = _protect(stage / folder, title_dir / folder, key)
        peak, average = _rates(sizes, durations)
        audio_peak, audio_average = max(audio_peak, peak), max(audio_average, average)
    renditions: list[Rendition] = []
    reference: list[float] | None = None
    for rung in rungs:
        sizes, durations = _protect(stage / rung.id, title_dir / rung.id, key)
        if reference is None:
            reference = durations
        elif len(durations) != len(reference) or any(
            abs(a - b) > DURATION_TOLERANCE_S for a, b in zip(durations, reference, strict=True)
        ):
            raise PipelineError(f"segments of {rung.id} are not aligned with {rungs[0].id}")
        peak, average = _rates(sizes, durations)
        renditions.append(Rendition(
            id=rung.id, width=rung.width, height=rung.height, bitrate_bps=rung.bitrate_bps,
            bandwidth_bps=int(peak + audio_peak),
            average_bandwidth_bps=int(average + audio_average),
            codecs=codecs.get(f"{rung.id}/index.m3u8", ""), frame_rate=frame_rate,
        ))
    for language in inputs.subtitles:
        folder = f"{SUBS_DIR}/{language}"
        shutil.copytree(stage / folder, title_dir / folder)
    for name in ("manifest.mpd", "master.m3u8"):
        shutil.copyfile(stage / name, title_dir / name)
    assert reference is not None
    return PackagedCmaf(tuple(renditions), tuple(reference))


def _protect(src: Path, dst: Path, key: bytes) -> tuple[list[int], list[float]]:
    """Encrypt the segments of the packager's playlist in ``src`` into ``dst``, copy the init
    segment and write the protected media playlist; (encrypted sizes, durations)."""
    segments = read_segments(src / "index.m3u8")
    if not segments:
        raise PipelineError(f"the packager wrote no segments for {src.name}")
    dst.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(src / INIT_SEGMENT, dst / INIT_SEGMENT)
    sizes: list[int] = []
    for seq, segment in enumerate(segments):
        expected = f"seg_{seq:05d}.m4s"
        if segment.uri != expected:
            raise PipelineError(f"{src.name}: segment {seq} is {segment.uri}, not {expected}")
        plain = (src / segment.uri).read_bytes()
        if plain[4:8] not in (b"styp", b"moof"):
            raise PipelineError(f"{src.name}/{segment.uri} is not a fragmented-MP4 segment")
        sealed = encrypt_segment(plain, key, seq)
        (dst / segment.uri).write_bytes(sealed)
        (src / segment.uri).unlink()
        sizes.append(len(sealed))
    durations = [s.duration_s for s in segments]
    (dst / "index.m3u8").write_text(media_playlist(durations, fmp4=True), encoding="utf-8")
    return sizes, durations


def _rates(sizes: list[int], durations: list[float]) -> tuple[float, float]:
    """(peak over full segments, average) in bit/s."""
    pairs = list(zip(sizes, durations, strict=True))
    full = [(size, d) for size, d in pairs if d >= 1.0] or pairs
    peak = max(size * 8 / max(d, 0.001) for size, d in full)
    return peak, sum(sizes) * 8 / max(sum(durations), 0.001)


def _upper_hex(codecs: str) -> str:
    """``avc1.42c015`` as ``avc1.42C015`` (the form the MPEG-TS pipeline writes)."""
    return ",".join(f"avc1.{c[5:].upper()}" if c.startswith("avc1.") else c
                    for c in codecs.split(","))


_STREAM_INF = re.compile(r'#EXT-X-STREAM-INF:.*?CODECS="([^"]*)"')


def variant_codecs(master: str) -> dict[str, str]:
    """Variant URI → CODECS of a multivariant playlist (the packager's)."""
    out: dict[str, str] = {}
    pending: str | None = None
    for raw in master.splitlines():
        line = raw.strip()
        match = _STREAM_INF.match(line)
        if match:
            pending = match[1]
        elif line and not line.startswith("#") and pending is not None:
            out.setdefault(line, _upper_hex(pending))
            pending = None
    return out
