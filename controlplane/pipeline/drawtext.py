"""Building ``drawtext`` filters: one function, so every piece of burned-in text is quoted alike."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from controlplane.pipeline.escape import filter_path, filter_value

GLYPH_WIDTH_EM = 0.62
"""Average advance of a DejaVu Sans Bold glyph, in ems; used to fit text to a width."""


@dataclass(frozen=True)
class Box:
    color: str
    border_px: int


def drawtext(
    font: Path,
    text: str,
    *,
    size_px: int,
    x: str,
    y: str,
    color: str = "white",
    box: Box | None = None,
    shadow_px: int = 0,
    expand: bool = False,
) -> str:
    """A ``drawtext=...`` filter; ``x``/``y`` are plain ffmpeg expressions (``mod(t,4)``).

    With ``expand`` the text may use drawtext functions such as ``%{pts:hms}``; otherwise it is
    drawn literally. Everything is escaped here; callers pass raw strings.
    """
    parts = [
        f"fontfile={filter_path(str(font))}",
        f"text={filter_value(text)}",
        f"expansion={'normal' if expand else 'none'}",
        f"fontsize={max(6, size_px)}",
        f"fontcolor={color}",
        f"x={filter_value(x)}",
        f"y={filter_value(y)}",
    ]
    if box is not None:
        parts += ["box=1", f"boxcolor={box.color}", f"boxborderw={max(1, box.border_px)}"]
    if shadow_px > 0:
        parts += ["shadowcolor=black@0.6", f"shadowx={shadow_px}", f"shadowy={shadow_px}"]
    return "drawtext=" + ":".join(parts)


def fit_size_px(text: str, *, max_width_px: float, max_size_px: float) -> int:
    """The largest font size (px) up to ``max_size_px`` at which ``text`` fits the width."""
    by_width = max_width_px / (GLYPH_WIDTH_EM * max(1, len(text)))
    return int(min(max_size_px, by_width))


def wrap_to_fit(
    text: str, *, max_width_px: float, max_size_px: float, max_lines: int
) -> tuple[list[str], int]:
    """Break ``text`` into at most ``max_lines`` lines at the largest size that fits the width."""
    words = text.split()
    best: tuple[list[str], int] = ([text], fit_size_px(text, max_width_px=max_width_px,
                                                        max_size_px=max_size_px))
    for n_lines in range(2, max_lines + 1):
        lines = _balanced_lines(words, n_lines)
        size = min(
            fit_size_px(line, max_width_px=max_width_px, max_size_px=max_size_px / n_lines * 1.6)
            for line in lines
        )
        if size > best[1]:
            best = (lines, size)
    return best


def _balanced_lines(words: list[str], n_lines: int) -> list[str]:
    """Greedy split of ``words`` into up to ``n_lines`` lines of similar length."""
    target = max(1, sum(len(w) + 1 for w in words) // n_lines)
    lines: list[str] = []
    current: list[str] = []
    for word in words:
        if current and len(" ".join([*current, word])) > target and len(lines) < n_lines - 1:
            lines.append(" ".join(current))
            current = []
        current.append(word)
    if current:
        lines.append(" ".join(current))
    return lines
