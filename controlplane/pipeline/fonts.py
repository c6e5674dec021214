"""Fonts for burned-in text: DejaVu from the system, found by path (no fontconfig needed)."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

_FONT_DIRS = (
    Path("/usr/share/fonts/truetype/dejavu"),
    Path("/usr/share/fonts/dejavu"),
    Path("/usr/share/fonts/TTF"),
    Path("/usr/local/share/fonts"),
    Path("/Library/Fonts"),
    Path("C:/Windows/Fonts"),
)
_SANS_BOLD = ("DejaVuSans-Bold.ttf", "Arial Bold.ttf", "arialbd.ttf")
_SANS = ("DejaVuSans.ttf", "Arial.ttf", "arial.ttf")
_MONO_BOLD = ("DejaVuSansMono-Bold.ttf", "Courier New Bold.ttf", "courbd.ttf")


@dataclass(frozen=True)
class Fonts:
    bold: Path
    regular: Path
    mono: Path


@functools.lru_cache(maxsize=1)
def find_fonts() -> Fonts | None:
    """The fonts to draw with, or None when none is installed (text is then left out)."""
    bold = _first(_SANS_BOLD) or _first(_SANS)
    if bold is None:
        return None
    return Fonts(bold=bold, regular=_first(_SANS) or bold, mono=_first(_MONO_BOLD) or bold)


def _first(names: tuple[str, ...]) -> Path | None:
    for folder in _FONT_DIRS:
        for name in names:
            candidate = folder / name
            if candidate.is_file():
                return candidate
    return None
