"""CENC init segments: what a protected track's ``sinf`` says, and the init as the decoder gets
it (docs/engine.md, *CENC*).

A protected track's sample entry is ``encv``/``enca`` holding a ``sinf``: ``frma`` (the original
format, ``avc1``/``mp4a``…), ``schm`` (the scheme) and ``schi``/``tenc`` (default KID, per-sample
IV size or constant IV, the ``cbcs`` pattern). :func:`clear_init` reads them into a
:class:`Protection` and rewrites the init *in place, at the same size*: the entry takes its
original four-character code again, ``sinf`` and every ``pssh`` become ``free`` boxes (which
every reader skips).
"""

from __future__ import annotations

import struct
from dataclasses import replace

from player.cenc_protection import Protection, TrackProtection
from player.errors import LicenseError
from player.fmp4 import InitInfo, MediaFormatError, iter_boxes, parse_init

__all__ = ["SCHEMES", "Protection", "TrackProtection", "clear_init", "read_init"]

SCHEMES = frozenset({"cenc", "cbcs"})
_SAMPLE_ENTRY_CHILDREN = {"vide": 78, "soun": 28}
"""Bytes of a visual / audio (version 0) sample entry before its child boxes."""


def _find(buf: bytes | bytearray, start: int, end: int, kind: bytes) -> tuple[int, int, int]:
    for k, at, payload, box_end in iter_boxes(buf, start, end):
        if k == kind:
            return at, payload, box_end
    raise MediaFormatError(f"The init segment has no {kind.decode()} box where one belongs.")


def _tenc(buf: bytes | bytearray, payload: int) -> tuple[int, bytes, bytes, int, int]:
    """(IV size, KID, constant IV, crypt blocks, skip blocks) from a ``tenc`` payload."""
    version = buf[payload]
    pattern = buf[payload + 5] if version >= 1 else 0
    iv_size = buf[payload + 7]
    kid = bytes(buf[payload + 8:payload + 24])
    constant = b""
    if iv_size == 0:
        n = buf[payload + 24]
        constant = bytes(buf[payload + 25:payload + 25 + n])
        if n not in (8, 16) or len(constant) != n:
            raise MediaFormatError("The init segment's tenc has no valid constant IV.")
    elif iv_size not in (8, 16):
        raise MediaFormatError(f"The init segment's tenc gives a {iv_size}-byte IV.")
    return iv_size, kid, constant, pattern >> 4, pattern & 0xF


def _protect_entry(buf: bytearray, track_id: int, handler: str, entry: tuple[bytes, int, int, int],
                   default_size: int) -> TrackProtection | None:
    kind, at, payload, end = entry
    if kind not in (b"encv", b"enca"):
        return None
    skip = _SAMPLE_ENTRY_CHILDREN.get(handler, 78 if kind == b"encv" else 28)
    if kind == b"enca":
        skip += {1: 16, 2: 36}.get(struct.unpack_from(">H", buf, payload + 8)[0], 0)
    sinf_at, sinf, sinf_end = _find(buf, payload + skip, end, b"sinf")
    frma = _find(buf, sinf, sinf_end, b"frma")[1]
    original = bytes(buf[frma:frma + 4])
    schm = _find(buf, sinf, sinf_end, b"schm")[1]
    scheme = bytes(buf[schm + 4:schm + 8]).decode("latin-1")
    if scheme not in SCHEMES:
        raise LicenseError(f"The stream is encrypted with the {scheme!r} scheme; only cenc and "
                           "cbcs play.")
    schi = _find(buf, sinf, sinf_end, b"schi")
    iv_size, kid, constant, crypt, skip_blocks = _tenc(buf, _find(buf, schi[1], schi[2],
                                                                  b"tenc")[1])
    nal_size, aac = 0, False
    for k, _, p, _ in iter_boxes(buf, payload + skip, end):
        if k == b"avcC":
            nal_size = (buf[p + 4] & 3) + 1
        elif k == b"hvcC":
            nal_size = (buf[p + 21] & 3) + 1
        elif k == b"esds" and original == b"mp4a":
            aac = _object_type(buf, p) in _AAC_OBJECT_TYPES
    buf[at + 4:at + 8] = original
    buf[sinf_at + 4:sinf_at + 8] = b"free"
    return TrackProtection(track_id, scheme, original.decode("latin-1"), kid, iv_size, constant,
                           crypt, skip_blocks, nal_size, default_size, aac)


