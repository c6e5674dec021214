"""The trick-play index: a WebVTT file whose cues point at tiles of the sprite sheets."""

from __future__ import annotations

import math
from dataclasses import dataclass

from controlplane.pipeline.subtitles import vtt_timestamp


@dataclass(frozen=True)
class SpriteGrid:
    thumb_width: int
    thumb_height: int
    columns: int
    rows: int

    @property
    def per_sprite(self) -> int:
        return self.columns * self.rows


def thumb_count(duration_s: float, interval_s: float) -> int:
    """Thumbnails taken at 0, interval, 2·interval.. before the end."""
    return max(1, math.ceil(duration_s / interval_s - 1e-9))


def sprite_count(duration_s: float, interval_s: float, grid: SpriteGrid) -> int:
    return math.ceil(thumb_count(duration_s, interval_s) / grid.per_sprite)


def sprite_name(index: int) -> str:
    return f"sprite_{index:03d}.jpg"


def thumbs_vtt(duration_s: float, interval_s: float, grid: SpriteGrid) -> str:
    """``WEBVTT`` cues ``start --> end`` / ``sprite_NNN.jpg#xywh=x,y,w,h``, one per thumbnail."""
    out = ["WEBVTT\n"]
    for i in range(thumb_count(duration_s, interval_s)):
        start = i * interval_s
        end = min(start + interval_s, duration_s)
        sprite, cell = divmod(i, grid.per_sprite)
        row, col = divmod(cell, grid.columns)
        x, y = col * grid.thumb_width, row * grid.thumb_height
        out.append(
            f"{vtt_timestamp(start)} --> {vtt_timestamp(end)}\n"
            f"{sprite_name(sprite)}#xywh={x},{y},{grid.thumb_width},{grid.thumb_height}\n"
        )
    return "\n".join(out)
