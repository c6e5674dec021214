"""Common Encryption (ISO/IEC 23001-7) for fragmented MP4: ``cenc`` and ``cbcs``, decrypted in
the engine into clear fragments the decoder reads like any others (docs/engine.md, *CENC*).

**Init segment.** A protected track's sample entry is ``encv``/``enca`` holding a ``sinf``:
``frma`` (the original format, ``avc1``/``mp4a``…), ``schm`` (the scheme) and ``schi``/``tenc``
(default KID, per-sample IV size or constant IV, the ``cbcs`` pattern). :func:`clear_init` reads
them into a :class:`Protection` and rewrites the init *in place, at the same size*: the entry
takes its original four-character code again, ``sinf`` and every ``pssh`` become ``free``
boxes (which every reader skips).

**Fragments.** :func:`decrypt_fragment` takes one ``moof`` + ``mdat`` pair: per ``traf`` it reads
``tfhd`` (track, base offset, default size), each ``trun`` (sample sizes, data offset) and the
``senc`` (or PIFF's ``uuid`` equivalent: per-sample IVs, subsamples), decrypts every sample in the
``mdat`` in place and renames ``senc``/``saiz``/``saio`` to ``free``. Nothing moves, so the
segment keeps its length (the fetcher's plaintext length still holds) and the data offsets stay
right. ``cenc`` is AES-CTR over the protected bytes of a sample (one counter across its
subsamples); ``cbcs`` is AES-CBC over a crypt:skip pattern of 16-byte blocks (1:9 for video;
whole blocks when the pattern is 0:0) with the constant IV again at each subsample.
:class:`CencStream` cuts a segment's bytes into whole top-level boxes as they arrive and hands
out each fragment once decrypted: a fragment at a time.

A wrong key is caught before the decoder sees a byte (:mod:`player.cenccheck`):
:class:`~player.errors.LicenseError`, never garbage.
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from player.cenccheck import SampleCheck
from player.errors import LicenseError
from player.fmp4 import InitInfo, MediaFormatError, iter_boxes, parse_init

SCHEMES = frozenset({"cenc", "cbcs"})
_PIFF_SENC = bytes.fromhex("a2394f525a9b4f14a2446c427c648df4")
_SAMPLE_ENTRY_CHILDREN = {"vide": 78, "soun": 28}
"""Bytes of a visual / audio (version 0) sample entry before its child boxes."""


@dataclass(frozen=True)
class TrackProtection:
    """One protected track, from its ``sinf``."""

    track_id: int
    scheme: str
    """``cenc`` or ``cbcs``."""
    original_format: str
    """The sample entry's clear four-character code (``avc1``, ``mp4a``…)."""
    kid: bytes
    """16 bytes: the default key ID."""
    iv_size: int
    """Per-sample IV size in the ``senc`` (0, 8 or 16); 0 with a constant IV."""
    constant_iv: bytes = b""
    crypt_blocks: int = 0
    skip_blocks: int = 0
    nal_length_size: int = 0
    """avcC/hvcC NAL length size (video), 0 otherwise: for the wrong-key check."""
    default_sample_size: int = 0
    """From ``trex``: the size of samples no ``tfhd``/``trun`` sizes."""


