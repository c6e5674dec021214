"""AES-128 decryption, MPEG-TS validation and the key cache."""

from __future__ import annotations

import asyncio

import pytest

from player.decrypt import CorruptSegment, Decryptor, KeyCache, decrypt_aes128, validate_ts
from player.errors import LicenseError
from player.presentation import Key, Segment
from tests.helpers.fake_catalog import encrypt_segment, fake_segment

KEY = bytes(range(16))
PLAIN = fake_segment("t", "360p", 7, 188 * 50)


def test_round_trip_with_the_sequence_number_as_iv() -> None:
    data = encrypt_segment(PLAIN, KEY, 7)
    assert decrypt_aes128(data, KEY, Key("AES-128", "k", None).iv_for(7)) == PLAIN


def test_a_wrong_iv_or_key_is_corrupt_not_a_crash() -> None:
    data = encrypt_segment(PLAIN, KEY, 7)
    with pytest.raises(CorruptSegment):
        # a wrong IV garbles only the first block: here it reaches the first sync byte
        validate_ts(decrypt_aes128(data, KEY, (7 | 1 << 127).to_bytes(16, "big")))
    with pytest.raises(CorruptSegment, match=r"padding|sync"):
        validate_ts(decrypt_aes128(data, bytes(16), (7).to_bytes(16, "big")))


def test_bad_lengths_are_corrupt() -> None:
    with pytest.raises(CorruptSegment, match="AES blocks"):
        decrypt_aes128(b"x" * 33, KEY, bytes(16))
    with pytest.raises(CorruptSegment, match="whole number"):
        validate_ts(PLAIN[:-1])
    with pytest.raises(CorruptSegment, match="empty"):
        validate_ts(b"")


def test_every_packet_is_checked_for_the_sync_byte() -> None:
    validate_ts(PLAIN)
    broken = bytearray(PLAIN)
    broken[188 * 49] = 0x00  # the last packet
    with pytest.raises(CorruptSegment, match="TS packet 49"):
        validate_ts(bytes(broken))


def test_keys_are_fetched_once_per_uri_even_concurrently() -> None:
    calls: list[str] = []

    async def fetch(uri: str) -> bytes:
        calls.append(uri)
        await asyncio.sleep(0.01)
        return KEY

    async def main() -> None:
        cache = KeyCache(fetch)
        keys = await asyncio.gather(*(cache.get("k1") for _ in range(5)), cache.get("k2"))
        assert keys == [KEY] * 6
        assert await cache.get("k1") == KEY
    asyncio.run(main())
    assert calls == ["k1", "k2"]


def test_a_bad_key_is_a_license_error_and_not_cached() -> None:
    answers = [b"short", KEY]

    async def fetch(uri: str) -> bytes:
        return answers.pop(0)

    async def main() -> None:
        cache = KeyCache(fetch)
        with pytest.raises(LicenseError):
            await cache.get("k")
        assert await cache.get("k") == KEY
    asyncio.run(main())


def test_decryptor_handles_clear_and_encrypted_segments() -> None:
    async def fetch(uri: str) -> bytes:
        return KEY

    async def main() -> None:
        dec = Decryptor(KeyCache(fetch))
        clear = Segment("u", 4.0, 7, 28.0, None)
        assert await dec.plaintext(clear, PLAIN) == PLAIN
        enc = Segment("u", 4.0, 7, 28.0, Key("AES-128", "k", None))
        assert await dec.plaintext(enc, encrypt_segment(PLAIN, KEY, 7)) == PLAIN
        with pytest.raises(CorruptSegment):
            await dec.plaintext(clear, b"\x00" * 188)
    asyncio.run(main())
