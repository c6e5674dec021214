"""Fragmented MP4 and packed audio: box checks, init parsing, parameter sets put in-band."""

from __future__ import annotations

import struct

import pytest
from cryptography.hazmat.primitives import padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from player.decrypt import CorruptSegment, StreamDecryptor, plaintext_length
from player.fmp4 import (
    BoxChecker,
    MediaFormatError,
    ParameterSetInjector,
    check_packed_audio_start,
    injected_bytes,
    iter_boxes,
    parse_init,
)

SPS = b"\x67\x64\x00\x1f" + bytes(range(20))
PPS = b"\x68\xeb\xe3\xcb"


def box(kind: bytes, *parts: bytes) -> bytes:
    payload = b"".join(parts)
    return struct.pack(">I4s", 8 + len(payload), kind) + payload


def full(kind: bytes, flags: int, *parts: bytes) -> bytes:
    return box(kind, struct.pack(">I", flags), *parts)


def trak(track_id: int, handler: bytes, entry: bytes) -> bytes:
    return box(b"trak",
               full(b"tkhd", 0, bytes(8), struct.pack(">I", track_id), bytes(60)),
               box(b"mdia",
                   full(b"mdhd", 0, bytes(8), struct.pack(">I", 12800), bytes(8)),
                   full(b"hdlr", 0, bytes(4), handler, bytes(13)),
                   box(b"minf", box(b"stbl", full(b"stsd", 0, struct.pack(">I", 1), entry)))))


def init_segment() -> bytes:
    avcc = (bytes([1, 0x64, 0, 0x1F, 0xFF, 0xE1]) + struct.pack(">H", len(SPS)) + SPS
            + b"\x01" + struct.pack(">H", len(PPS)) + PPS)
    avc1 = box(b"avc1", bytes(78), box(b"avcC", avcc))
    return (box(b"ftyp", b"iso6", bytes(4)) +
            box(b"moov", full(b"mvhd", 0, bytes(96)), trak(1, b"vide", avc1),
                trak(2, b"soun", box(b"mp4a", bytes(28)))))


def fragment(video: list[bytes], audio: list[bytes]) -> bytes:
    """styp + moof (video traf, audio traf; data offsets from the moof) + mdat (video first)."""
    def traf(track_id: int, samples: list[bytes], offset: int) -> bytes:
        sizes = b"".join(struct.pack(">I", len(s)) for s in samples)
        return box(b"traf", full(b"tfhd", 0x020000, struct.pack(">I", track_id)),
                   full(b"trun", 0x000201, struct.pack(">Ii", len(samples), offset), sizes))

    def moof(v_off: int, a_off: int) -> bytes:
        return box(b"moof", full(b"mfhd", 0, struct.pack(">I", 1)),
                   traf(1, video, v_off), traf(2, audio, a_off))

    size = len(moof(0, 0))
    v_off = size + 8
    a_off = v_off + sum(map(len, video))
    return (box(b"styp", b"msdh", bytes(4)) + moof(v_off, a_off)
            + box(b"mdat", *video, *audio))


def samples_of(segment: bytes) -> dict[int, list[bytes]]:
    """Track id → its samples, read back through the trun sizes and data offsets."""
    out: dict[int, list[bytes]] = {}
    for kind, start, payload, end in iter_boxes(segment):
        if kind != b"moof":
            continue
        for k, _, p, e in iter_boxes(segment, payload, end):
            if k != b"traf":
                continue
            inner = iter_boxes(segment, p, e)
            tfhd = next(bp for kk, _, bp, _ in inner if kk == b"tfhd")
            trun = next(bp for kk, _, bp, _ in inner if kk == b"trun")
            track = struct.unpack_from(">I", segment, tfhd + 4)[0]
            count, offset = struct.unpack_from(">Ii", segment, trun + 4)
            pos = start + offset
            for i in range(count):
                n = struct.unpack_from(">I", segment, trun + 12 + 4 * i)[0]
                out.setdefault(track, []).append(segment[pos:pos + n])
                pos += n
    return out


def test_init_segment_tracks_and_parameter_sets() -> None:
    info = parse_init(init_segment())
    assert [(t.track_id, t.handler, t.codec) for t in info.tracks] == [
        (1, "vide", "avc1"), (2, "soun", "mp4a")]
    assert info.video is not None and info.video.timescale == 12800
    assert info.video.parameter_sets == (struct.pack(">I", len(SPS)) + SPS
                                         + struct.pack(">I", len(PPS)) + PPS)
    assert info.has_audio


def test_an_init_segment_without_moov_is_refused() -> None:
    with pytest.raises(MediaFormatError, match="no moov"):
        parse_init(box(b"ftyp", bytes(8)))