@dataclass(frozen=True)
class Protection:
    """The protected tracks of an init segment."""

    tracks: tuple[TrackProtection, ...]

    @property
    def kids(self) -> tuple[bytes, ...]:
        return tuple(dict.fromkeys(t.kid for t in self.tracks))

    @property
    def strongly_checked(self) -> bool:
        """Every KID has a track whose plaintext has a strong wrong-key check (AAC: see
        :mod:`player.cenccheck`), so each fragment verifies its own keys; else (video alone)
        a fragment waits for its KID to be verified by another rendition."""
        audio = {t.kid for t in self.tracks if t.original_format == "mp4a"}
        return all(t.kid in audio for t in self.tracks)

    def track(self, track_id: int) -> TrackProtection | None:
        return next((t for t in self.tracks if t.track_id == track_id), None)


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
    nal_size = 0
    for k, _, p, _ in iter_boxes(buf, payload + skip, end):
        if k == b"avcC":
            nal_size = (buf[p + 4] & 3) + 1
        elif k == b"hvcC":
            nal_size = (buf[p + 21] & 3) + 1
    buf[at + 4:at + 8] = original
    buf[sinf_at + 4:sinf_at + 8] = b"free"
    return TrackProtection(track_id, scheme, original.decode("latin-1"), kid, iv_size, constant,
                           crypt, skip_blocks, nal_size, default_size)


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
        defaults: dict[int, int] = {}
        for k, at, p, e in iter_boxes(buf, *moov):
            if k == b"pssh":
                buf[at + 4:at + 8] = b"free"
            elif k == b"mvex":
                for k2, _, p2, _ in iter_boxes(buf, p, e):
                    if k2 == b"trex":
                        track_id, _, _, size = struct.unpack_from(">IIII", buf, p2 + 4)
                        defaults[track_id] = size
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
            for entry in iter_boxes(buf, stsd[1] + 8, stsd[2]):
                found = _protect_entry(buf, track_id, handler, entry, defaults.get(track_id, 0))
                if found is not None and not any(t.track_id == track_id for t in tracks):
                    tracks.append(found)
    except (IndexError, struct.error):
        raise MediaFormatError("The init segment's protection boxes are cut short.") from None
    return bytes(buf), (Protection(tuple(tracks)) if tracks else None)


def read_init(data: bytes) -> tuple[bytes, InitInfo]:
    """:func:`clear_init` then :func:`~player.fmp4.parse_init`: the init segment as the decoder
    gets it, and its tracks with their protection."""
    data, protection = clear_init(data)
    return data, replace(parse_init(data), protection=protection)


@dataclass
class _Sample:
    offset: int
    """In the fragment (moof start = 0)."""
    size: int
    iv: bytes = b""
    subsamples: tuple[tuple[int, int], ...] = ()
    """(clear bytes, protected bytes) pairs; empty: the whole sample is protected."""


def _senc(buf: bytearray, payload: int, end: int, iv_size: int,
          samples: list[_Sample]) -> None:
    """Per-sample IVs and subsamples. An ``senc`` with more entries than the fragment has
    samples keeps the last ones: ffmpeg's mov muxer lets a second track's ``senc`` grow over the
    fragments of a segment (ffmpeg 8.1, ``-encryption_scheme cenc-aes-ctr``)."""
    flags = int.from_bytes(buf[payload + 1:payload + 4], "big")
    count = struct.unpack_from(">I", buf, payload + 4)[0]
    if count < len(samples):
        raise MediaFormatError(f"The senc box describes {count} samples, the trun "
                               f"{len(samples)}.")
    pos = payload + 8
    entries: list[tuple[bytes, tuple[tuple[int, int], ...]]] = []
    for _ in range(count):
        iv = bytes(buf[pos:pos + iv_size])
        pos += iv_size
        subsamples: tuple[tuple[int, int], ...] = ()
        if flags & 0x2:
            n = struct.unpack_from(">H", buf, pos)[0]
            pairs = struct.unpack_from(">" + "HI" * n, buf, pos + 2)
            subsamples = tuple(zip(pairs[::2], pairs[1::2], strict=True))
            pos += 2 + 6 * n
        entries.append((iv, subsamples))
    if pos > end:
        raise MediaFormatError("The senc box is cut short.")
    for sample, (iv, subsamples) in zip(samples, entries[count - len(samples):], strict=True):
        sample.iv, sample.subsamples = iv, subsamples


