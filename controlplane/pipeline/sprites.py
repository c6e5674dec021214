"""Trick-play sprite sheets: one thumbnail per interval, tiled columns x rows per JPEG.

A separate, cheap ffmpeg run: sharing the ladder's run would let its one-frame-per-sheet output
lag so far behind that ffmpeg reads the audio ahead and muxes it out of order.
"""

from __future__ import annotations

from pathlib import Path

from controlplane.pipeline.encode import looped
from controlplane.pipeline.ffmpeg import run_ffmpeg
from controlplane.pipeline.fonts import Fonts
from controlplane.pipeline.picture import thumb_parts
from controlplane.pipeline.profiles import EncodeSettings


def _tiles(settings: EncodeSettings, fonts: Fonts | None) -> str:
    return (
        f"{thumb_parts(settings.thumb_height, fonts)},"
        f"tile={settings.sprite_columns}x{settings.sprite_rows}"
    )


def _write(ffmpeg: str, args: list[str], graph: str, out_dir: Path, what: str) -> None:
    out_dir.mkdir(parents=True, exist_ok=True)
    run_ffmpeg(
        ffmpeg,
        [*args, "-filter_complex", graph + "[thumbs]", "-map", "[thumbs]",
         "-fps_mode", "passthrough", "-q:v", "4", "-start_number", "0",
         str(out_dir / "sprite_%03d.jpg")],
        what=what,
    )


def synthetic_sprites(
    ffmpeg: str, still: Path, *, duration_s: float, settings: EncodeSettings,
    fonts: Fonts | None, out_dir: Path,
) -> None:
    """Sprites for a generated title: its thumbnail still with the timecode of each moment."""
    interval = settings.trickplay_interval_s
    graph = f"{looped(still, f'N*{interval}/TB', duration_s)},{_tiles(settings, fonts)}"
    _write(ffmpeg, [], graph, out_dir, "drawing trick-play thumbnails")


def file_sprites(
    ffmpeg: str, source: Path, *, settings: EncodeSettings, fonts: Fonts | None, out_dir: Path
) -> None:
    """Sprites for an ingested file: a frame every interval, letterboxed to the thumb size."""
    tw, th = settings.thumb_width, settings.thumb_height
    graph = (
        f"[0:v]fps=1/{settings.trickplay_interval_s},setsar=1,"
        f"scale={tw}:{th}:force_original_aspect_ratio=decrease,pad={tw}:{th}:-1:-1,"
        f"{_tiles(settings, fonts)}"
    )
    _write(ffmpeg, ["-i", str(source)], graph, out_dir, f"drawing thumbnails of {source.name}")
