"""Segmented WebVTT (an HLS SUBTITLES rendition) as one WebVTT document for mpv's ``sub-add``.

Each segment is a WebVTT file of its own (``WEBVTT`` header, maybe ``X-TIMESTAMP-MAP``, then
cues). :func:`merge_segments` keeps the first header and the cues of every segment; a later
segment's header block (up to its first blank line) is dropped, so it cannot be read as a cue.
"""

from __future__ import annotations

from collections.abc import Iterable


def merge_segments(parts: Iterable[str]) -> str:
    out: list[str] = []
    for n, part in enumerate(parts):
        text = part.lstrip("\ufeff").replace("\r\n", "\n")
        if n and text.startswith("WEBVTT"):
            _, blank, rest = text.partition("\n\n")
            text = rest if blank else ""
        out.append(text.strip("\n"))
    return "\n\n".join(p for p in out if p) + "\n"
