"""Common Encryption (ISO/IEC 23001-7) for fragmented MP4: ``cenc`` and ``cbcs``, decrypted in
the engine into clear fragments the decoder reads like any others (docs/engine.md, *CENC*).

**Init segment** (:mod:`player.cenc_init`): :func:`clear_init` reads each protected track's
``sinf``/``tenc`` into a :class:`Protection` and gives the init back clear-signalled, at the same
size (``encv`` → ``avc1``, ``sinf``/``pssh`` → ``free``).

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
from dataclasses import dataclass

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from player.cenc_init import Protection, TrackProtection, clear_init, read_init
from player.cenccheck import SampleCheck
from player.errors import LicenseError
from player.fmp4 import MediaFormatError, iter_boxes

_PIFF_SENC = bytes.fromhex("a2394f525a9b4f14a2446c427c648df4")

__all__ = ["CencStream", "Protection", "TrackProtection", "Verdict", "clear_init",
           "decrypt_fragment", "read_init"]


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
    entry = track.default_entry if track is not None else 1
    if flags & 0x2:
        entry = struct.unpack_from(">I", buf, pos)[0]
        pos += 4
    pos += 4 if flags & 0x8 else 0
    default_size = struct.unpack_from(">I", buf, pos)[0] if flags & 0x10 else (
        track.default_sample_size if track else 0)
    if track is not None and entry not in track.protected_entries:
        track = None  # a clear fragment of a protected track (a clear lead)
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
            check = SampleCheck(track.check_codec, track.nal_length_size)
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
