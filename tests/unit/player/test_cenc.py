"""CENC decryption (player.cenc) against real packagers' output: Shaka Packager cenc/cbcs and
ffmpeg's cenc-aes-ctr, compared byte for byte with ffmpeg's own ``-decryption_key``."""

from __future__ import annotations

import asyncio
import struct
import subprocess
from pathlib import Path

import pytest

from player.cenc import (
    CencStream,
    Protection,
    TrackProtection,
    clear_init,
    decrypt_fragment,
    read_init,
)
from player.cenccheck import SampleCheck
from player.decrypt import CorruptSegment, Decryptor, KeyCache, StreamDecryptor
from player.errors import LicenseError
from player.fmp4 import InitInfo, MediaFormatError, Track, iter_boxes
from player.keysource import CencKeys
from player.presentation import InitSection, Key, Segment
from tests.helpers.cenc_media import (
    FFMPEG,
    KEY,
    KID,
    WRONG_KEY,
    ffmpeg_samples,
    make_all,
)

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def media(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_all(tmp_path_factory.mktemp("cenc"))


def _segments(folder: Path, prefix: str) -> list[bytes]:
    paths = sorted(folder.glob(f"{prefix}*.m4s"),
                   key=lambda p: int(p.stem.rsplit("_", 1)[1]))
    assert paths
    return [p.read_bytes() for p in paths]


def _decrypt_stream(init: bytes, segments: list[bytes], key: bytes = KEY,
                    chunk: int = 65536) -> bytes:
    clear, protection = clear_init(init)
    assert protection is not None
    out = [clear]
    for segment in segments:
        stream = CencStream(protection, {KID: key})
        parts = [stream.feed(segment[i:i + chunk]) for i in range(0, len(segment), chunk)]
        plain = b"".join(parts) + stream.finish()
        assert len(plain) == len(segment)  # same length: data offsets and lengths still hold
        out.append(plain)
    return b"".join(out)


CASES = [("cenc", "v360_", "v360_init.mp4"), ("cenc", "a_", "a_init.mp4"),
         ("cbcs", "v360_", "v360_init.mp4"), ("cbcs", "a_", "a_init.mp4"),
         ("ff", "s_", "init.mp4")]


@pytest.mark.parametrize(("folder", "prefix", "init"), CASES,
                         ids=["shaka-cenc-video", "shaka-cenc-audio", "shaka-cbcs-video",
                              "shaka-cbcs-audio", "ffmpeg-cenc-muxed"])
def test_engine_plaintext_matches_ffmpeg_decryption_byte_for_byte(
        media: Path, tmp_path: Path, folder: str, prefix: str, init: str) -> None:
    root = media / folder
    segments = _segments(root, prefix)
    # ffmpeg's muxer lets the audio senc grow over a segment's fragments and its demuxer then
    # reads the first entries: only the first fragment of its own muxed audio decrypts right
    # there (see test_ffmpeg_muxed_audio_decodes_cleanly); its video is compared in full.
    for stream, count in ((0, len(segments)), (1, 1)) if folder == "ff" else ((0, len(segments)),):
        encrypted = (root / init).read_bytes() + b"".join(segments[:count])
        (tmp_path / "enc.mp4").write_bytes(encrypted)
        clear = _decrypt_stream((root / init).read_bytes(), segments[:count], chunk=4093)
        (tmp_path / "clear.mp4").write_bytes(clear)
        reference = ffmpeg_samples(tmp_path / "enc.mp4", KEY, stream)
        ours = ffmpeg_samples(tmp_path / "clear.mp4", None, stream)
        assert len(reference) > 10_000
        assert ours == reference
        # and the ciphertext really differs: the comparison proves decryption
        assert ffmpeg_samples(tmp_path / "enc.mp4", WRONG_KEY, stream) != reference


def test_ffmpeg_muxed_audio_decodes_cleanly(media: Path, tmp_path: Path) -> None:
    root = media / "ff"
    clear = _decrypt_stream((root / "init.mp4").read_bytes(), _segments(root, "s_"))
    (tmp_path / "clear.mp4").write_bytes(clear)
    done = subprocess.run([FFMPEG, "-hide_banner", "-loglevel", "error", "-i",
                           str(tmp_path / "clear.mp4"), "-map", "0:1", "-f", "null", "-"],
                          capture_output=True, text=True, timeout=60, check=True)
    assert done.stderr == ""


def test_the_init_is_clear_signalled_at_the_same_length(media: Path) -> None:
    for scheme, iv_size in (("cenc", 8), ("cbcs", 0)):
        raw = (media / scheme / "v360_init.mp4").read_bytes()
        clear, protection = clear_init(raw)
        assert len(clear) == len(raw) and b"encv" in raw and b"encv" not in clear
        assert b"sinf" not in clear and b"pssh" not in clear and b"avc1" in clear
        assert protection is not None and protection.kids == (KID,)
        track = protection.tracks[0]
        assert (track.scheme, track.original_format, track.iv_size) == (scheme, "avc1", iv_size)
        assert track.nal_length_size == 4
        if scheme == "cbcs":
            assert len(track.constant_iv) == 16
            assert (track.crypt_blocks, track.skip_blocks) == (1, 9)
        _, info = read_init(raw)
        assert info.video is not None and info.video.codec == "avc1"
        assert info.video.parameter_sets  # avcC read through the rewritten entry
        assert info.protection == protection
    audio = clear_init((media / "cbcs" / "a_init.mp4").read_bytes())[1]
    assert audio is not None and audio.tracks[0].original_format == "mp4a"


def test_a_clear_init_is_left_alone(media: Path, tmp_path: Path) -> None:
    raw = (media / "src360.mp4").read_bytes()
    assert clear_init(raw) == (raw, None)


@pytest.mark.parametrize("folder", ["cenc", "cbcs", "ff"])
def test_a_wrong_key_is_a_licence_error_before_the_decoder(media: Path, folder: str) -> None:
    prefix, init = ("s_", "init.mp4") if folder == "ff" else ("a_", "a_init.mp4")
    with pytest.raises(LicenseError, match=f"key for KID {KID.hex()} is wrong.*(avc1|aac)"):
        _decrypt_stream((media / folder / init).read_bytes(),
                        _segments(media / folder, prefix)[:1], key=WRONG_KEY)


@pytest.mark.parametrize(("nal", "problem"), [
    (b"\x65\x88\x00\x00\x03\x01\x7f", None),  # emulation prevention kept: valid
    (b"\x65\x88\x00\x00\x01\x7f", "emulation prevention"),
    (b"\x65\x88\x00\x00\x03\x04\x7f", "emulation prevention"),
    (b"\x65\x88\x7f\x00", "ends in a zero byte"),
])
def test_the_h264_check_knows_a_nal_unit_from_random_bytes(nal: bytes,
                                                           problem: str | None) -> None:
    check = SampleCheck("avc1", 4)
    buf = bytearray(len(nal).to_bytes(4, "big") + nal)
    check.feed(buf, 0, len(buf))
    if problem is None:
        check.verdict(KID)
    else:
        with pytest.raises(LicenseError, match=problem):
            check.verdict(KID)


def test_the_h264_check_wants_nal_lengths_that_tile_the_sample() -> None:
    check = SampleCheck("avc1", 4)
    buf = bytearray(b"\x00\x00\x00\x09\x65\x88\x01")
    check.feed(buf, 0, len(buf))
    with pytest.raises(LicenseError, match="NAL length of 9 does not fit"):
        check.verdict(KID)


def test_a_missing_key_names_the_kid(media: Path) -> None:
    _, protection = clear_init((media / "cbcs" / "a_init.mp4").read_bytes())
    assert protection is not None
    segment = _segments(media / "cbcs", "a_")[0]
    with pytest.raises(LicenseError, match=f"No key for KID {KID.hex()}.*--key"):
        decrypt_fragment(segment, protection, {})


def _senc_count_at(segment: bytes) -> int:
    for kind, _, payload, end in iter_boxes(segment):
        if kind == b"moof":
            for k, _, p, e in iter_boxes(segment, payload, end):
                if k == b"traf":
                    for k2, _, p2, _ in iter_boxes(segment, p, e):
                        if k2 == b"senc":
                            return p2 + 4
    raise AssertionError("no senc")


def test_a_senc_that_does_not_match_the_trun_is_a_format_error(media: Path) -> None:
    _, protection = clear_init((media / "cenc" / "a_init.mp4").read_bytes())
    assert protection is not None
    segment = bytearray(_segments(media / "cenc", "a_")[0])
    at = _senc_count_at(segment)
    struct.pack_into(">I", segment, at, 3)
    with pytest.raises(MediaFormatError, match="senc box describes 3 samples"):
        CencStream(protection, {KID: KEY}).feed(bytes(segment))


def test_the_stream_decryptor_turns_bad_boxes_into_a_corrupt_segment(media: Path) -> None:
    raw_init = (media / "cenc" / "a_init.mp4").read_bytes()
    _, info = read_init(raw_init)
    keys = CencKeys({KID: KEY})

    async def fail() -> bytes:
        raise AssertionError("no AES-128 key is fetched for CENC")

    decryptor = Decryptor(KeyCache(lambda uri: fail()), keys)
    segment = Segment("http://x/a_1.m4s", 2.0, 1, 0.0,
                      Key("SAMPLE-AES-CTR", "", None), init=InitSection("http://x/a_init.mp4"))
    stream = decryptor.stream_now(segment, info)
    assert stream is not None
    data = _segments(media / "cenc", "a_")[0]
    assert stream.feed(data) + stream.finish() == _decrypt_stream(raw_init, [data])[
        len(raw_init):]
    broken = bytearray(data)
    struct.pack_into(">I", broken, _senc_count_at(broken), 3)
    stream = asyncio.run(decryptor.stream(segment, info))
    with pytest.raises(CorruptSegment, match="senc"):
        stream.feed(bytes(broken))


def test_sample_aes_without_a_protected_init_is_refused(media: Path) -> None:
    _, clear_info = read_init((media / "src360.mp4").read_bytes())
    decryptor = Decryptor(KeyCache(lambda uri: asyncio.sleep(0, b"")), CencKeys())
    segment = Segment("http://x/1.m4s", 2.0, 1, 0.0, Key("SAMPLE-AES", "", None),
                      init=InitSection("http://x/init.mp4"))
    with pytest.raises(LicenseError, match="no protected track"):
        decryptor.stream_now(segment, clear_info)
    ts = Segment("http://x/1.ts", 2.0, 1, 0.0, Key("SAMPLE-AES", "", None))
    with pytest.raises(LicenseError, match="only CENC in fragmented MP4"):
        decryptor.stream_now(ts, None)


def _video_only() -> InitInfo:
    track = TrackProtection(1, "cenc", "avc1", KID, 8, nal_length_size=4)
    return InitInfo((Track(1, "vide", 90000, "avc1"),), Protection((track,)))


def test_a_video_only_fragment_waits_for_its_kid_to_be_verified() -> None:
    segment = Segment("http://x/v_1.m4s", 2.0, 1, 0.0, None,
                      init=InitSection("http://x/v_init.mp4"))
    init = _video_only()

    def cache() -> KeyCache:
        return KeyCache(lambda uri: asyncio.sleep(0, b""))

    async def main() -> None:
        loop = asyncio.get_running_loop()
        audio: list[asyncio.Future[None]] = []

        def verifier() -> asyncio.Future[None]:
            audio.append(loop.create_future())
            return audio[-1]

        keys = CencKeys({KID: KEY})
        decryptor = Decryptor(cache(), keys, verify_wait_s=30, verifier=verifier)
        assert decryptor.stream_now(segment, init) is None  # not verified: stream() waits
        waiting = asyncio.ensure_future(decryptor.stream(segment, init))
        await asyncio.sleep(0)
        assert not waiting.done() and len(audio) == 1  # the audio fetch was started
        keys.confirm(KID, True)
        assert isinstance(await waiting, StreamDecryptor)
        assert decryptor.stream_now(segment, init) is not None

        wrong = CencKeys({KID: WRONG_KEY})
        decryptor = Decryptor(cache(), wrong, verify_wait_s=30, verifier=verifier)
        waiting = asyncio.ensure_future(decryptor.stream(segment, init))
        await asyncio.sleep(0)
        wrong.confirm(KID, False)
        with pytest.raises(LicenseError, match="audio with the same KID"):
            await waiting
        with pytest.raises(LicenseError, match="audio with the same KID"):
            decryptor.stream_now(segment, init)

        # the audio came in but has another KID: no verdict, the video goes on, once
        other = CencKeys({KID: KEY})
        decryptor = Decryptor(cache(), other, verify_wait_s=30, verifier=verifier)
        waiting = asyncio.ensure_future(decryptor.stream(segment, init))
        await asyncio.sleep(0)
        audio[-1].set_result(None)
        assert isinstance(await waiting, StreamDecryptor)
        assert decryptor.stream_now(segment, init) is not None

        # no separate audio: nothing to wait for
        alone = Decryptor(cache(), CencKeys({KID: KEY}), verifier=lambda: None)
        assert alone.stream_now(segment, init) is None
        assert isinstance(await alone.stream(segment, init), StreamDecryptor)
        assert alone.stream_now(segment, init) is not None

    asyncio.run(main())


def test_the_aac_check_applies_to_aac_only(media: Path) -> None:
    for folder, init in (("cbcs", "a_init.mp4"), ("ff", "init.mp4")):
        _, protection = clear_init((media / folder / init).read_bytes())
        assert protection is not None
        audio = [t for t in protection.tracks if t.original_format == "mp4a"]
        assert audio and all(t.aac and t.check_codec == "aac" for t in audio)
    frames = bytearray(b"\xff\xfb\x90\x00" * 16)  # MP3 frame headers: no AAC element first
    for codec, wrong in (("aac", True), ("mp4a", False)):
        check = SampleCheck(codec, 0)
        for at in range(0, len(frames), 4):
            check.feed(frames, at, 4)
        if wrong:
            with pytest.raises(LicenseError, match="16 of 16 AAC frames"):
                check.verdict(KID)
        else:
            check.verdict(KID)  # MP3 in mp4a: not checked
    assert not SampleCheck("mp4a", 0).strong


def test_a_clear_lead_passes_through_and_the_rest_is_decrypted(media: Path,
                                                               tmp_path: Path) -> None:
    root = media / "cbcs-lead"
    raw_init = (root / "v360_init.mp4").read_bytes()
    _, protection = clear_init(raw_init)
    assert protection is not None and protection.tracks[0].protected_entries == {1}
    segments = _segments(root, "v360_")
    clear = CencStream(protection, {KID: KEY})
    assert clear.feed(segments[0]) == segments[0]  # a clear-lead fragment: unchanged
    (tmp_path / "enc.mp4").write_bytes(raw_init + b"".join(segments))
    (tmp_path / "clear.mp4").write_bytes(_decrypt_stream(raw_init, segments))
    assert ffmpeg_samples(tmp_path / "clear.mp4", None) == \
        ffmpeg_samples(media / "src360.mp4", None)
