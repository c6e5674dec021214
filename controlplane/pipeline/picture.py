"""What a generated frame shows, so a rendition switch and the playback position are visible.

Static parts (gradient, title, tagline, the rendition label, the sweep track) are drawn once per
rendition into a still; per frame only the timecode and the sweeping dot are drawn, which keeps
the filter cost small next to x264. The dot crosses the track once per segment.
"""

from __future__ import annotations

from pathlib import Path

from controlplane.pipeline.canvas import Gradient, fill_box, gradient_source
from controlplane.pipeline.drawtext import Box, drawtext, fit_size_px
from controlplane.pipeline.ffmpeg import run_ffmpeg
from controlplane.pipeline.fonts import Fonts

LABEL_COLORS = ("0x2a9d8f@0.9", "0x457b9d@0.9", "0x8d5a97@0.9", "0xe76f51@0.9", "0xd62828@0.9")
"""Box colour of the burned-in rendition label, by rung index (low to high)."""

TRACK_Y = 0.64
TRACK_X = 0.08
TRACK_W = 0.84


def render_stills(
    ffmpeg: str,
    *,
    gradient: Gradient,
    name: str,
    tagline: str,
    sizes: dict[str, tuple[int, int]],
    labels: dict[str, str],
    out_dir: Path,
    fonts: Fonts | None,
) -> dict[str, Path]:
    """One PNG still per entry of ``sizes`` (label from ``labels`` if present); one ffmpeg run."""
    graph: list[str] = []
    args: list[str] = []
    paths: dict[str, Path] = {}
    for i, (key, (w, h)) in enumerate(sizes.items()):
        chain = [gradient_source(gradient, w, h), *_static(name, tagline, w, h, fonts)]
        label = labels.get(key)
        if label is not None and fonts is not None:
            chain.append(_label(label, i, w, h, fonts))
        graph.append(",".join(chain) + f"[s{i}]")
        paths[key] = out_dir / f"still_{key}.png"
        args += ["-map", f"[s{i}]", "-frames:v", "1", "-update", "1", str(paths[key])]
    run_ffmpeg(ffmpeg, ["-filter_complex", ";".join(graph), *args], what=f"drawing {name!r}")
    return paths


def _static(name: str, tagline: str, w: int, h: int, fonts: Fonts | None) -> list[str]:
    line_h = max(2, h // 180)
    track = fill_box(str(int(w * TRACK_X)), str(int(h * TRACK_Y)), str(int(w * TRACK_W)),
                     str(line_h), "white@0.45")
    if fonts is None:
        return [track]
    size = fit_size_px(name, max_width_px=w * 0.86, max_size_px=h / 8)
    return [
        track,
        drawtext(fonts.bold, name, size_px=size, x="(w-tw)/2", y=str(int(h * 0.30)),
                 shadow_px=max(1, h // 270)),
        drawtext(fonts.regular, tagline, size_px=int(h / 22), x="(w-tw)/2",
                 y=str(int(h * 0.30 + size * 1.3)), color="white@0.85"),
    ]


def _label(label: str, index: int, w: int, h: int, fonts: Fonts) -> str:
    size = int(h / 13)
    return drawtext(fonts.bold, label, size_px=size, x=str(int(h / 24)), y=str(int(h / 24)),
                    box=Box(LABEL_COLORS[index % len(LABEL_COLORS)], max(2, size // 4)))


def moving_parts(w: int, h: int, fonts: Fonts | None, *, period_s: int) -> str:
    """Per-frame filters: timecode and frame number bottom left, and the sweeping dot."""
    if fonts is None:
        return "null"
    dot_x = f"{w * TRACK_X:.0f}+{w * TRACK_W:.0f}*mod(t,{period_s})/{period_s}-tw/2"
    return ",".join(
        [
            drawtext(fonts.mono, "%{pts:hms}  frame %{eif:n:d}", size_px=int(h / 16),
                     x=str(int(h / 24)), y=f"h-th-{int(h / 24)}",
                     box=Box("black@0.55", max(2, h // 90)), expand=True),
            drawtext(fonts.bold, "●", size_px=int(h / 12), x=dot_x, y=f"{h * TRACK_Y:.0f}-th/2",
                     color="0xffd166"),
        ]
    )


def thumb_parts(h: int, fonts: Fonts | None) -> str:
    """Per-thumbnail filters: the timecode, large enough to read in a seek preview."""
    if fonts is None:
        return "null"
    return drawtext(fonts.mono, "%{pts:hms}", size_px=int(h / 7), x="(w-tw)/2",
                    y=f"h-th-{int(h / 14)}", box=Box("black@0.55", max(1, h // 60)), expand=True)


def ingest_overlays(label: str, index: int, w: int, h: int, fonts: Fonts | None) -> str:
    """Burned into an ingested video: a small rendition label and timecode in the corners."""
    if fonts is None:
        return "null"
    size = max(8, int(h / 24))
    return ",".join(
        [
            drawtext(fonts.bold, label, size_px=size, x=str(int(h / 40)), y=str(int(h / 40)),
                     box=Box(LABEL_COLORS[index % len(LABEL_COLORS)], max(1, size // 4))),
            drawtext(fonts.mono, "%{pts:hms}", size_px=size, x=f"w-tw-{int(h / 40)}",
                     y=str(int(h / 40)), box=Box("black@0.55", max(1, size // 4)), expand=True),
        ]
    )