_AAC_OBJECT_TYPES = frozenset({0x40, 0x66, 0x67, 0x68})
"""``esds`` objectTypeIndication of MPEG-4 audio (AAC) and MPEG-2 AAC (Main, LC, SSR)."""


def _descriptor(buf: bytearray, pos: int) -> tuple[int, int]:
    """(tag, payload position) of the MPEG-4 descriptor at ``pos`` (its length is 1–4 bytes)."""
    tag = buf[pos]
    pos += 1
    for _ in range(4):
        pos += 1
        if not buf[pos - 1] & 0x80:
            break
    return tag, pos


def _object_type(buf: bytearray, payload: int) -> int:
    """The objectTypeIndication of an ``esds`` payload (0 if it has none)."""
    tag, pos = _descriptor(buf, payload + 4)
    if tag != 3:  # ES_Descriptor
        return 0
    flags = buf[pos + 2]
    pos += 3
    pos += 2 if flags & 0x80 else 0
    pos += 1 + buf[pos] if flags & 0x40 else 0
    pos += 2 if flags & 0x20 else 0
    tag, pos = _descriptor(buf, pos)
    return buf[pos] if tag == 4 else 0  # DecoderConfigDescriptor


def clear_init(data: bytes) -> tuple[bytes, Protection | None]:
    """The init segment with its protection signalling neutralised (same length), and what it
    said; ``(data, None)`` for a clear init. :class:`MediaFormatError` if malformed,
    :class:`LicenseError` for a scheme other than cenc/cbcs."""
    if b"sinf" not in data and b"pssh" not in data:
        return data, None
    buf = bytearray(data)
    tracks: list[TrackProtection] = []
    try:
        moov = next(((p, e) for k, _, p, e in iter_boxes(buf) if k == b"moov"), None)
        if moov is None:
            return data, None
        defaults: dict[int, tuple[int, int]] = {}  # track → (description index, sample size)
        for k, at, p, e in iter_boxes(buf, *moov):
            if k == b"pssh":
                buf[at + 4:at + 8] = b"free"
            elif k == b"mvex":
                for k2, _, p2, _ in iter_boxes(buf, p, e):
                    if k2 == b"trex":
                        track_id, index, _, size = struct.unpack_from(">IIII", buf, p2 + 4)
                        defaults[track_id] = (index, size)
        for k, _, p, e in iter_boxes(buf, *moov):
            if k != b"trak":
                continue
            tkhd = _find(buf, p, e, b"tkhd")[1]
            track_id = struct.unpack_from(">I", buf, tkhd + (20 if buf[tkhd] == 1 else 12))[0]
            mdia = _find(buf, p, e, b"mdia")
            hdlr = _find(buf, mdia[1], mdia[2], b"hdlr")[1]
            handler = bytes(buf[hdlr + 8:hdlr + 12]).decode("latin-1")
            minf = _find(buf, mdia[1], mdia[2], b"minf")
            stbl = _find(buf, minf[1], minf[2], b"stbl")
            stsd = _find(buf, stbl[1], stbl[2], b"stsd")
            index, size = defaults.get(track_id, (1, 0))
            protected: list[int] = []
            for n, entry in enumerate(iter_boxes(buf, stsd[1] + 8, stsd[2]), 1):
                found = _protect_entry(buf, track_id, handler, entry, size)
                if found is None:
                    continue
                protected.append(n)
                if not any(t.track_id == track_id for t in tracks):
                    tracks.append(found)
            tracks = [replace(t, protected_entries=frozenset(protected), default_entry=index)
                      if t.track_id == track_id else t for t in tracks]
    except (IndexError, struct.error):
        raise MediaFormatError("The init segment's protection boxes are cut short.") from None
    return bytes(buf), (Protection(tuple(tracks)) if tracks else None)


def read_init(data: bytes) -> tuple[bytes, InitInfo]:
    """:func:`clear_init` then :func:`~player.fmp4.parse_init`: the init segment as the decoder
    gets it, and its tracks with their protection."""
    data, protection = clear_init(data)
    return data, replace(parse_init(data), protection=protection)
