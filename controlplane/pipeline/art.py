"""Poster (2:3) and backdrop (16:9) art: a gradient or a video frame, with the title drawn on."""

from __future__ import annotations

import textwrap
from dataclasses import dataclass
from pathlib import Path

from controlplane.pipeline.canvas import Gradient, fill_box, gradient_source
from controlplane.pipeline.drawtext import drawtext, wrap_to_fit
from controlplane.pipeline.ffmpeg import run_ffmpeg
from controlplane.pipeline.fonts import Fonts


@dataclass(frozen=True)
class ArtText:
    name: str
    tagline: str
    """One line under the name on the backdrop, e.g. ``"2023 · Drama · Thriller"`` (the
    poster carries the name only)."""
    rating: str
    synopsis: str


@dataclass(frozen=True)
class FrameSource:
    """Art from a frame of a video file, at ``at_s`` seconds."""

    path: Path
    at_s: float


def render_art(
    ffmpeg: str,
    text: ArtText,
    background: Gradient | FrameSource,
    *,
    poster: tuple[Path, tuple[int, int]],
    backdrop: tuple[Path, tuple[int, int]],
    fonts: Fonts | None,
) -> None:
    """Write the poster and the backdrop JPEGs with one ffmpeg run."""
    (poster_path, (pw, ph)), (backdrop_path, (bw, bh)) = poster, backdrop
    args: list[str] = []
    if isinstance(background, FrameSource):
        args += ["-ss", f"{background.at_s:.3f}", "-i", str(background.path)]
        crop = "scale={w}:{h}:force_original_aspect_ratio=increase,crop={w}:{h},setsar=1"
        graph = (
            f"[0:v]split[p][b];[p]{crop.format(w=pw, h=ph)},{_poster_text(text, pw, ph, fonts)}"
            f"[po];[b]{crop.format(w=bw, h=bh)},{_backdrop_text(text, bw, bh, fonts)}[bo]"
        )
    else:
        vertical = Gradient(background.c0, background.c1, "vertical")
        graph = (
            f"{gradient_source(vertical, pw, ph)},{_poster_text(text, pw, ph, fonts)}[po];"
            f"{gradient_source(background, bw, bh)},{_backdrop_text(text, bw, bh, fonts)}[bo]"
        )
    args += ["-filter_complex", graph]
    for label, path in (("[po]", poster_path), ("[bo]", backdrop_path)):
        args += ["-map", label, "-frames:v", "1", "-q:v", "3", "-update", "1", str(path)]
    run_ffmpeg(ffmpeg, args, what=f"drawing the artwork of {text.name!r}")


def _poster_text(text: ArtText, w: int, h: int, fonts: Fonts | None) -> str:
    """Key art: the title (on a band across the lower half) and a faded initial, as a studio's
    poster carries; no year, genres or rating, which the app prints under the tile."""
    u = w / 600
    band = h * 0.52
    filters = [fill_box("0", str(int(band)), "iw", "ih", "black@0.35")]
    if fonts is None:
        return ",".join(filters)
    filters.append(
        drawtext(fonts.bold, _initial(text.name), size_px=int(h * 0.42), x="(w-tw)/2",
                 y=str(int(h * 0.08)), color="white@0.12")
    )
    lines, size = wrap_to_fit(text.name, max_width_px=w * 0.86, max_size_px=96 * u, max_lines=3)
    line_h = size * 1.15
    top = band + (h - band - len(lines) * line_h) / 2  # centred on the band
    filters.append(
        drawtext(fonts.regular, "E D G E P L A Y", size_px=int(18 * u), x="(w-tw)/2",
                 y=str(int(h * 0.05)), color="white@0.75")
    )
    for i, line in enumerate(lines):
        filters.append(
            drawtext(fonts.bold, line, size_px=size, x="(w-tw)/2", y=str(int(top + i * line_h)),
                     shadow_px=max(1, int(3 * u)))
        )
    return ",".join(filters)


def _backdrop_text(text: ArtText, w: int, h: int, fonts: Fonts | None) -> str:
    u = h / 720
    filters = [fill_box("0", "0", str(int(w * 0.62)), "ih", "black@0.30")]
    if fonts is None:
        return ",".join(filters)
    margin = int(64 * u)
    filters.append(
        drawtext(fonts.bold, _initial(text.name), size_px=int(h * 0.9), x=str(int(w * 0.70)),
                 y=str(int(h * 0.02)), color="white@0.10")
    )
    lines, size = wrap_to_fit(text.name, max_width_px=w * 0.52, max_size_px=96 * u, max_lines=2)
    top = h * 0.30
    for i, line in enumerate(lines):
        filters.append(
            drawtext(fonts.bold, line, size_px=size, x=str(margin),
                     y=str(int(top + i * size * 1.15)), shadow_px=max(1, int(3 * u)))
        )
    y = top + len(lines) * size * 1.15 + 18 * u
    filters.append(
        drawtext(fonts.regular, f"{text.tagline} · {text.rating}", size_px=int(26 * u),
                 x=str(margin), y=str(int(y)), color="white@0.85")
    )
    syn_size = int(24 * u)
    synopsis = textwrap.wrap(text.synopsis, width=int(w * 0.52 / (0.55 * syn_size)))
    if len(synopsis) > 3:
        synopsis = [*synopsis[:2], synopsis[2] + " …"]
    for i, line in enumerate(synopsis):
        filters.append(
            drawtext(fonts.regular, line, size_px=syn_size, x=str(margin),
                     y=str(int(y + 56 * u + i * syn_size * 1.35)), color="white@0.75")
        )
    return ",".join(filters)


def _initial(name: str) -> str:
    """The big faded letter behind the art: the first letter, skipping a leading "The"."""
    words = name.split()
    if len(words) > 1 and words[0].lower() in {"the", "a", "an"}:
        words = words[1:]
    return (words[0][:1] if words else "?").upper()
