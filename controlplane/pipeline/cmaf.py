"""CMAF packaging: Shaka Packager segments and encrypts (CENC ``cbcs``) the encoded title.

Input: one video-only MP4 per rung (``work_dir/{rung}.mp4``, keyframes every segment), the
title's audio MP4 (one AAC track per language) and one WebVTT file per subtitle language.
Shaka Packager writes, in one run, the fragmented-MP4 segments of every video rung and audio
language, encrypted with CENC ``cbcs`` (the title's key, its key ID; :mod:`~controlplane.
pipeline.cenc`), segmented WebVTT, an HLS multivariant playlist and a DASH MPD over the same
segments. The pipeline then moves the segments into the title folder and writes each media
playlist with ``EXT-X-MAP`` and a ``SAMPLE-AES`` key line naming the ClearKey licence URL
(placeholder, filled at serve time), and adds a ClearKey ``ContentProtection`` to the MPD.
Title layout::

    {rung}/index.m3u8, init.mp4, seg_00000.m4s..     video (H.264), one folder per rung
    audio/{lang}/index.m3u8, init.mp4, seg_..m4s     AAC, one rendition per language
    subs/{lang}/index.m3u8, seg_00000.vtt..          segmented WebVTT (clear)
    subs/{lang}.vtt                                  the whole WebVTT file, as in MPEG-TS titles
    manifest.mpd, master.m3u8                        Shaka's DASH MPD and HLS multivariant playlist

``master.m3u8`` is the packager's multivariant playlist: its relative URIs name the media
playlists the pipeline wrote, so it plays as is once the licence URI is filled in (the control
plane writes its own, with a pathway per edge). ``manifest.mpd`` describes the same segments
(the control plane serves it with a BaseURL per edge).
"""

from __future__ import annotations

import re
import shutil
from dataclasses import dataclass
from pathlib import Path

from controlplane.catalog import Rendition
from controlplane.pipeline.cenc import add_clearkey_to_mpd, packager_key_args
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
    """Shaka Packager's stream descriptors and flags (without the key: :func:`~controlplane.
    pipeline.cenc.packager_key_args`); outputs relative to its working dir."""
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
    title_dir: Path, key: bytes, kid: bytes, frame_rate: float, segment_s: float, what: str,
) -> PackagedCmaf:
    """Package and encrypt into ``stage`` (an empty scratch folder), then move the segments
    into ``title_dir`` with their media playlists (so disk use stays near one copy)."""
    stage.mkdir(parents=True, exist_ok=True)
    run_packager(packager, [*packager_args(inputs, rungs, segment_s),
                            *packager_key_args(kid, key)], cwd=stage, what=what)
    codecs = variant_codecs((stage / "master.m3u8").read_text(encoding="utf-8"))
    audio_peak, audio_average = 0.0, 0.0
    for track in inputs.audio_tracks:
        folder = f"{AUDIO_DIR}/{track.language}"
        sizes, durations = _install(stage / folder, title_dir / folder)
        peak, average = _rates(sizes, durations)
        audio_peak, audio_average = max(audio_peak, peak), max(audio_average, average)
    renditions: list[Rendition] = []
    reference: list[float] | None = None
    for rung in rungs:
        sizes, durations = _install(stage / rung.id, title_dir / rung.id)
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
    shutil.copyfile(stage / "master.m3u8", title_dir / "master.m3u8")
    mpd = (stage / "manifest.mpd").read_text(encoding="utf-8")
    (title_dir / "manifest.mpd").write_text(add_clearkey_to_mpd(mpd, kid), encoding="utf-8")
    assert reference is not None
    return PackagedCmaf(tuple(renditions), tuple(reference))


def _install(src: Path, dst: Path) -> tuple[list[int], list[float]]:
    """Move the encrypted segments of the packager's playlist in ``src`` into ``dst``, copy
    the init segment and write the media playlist; (segment sizes, durations)."""
    segments = read_segments(src / "index.m3u8")
    if not segments:
        raise PipelineError(f"the packager wrote no segments for {src.name}")
    init = (src / INIT_SEGMENT).read_bytes()
    if b"tenc" not in init:
        raise PipelineError(f"{src.name}: the packager did not encrypt (no tenc in the init)")
    dst.mkdir(parents=True, exist_ok=True)
    (dst / INIT_SEGMENT).write_bytes(init)
    sizes: list[int] = []
    for seq, segment in enumerate(segments):
        expected = f"seg_{seq:05d}.m4s"
        if segment.uri != expected:
            raise PipelineError(f"{src.name}: segment {seq} is {segment.uri}, not {expected}")
        with (src / segment.uri).open("rb") as head:
            if head.read(8)[4:8] not in (b"styp", b"moof"):
                raise PipelineError(f"{src.name}/{segment.uri} is not a fragmented-MP4 segment")
        sizes.append((src / segment.uri).stat().st_size)
        shutil.move(src / segment.uri, dst / segment.uri)
    durations = [s.duration_s for s in segments]
    (dst / "index.m3u8").write_text(media_playlist(durations, fmp4=True, cenc=True),
                                    encoding="utf-8")
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
