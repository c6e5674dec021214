"""Trick-play thumbnails: the WebVTT index of the playback answer's ``thumbnails.vtt_url``.

Each cue names a tile of a sprite sheet (docs/catalog.md)::

    WEBVTT

    00:00:04.000 --> 00:00:08.000
    sprite_000.jpg#xywh=240,0,240,135

:func:`parse_vtt` turns the text into a :class:`TrickplayIndex` of :class:`Thumbnail` cues with
absolute sprite URLs (resolved against the index's own URL, so the edge's signed path carries
over); :meth:`TrickplayIndex.at` finds the tile for a time. :func:`mirror_urls` lists the same
file on the other pathways (edges) for a fetch that fails over. Qt-free and network-free: the UI
fetches (``ui/trickplay.py``).
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

_TIMING = re.compile(r"^\s*(\S+)\s+-->\s+(\S+)")
_XYWH = re.compile(r"^(?:pixel:)?(\d+),(\d+),(\d+),(\d+)$")


class TrickplayFormatError(ValueError):
    """The text is not a WebVTT thumbnail index."""


@dataclass(frozen=True)
class Thumbnail:
    """One cue: the tile shown for ``start_s <= t < end_s``."""

    start_s: float
    end_s: float
    sprite_url: str
    """Absolute URL of the sprite sheet (without the ``#xywh`` fragment)."""
    x: int
    y: int
    w: int
    """Tile width in px; 0 with ``h`` 0: the whole image (a cue without ``#xywh``)."""
    h: int


def parse_timestamp(text: str) -> float:
    """``hh:mm:ss.ttt`` or ``mm:ss.ttt`` (WebVTT) in seconds; ``,`` is accepted for ``.``."""
    parts = text.strip().replace(",", ".").split(":")
    if len(parts) not in (2, 3):
        raise TrickplayFormatError(f"not a WebVTT timestamp: {text!r}")
    try:
        seconds = float(parts[-1])
        minutes = int(parts[-2])
        hours = int(parts[0]) if len(parts) == 3 else 0
    except ValueError:
        raise TrickplayFormatError(f"not a WebVTT timestamp: {text!r}") from None
    if seconds < 0 or minutes < 0 or hours < 0:
        raise TrickplayFormatError(f"not a WebVTT timestamp: {text!r}")
    return hours * 3600 + minutes * 60 + seconds


def _target(line: str, base_url: str) -> tuple[str, int, int, int, int]:
    ref, _, fragment = line.strip().partition("#")
    x = y = w = h = 0
    for part in fragment.split("&"):
        name, _, value = part.partition("=")
        if name == "xywh":
            m = _XYWH.match(value)
            if m is None:
                raise TrickplayFormatError(f"bad xywh fragment: {line!r}")
            x, y, w, h = (int(g) for g in m.groups())
    return urljoin(base_url, ref), x, y, w, h


def parse_vtt(text: str, base_url: str) -> TrickplayIndex:
    """The cues of a thumbnail index; sprite URLs resolved against ``base_url`` (the index's
    URL). Identifiers, cue settings, ``NOTE``/``STYLE`` blocks and cues without a payload are
    skipped. Raises :class:`TrickplayFormatError` when the text is not WebVTT."""
    text = text.lstrip("\ufeff")
    if not text.startswith("WEBVTT"):
        raise TrickplayFormatError("a thumbnail index starts with WEBVTT")
    cues: list[Thumbnail] = []
    blocks = re.split(r"\r?\n\s*\r?\n", text.replace("\r\n", "\n"))
    for block in blocks[1:]:
        lines = [line for line in block.split("\n") if line.strip()]
        timing = next((i for i, line in enumerate(lines) if "-->" in line), None)
        if timing is None or timing + 1 >= len(lines):
            continue  # NOTE, STYLE, REGION, or a cue with no payload
        m = _TIMING.match(lines[timing])
        if m is None:
            raise TrickplayFormatError(f"bad cue timing: {lines[timing]!r}")
        start, end = parse_timestamp(m.group(1)), parse_timestamp(m.group(2))
        if end <= start:
            continue
        url, x, y, w, h = _target(lines[timing + 1], base_url)
        cues.append(Thumbnail(start, end, url, x, y, w, h))
    return TrickplayIndex(cues)


class TrickplayIndex:
    """Cues sorted by start time; ``at(t)`` is a binary search."""

    def __init__(self, cues: Iterable[Thumbnail]) -> None:
        self.cues: list[Thumbnail] = sorted(cues, key=lambda c: c.start_s)
        self._starts = [c.start_s for c in self.cues]

    def __len__(self) -> int:
        return len(self.cues)

    @property
    def sprite_urls(self) -> list[str]:
        """Every sprite sheet once, in timeline order."""
        return list(dict.fromkeys(c.sprite_url for c in self.cues))

    def at(self, t_s: float) -> Thumbnail | None:
        """The cue covering ``t_s``; in a gap, the last cue that started before it; before the
        first cue, the first; None for an empty index. (Past the end: the last cue, so the
        very end of the bar still shows a picture.)"""
        if not self.cues:
            return None
        i = bisect.bisect_right(self._starts, t_s) - 1
        return self.cues[max(0, i)]


def mirror_urls(url: str, pathways: Sequence[tuple[str, str]]) -> list[str]:
    """``url`` followed by the same path on every other pathway (edge base URL) of the playback
    answer: the first pathway whose base URL prefixes ``url`` is swapped for each of the
    others. Only ``url`` when no pathway matches."""
    out = [url]
    bases = [base.rstrip("/") for _, base in pathways]
    own = next((b for b in bases if url == b or url.startswith(b + "/")), None)
    if own is None:
        return out
    rest = url[len(own):]
    for base in bases:
        candidate = base + rest
        if base != own and candidate not in out and urlsplit(candidate).scheme in ("http",
                                                                                    "https"):
            out.append(candidate)
    return out