@pytest.mark.parametrize("chunk", [1, 7, 100, 10_000])
def test_parameter_sets_go_in_band_and_offsets_follow(chunk: int) -> None:
    video, audio = [b"\x00\x00\x00\x03\x65\xAA\xBB", b"\x00\x00\x00\x02\x41\x01"], [b"aac!"]
    segment = fragment(video, audio)
    info = parse_init(init_segment())
    assert info.video is not None
    injector = ParameterSetInjector(info.video)
    out = b"".join(injector.feed(segment[i:i + chunk]) for i in range(0, len(segment), chunk))
    assert len(out) == len(segment) + injector.extra == len(segment) + injected_bytes(info)
    checker = BoxChecker()
    checker.feed(out)
    checker.finish()
    read = samples_of(out)
    assert read[1] == [info.video.parameter_sets + video[0], video[1]]
    assert read[2] == audio  # the audio data offset moved with the inserted bytes


def test_a_layout_it_cannot_rewrite_keeps_the_announced_length() -> None:
    info = parse_init(init_segment())
    assert info.video is not None
    segment = fragment([b"\x00\x00\x00\x01\x65"], [b"aac!"])
    # the video data does not start the mdat: not the layout the rewrite handles
    trun = segment.index(b"trun")
    patched = bytearray(segment)
    offset = struct.unpack_from(">i", patched, trun + 12)[0]
    struct.pack_into(">i", patched, trun + 12, offset + 1)
    injector = ParameterSetInjector(info.video)
    out = injector.feed(bytes(patched))
    moof_at = segment.index(b"moof") - 4
    assert len(out) == len(segment) + injector.extra
    assert out[moof_at + 4:moof_at + 8] == b"free"  # padding the reader skips
    assert out[moof_at + injector.extra:] == bytes(patched)[moof_at:]


def test_box_checker_catches_garbage_and_truncation() -> None:
    segment = fragment([b"\x00\x00\x00\x01\x65"], [b"a"])
    with pytest.raises(MediaFormatError, match="does not start with an MP4 fragment"):
        BoxChecker().feed(b"\x00\x00\x00\x10moov" + bytes(8))
    checker = BoxChecker()
    checker.feed(segment[:-1])
    with pytest.raises(MediaFormatError, match="cut short"):
        checker.finish()
    with pytest.raises(MediaFormatError, match="not a valid MP4 box"):
        BoxChecker().feed(segment[:16] + b"\x00\x00\x00\x02" + segment[20:])  # size 2


@pytest.mark.parametrize("start", [b"ID3\x04", b"\xff\xf1\x50\x40", b"\x0b\x77\x00\x00",
                                   b"\xff\xfb\x90\x00"])
def test_packed_audio_starts(start: bytes) -> None:
    check_packed_audio_start(start)


def test_packed_audio_that_is_not_audio_is_refused() -> None:
    with pytest.raises(MediaFormatError, match="not packed audio"):
        check_packed_audio_start(b"<htm")


def test_stream_decryptor_for_fmp4_checks_boxes_and_adds_parameter_sets() -> None:
    info = parse_init(init_segment())
    segment = fragment([b"\x00\x00\x00\x01\x65"], [b"a"])
    stream = StreamDecryptor(None, None, "fmp4", info)
    out = stream.feed(segment[:50]) + stream.feed(segment[50:]) + stream.finish()
    assert len(out) == plaintext_length(False, len(segment), "fmp4", stream.extra)
    assert stream.extra == injected_bytes(info) > 0
    bad = StreamDecryptor(None, None, "fmp4", info)
    with pytest.raises(CorruptSegment):
        bad.feed(b"\x47" * 188)
        bad.finish()


def test_encrypted_fmp4_decrypts_with_the_length_known_at_the_end() -> None:
    key, iv = bytes(range(16)), bytes(16)
    segment = fragment([b"\x00\x00\x00\x01\x65"], [b"a"])
    padder = padding.PKCS7(128).padder()
    encryptor = Cipher(algorithms.AES(key), modes.CBC(iv)).encryptor()
    cipher = encryptor.update(padder.update(segment) + padder.finalize()) + encryptor.finalize()
    assert plaintext_length(True, len(cipher), "fmp4") is None
    stream = StreamDecryptor(key, iv, "fmp4", None)
    assert stream.feed(cipher[:33]) + stream.feed(cipher[33:]) + stream.finish() == segment


def test_packed_audio_through_the_stream_decryptor() -> None:
    stream = StreamDecryptor(None, None, "packed")
    assert stream.feed(b"\xff") == b""  # the sync word is not checked yet
    assert stream.feed(b"\xf1rest") + stream.finish() == b"\xff\xf1rest"
    with pytest.raises(CorruptSegment, match="not packed audio"):
        StreamDecryptor(None, None, "packed").feed(b"\x47\x40\x00\x10")