def _traf(buf: bytearray, payload: int, end: int, moof_start: int, next_base: int,
          protection: Protection) -> tuple[TrackProtection | None, list[_Sample], int]:
    """(track protection, samples, where the next traf's data starts by default)."""
    boxes = iter_boxes(buf, payload, end)
    tfhd = next((p for k, _, p, _ in boxes if k == b"tfhd"), None)
    if tfhd is None:
        raise MediaFormatError("A traf has no tfhd.")
    flags = int.from_bytes(buf[tfhd + 1:tfhd + 4], "big")
    track = protection.track(struct.unpack_from(">I", buf, tfhd + 4)[0])
    pos = tfhd + 8
    base = next_base
    if flags & 0x1:
        base = moof_start + struct.unpack_from(">Q", buf, pos)[0]
        pos += 8
    elif flags & 0x20000:
        base = moof_start
    pos += 4 if flags & 0x2 else 0
    pos += 4 if flags & 0x8 else 0
    default_size = struct.unpack_from(">I", buf, pos)[0] if flags & 0x10 else (
        track.default_sample_size if track else 0)
    samples: list[_Sample] = []
    data_at = base
    for k, _, p, _ in boxes:
        if k != b"trun":
            continue
        tflags = int.from_bytes(buf[p + 1:p + 4], "big")
        count = struct.unpack_from(">I", buf, p + 4)[0]
        q = p + 8
        if tflags & 0x1:
            data_at = base + struct.unpack_from(">i", buf, q)[0]
            q += 4
        q += 4 if tflags & 0x4 else 0
        fields = sum(4 for bit in (0x100, 0x200, 0x400, 0x800) if tflags & bit)
        size_at = 4 if tflags & 0x100 else 0
        for _ in range(count):
            size = struct.unpack_from(">I", buf, q + size_at)[0] if tflags & 0x200 \
                else default_size
            samples.append(_Sample(data_at, size))
            data_at += size
            q += fields
    if track is not None:
        for k, at, p, e in boxes:
            if k == b"senc" or (k == b"uuid" and buf[p:p + 16] == _PIFF_SENC):
                _senc(buf, p + (16 if k == b"uuid" else 0), e, track.iv_size, samples)
                buf[at + 4:at + 8] = b"free"
                break
        else:
            raise MediaFormatError(f"Track {track.track_id} is encrypted but its fragment has "
                                   "no senc box.")
        for k, at, _, _ in boxes:
            if k in (b"saiz", b"saio"):
                buf[at + 4:at + 8] = b"free"
    return track, samples, data_at


def _decrypt_sample(buf: bytearray, sample: _Sample, track: TrackProtection,
                    key: bytes) -> None:
    iv = track.constant_iv or sample.iv
    ranges = ([(sample.offset, sample.size)] if not sample.subsamples else [])
    pos = sample.offset
    for clear, protected in sample.subsamples:
        pos += clear
        if protected:
            ranges.append((pos, protected))
        pos += protected
    if pos > sample.offset + sample.size and sample.subsamples:
        raise MediaFormatError("A sample's subsamples run past its end.")
    if track.scheme == "cenc":
        ctx = Cipher(algorithms.AES(key), modes.CTR(iv.ljust(16, b"\0"))).decryptor()
        for at, n in ranges:
            buf[at:at + n] = ctx.update(bytes(buf[at:at + n]))
        return
    crypt, skip = track.crypt_blocks, track.skip_blocks
    if crypt == 0 and skip == 0:
        crypt = 1
    stride = 16 * (crypt + skip)
    for at, n in ranges:  # cbcs: the constant IV again at every subsample
        blocks = n // 16
        if not blocks:
            continue
        if skip == 0:
            spans = [(at, blocks * 16)]
        else:
            end = at + blocks * 16
            spans = [(p, min(16 * crypt, end - p)) for p in range(at, end, stride)]
        cipher = b"".join(bytes(buf[p:p + m]) for p, m in spans)
        plain = Cipher(algorithms.AES(key), modes.CBC(iv.ljust(16, b"\0"))).decryptor() \
            .update(cipher)
        q = 0
        for p, m in spans:
            buf[p:p + m] = plain[q:q + m]
            q += m


