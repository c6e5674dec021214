"""Packaging: plaintext segments from the encode become the encrypted renditions of a title."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from controlplane.catalog import Rendition
from controlplane.pipeline.encrypt import encrypt_segment
from controlplane.pipeline.errors import PipelineError
from controlplane.pipeline.ladder import Rung
from controlplane.pipeline.playlist import media_playlist, read_segments, segment_name
from controlplane.pipeline.tsinfo import inspect_segment, is_ts

DURATION_TOLERANCE_S = 0.05
"""Renditions whose segment durations differ by more than this are not aligned: an error."""


@dataclass(frozen=True)
class Packaged:
    renditions: tuple[Rendition, ...]
    segment_durations_s: tuple[float, ...]
    first_video_pts: int


def package_renditions(
    *, work_dir: Path, title_dir: Path, rungs: tuple[Rung, ...], key: bytes, frame_rate: float
) -> Packaged:
    """Encrypt ``work_dir/{rung}`` into ``title_dir/{rung}`` and write each media playlist.

    Plaintext segments are deleted as they are encrypted, so disk use stays near one copy.
    """
    renditions: list[Rendition] = []
    reference: list[float] | None = None
    first_pts = 0
    for rung in rungs:
        segments = read_segments(work_dir / rung.id / "index.m3u8")
        durations = [s.duration_s for s in segments]
        if not segments:
            raise PipelineError(f"the encoder wrote no segments for {rung.id}")
        if reference is None:
            reference = durations
        elif len(durations) != len(reference) or any(
            abs(a - b) > DURATION_TOLERANCE_S for a, b in zip(durations, reference, strict=True)
        ):
            raise PipelineError(f"segments of {rung.id} are not aligned with {rungs[0].id}")
        out_dir = title_dir / rung.id
        out_dir.mkdir(parents=True, exist_ok=True)
        sizes: list[int] = []
        codecs = ""
        for seq, segment in enumerate(segments):
            src = work_dir / rung.id / segment.uri
            plain = src.read_bytes()
            if not is_ts(plain):
                raise PipelineError(f"{rung.id}/{segment.uri} is not an MPEG-TS segment")
            if seq == 0:
                info = inspect_segment(plain)
                codecs = info.codecs
                first_pts = info.first_video_pts or 0
            sealed = encrypt_segment(plain, key, seq)
            (out_dir / segment_name(seq)).write_bytes(sealed)
            sizes.append(len(sealed))
            src.unlink()
        (out_dir / "index.m3u8").write_text(media_playlist(reference), encoding="utf-8")
        renditions.append(_rendition(rung, sizes, reference, codecs, frame_rate))
    assert reference is not None
    return Packaged(tuple(renditions), tuple(reference), first_pts)


def _rendition(
    rung: Rung, sizes: list[int], durations: list[float], codecs: str, frame_rate: float
) -> Rendition:
    pairs = list(zip(sizes, durations, strict=True))
    full = [(size, d) for size, d in pairs if d >= 1.0] or pairs
    peak = max(size * 8 / max(d, 0.001) for size, d in full)
    average = sum(sizes) * 8 / max(sum(durations), 0.001)
    return Rendition(
        id=rung.id,
        width=rung.width,
        height=rung.height,
        bitrate_bps=rung.bitrate_bps,
        bandwidth_bps=int(peak),
        average_bandwidth_bps=int(average),
        codecs=codecs,
        frame_rate=frame_rate,
    )
