"""Still backgrounds: a two-colour gradient of a given size, as a one-frame lavfi source."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Gradient:
    c0: str
    c1: str
    direction: str = "diagonal"
    """``"diagonal"`` (top left to bottom right), ``"vertical"`` or ``"horizontal"``."""


def gradient_source(gradient: Gradient, width: int, height: int) -> str:
    """A lavfi source producing one frame of ``gradient`` (the ``gradients`` filter, frozen)."""
    x1, y1 = {
        "diagonal": (width, height),
        "vertical": (0, height),
        "horizontal": (width, 0),
    }[gradient.direction]
    return (
        f"gradients=s={width}x{height}:r=1:d=1:speed=0.00001:n=2"
        f":c0={gradient.c0}:c1={gradient.c1}:x0=0:y0=0:x1={x1}:y1={y1}"
    )


def fill_box(x: str, y: str, w: str, h: str, color: str) -> str:
    """A filled ``drawbox`` (expressions may use ``iw``/``ih``); no commas allowed in them."""
    return f"drawbox=x={x}:y={y}:w={w}:h={h}:color={color}:t=fill"