Verdict = Callable[[bytes, bool], None]
"""Told (KID, True) when a strong check passed for the KID's key, (KID, False) when it failed."""


def decrypt_fragment(fragment: bytes, protection: Protection,
                     keys: Mapping[bytes, bytes], verdict: Verdict | None = None) -> bytes:
    """One ``moof`` (and what follows it up to and including its ``mdat``), decrypted in place
    (same length). ``keys``: KID → 16-byte key. :class:`LicenseError` for a missing or wrong
    key, :class:`MediaFormatError` for malformed boxes."""
    buf = bytearray(fragment)
    try:
        boxes = iter_boxes(buf)
        moof = next(((at, p, e) for k, at, p, e in boxes if k == b"moof"), None)
        if moof is None:
            return fragment
        todo: list[tuple[TrackProtection, list[_Sample]]] = []
        next_base = moof[0]
        for k, _, p, e in iter_boxes(buf, moof[1], moof[2]):
            if k == b"pssh":
                buf[p - 4:p] = b"free"
            elif k == b"traf":
                track, samples, next_base = _traf(buf, p, e, moof[0], next_base, protection)
                if track is not None:
                    todo.append((track, samples))
        for track, samples in todo:
            key = keys.get(track.kid)
            if key is None:
                raise LicenseError(f"No key for KID {track.kid.hex()} (track {track.track_id}): "
                                   "give it as --key KID:KEY or through a ClearKey licence.")
            if samples and samples[-1].offset + samples[-1].size > len(buf):
                raise MediaFormatError("The fragment's samples run past its mdat.")
            check = SampleCheck(track.original_format, track.nal_length_size)
            for sample in samples:
                _decrypt_sample(buf, sample, track, key)
                check.feed(buf, sample.offset, sample.size)
            try:
                check.verdict(track.kid)
            except LicenseError:
                if verdict is not None:
                    verdict(track.kid, False)
                raise
            if verdict is not None and check.strong:
                verdict(track.kid, True)
    except (IndexError, struct.error, ValueError):
        raise MediaFormatError("The fragment's encryption boxes are cut short.") from None
    return bytes(buf)


class CencStream:
    """Bytes of one segment in (any split), clear bytes out: whole top-level boxes are passed
    on as they complete, a ``moof`` waits for its ``mdat`` and the pair is decrypted."""

    def __init__(self, protection: Protection, keys: Mapping[bytes, bytes],
                 verdict: Verdict | None = None) -> None:
        self._protection = protection
        self._keys = keys
        self._verdict = verdict
        self._held = bytearray()
        self._fragment_at: int | None = None
        """Where a held moof starts in ``_held``; None: no moof waiting."""

    def feed(self, data: bytes) -> bytes:
        self._held += data
        out = bytearray()
        pos = 0
        held = self._held
        while len(held) - pos >= 8:
            size, kind = struct.unpack_from(">I4s", held, pos)
            if size == 1:
                if len(held) - pos < 16:
                    break
                size = struct.unpack_from(">Q", held, pos + 8)[0]
            if size < 8:  # malformed (or size 0): let the box checker say so, at the end
                break
            if len(held) - pos < size:
                break
            pos += size
            if kind == b"moof" and self._fragment_at is None:
                self._fragment_at = pos - size
            elif kind == b"mdat" and self._fragment_at is not None:
                out += decrypt_fragment(bytes(held[self._fragment_at:pos]), self._protection,
                                        self._keys, self._verdict)
                self._fragment_at = None
            elif self._fragment_at is None:
                out += held[pos - size:pos]
        cut = pos if self._fragment_at is None else self._fragment_at
        if self._fragment_at is not None:
            self._fragment_at -= cut
        del held[:cut]
        return bytes(out)

    def finish(self) -> bytes:
        """What is left (a malformed tail, for the box checker to refuse)."""
        rest = bytes(self._held)
        self._held.clear()
        self._fragment_at = None
        return rest
