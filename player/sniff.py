"""What a body that should have been a playlist is, in words, from its first bytes.

:func:`describe_body` names what a server sent instead of an M3U8 playlist ("an MP4 file",
"HTML (a web page)", "JSON", "binary data of 512 bytes") so that an error message can say it
without dumping the bytes themselves. :func:`looks_like_playlist` is the check that comes first.
"""

from __future__ import annotations

import json

_MP4_BOXES = frozenset({b"ftyp", b"moov", b"moof", b"styp", b"sidx", b"mdat", b"free", b"skip",
                        b"wide", b"pdin"})
_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"\x1aE\xdf\xa3", "a Matroska/WebM file"),
    (b"ID3", "an audio file with an ID3 tag (MP3/AAC)"),
    (b"\x89PNG\r\n\x1a\n", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF8", "a GIF image"),
    (b"%PDF", "a PDF document"),
    (b"\x1f\x8b", "gzip-compressed data"),
    (b"PK\x03\x04", "a ZIP archive"),
    (b"FLV", "an FLV file"),
    (b"OggS", "an Ogg file"),
    (b"RIFF", "a RIFF file (WAV/AVI)"),
    (b"WEBVTT", "a WebVTT subtitle file"),
)
_SNIFF_BYTES = 512
_TS_PACKET = 188


def _as_bytes(body: bytes | str) -> bytes:
    """``body`` as bytes; text counts one byte a character (a decoder replaced what it could
    not read with one character each), which keeps magic numbers where they were."""
    if isinstance(body, bytes):
        return body
    return bytes(ord(c) if ord(c) < 256 else 0xFF for c in body)


def _stripped(data: bytes) -> bytes:
    return data.removeprefix(b"\xef\xbb\xbf").lstrip()


def looks_like_playlist(body: bytes | str) -> bool:
    """True when ``body`` starts with ``#EXTM3U`` (after a byte-order mark and blank space)."""
    return _stripped(_as_bytes(body)[:64]).startswith(b"#EXTM3U")


def _binary(head: bytes) -> bool:
    if b"\x00" in head:
        return True
    odd = sum(1 for b in head if b < 9 or 13 < b < 32 or b == 0x7F or b == 0xFF)
    return odd > len(head) // 10


def _sizes(n: int) -> str:
    return f"{n} byte" if n == 1 else f"{n} bytes"


def describe_body(body: bytes | str) -> str:
    """What ``body`` is, as a noun phrase: ``"an MP4 file"``, ``"HTML (a web page)"``,
    ``"JSON"``, ``"an MPEG-TS segment"``, ``"text starting with 'hello'"``,
    ``"binary data of 512 bytes"``, ``"an empty body"``. Never the raw bytes."""
    data = _as_bytes(body)
    if not data.strip():
        return "an empty body" if not data else "only blank space"
    if data[4:8] in _MP4_BOXES:
        return "an MP4 file (media, not a playlist)"
    if data[0] == 0x47 and (len(data) <= _TS_PACKET or data[_TS_PACKET] == 0x47):
        return "an MPEG-TS segment (media, not a playlist)"
    for magic, name in _MAGIC:
        if data.startswith(magic):
            return name
    text = _stripped(data)
    lower = text[:_SNIFF_BYTES].lower()
    if lower.startswith((b"<!doctype html", b"<html")) or b"<html" in lower:
        return "HTML (a web page)"
    if lower.startswith(b"<?xml") or lower.startswith(b"<"):
        return "a DASH manifest (MPD)" if b"<mpd" in lower else "XML"
    if text[:1] in (b"{", b"["):
        try:
            json.loads(text.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            return "JSON-like text that is not valid JSON"
        return "JSON"
    head = data[:_SNIFF_BYTES]
    if _binary(head):
        return f"binary data of {_sizes(len(data))}"
    first = text.decode("utf-8", "replace").splitlines()[0].strip()
    shown = "".join(c if c.isprintable() else "?" for c in first[:40])
    more = "…" if len(first) > 40 else ""
    return f"text starting with {shown + more!r}"
