"""Segment encryption: AES-128-CBC, PKCS#7, IV = media sequence number (RFC 8216 5.2)."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives import padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from controlplane.pipeline.encrypt import (
    decrypt_segment,
    encrypt_segment,
    iv_for_sequence,
    new_key,
)
from controlplane.pipeline.tsinfo import TS_PACKET_BYTES, is_ts


def fake_ts(packets: int) -> bytes:
    return b"".join(
        bytes([0x47, 0x01, 0x00, 0x10 | (i & 0xF)]) + bytes([i % 256]) * (TS_PACKET_BYTES - 4)
        for i in range(packets)
    )


def decrypt_with_cryptography(data: bytes, key: bytes, sequence: int) -> bytes:
    """Independent of the pipeline: what any HLS client does."""
    iv = sequence.to_bytes(16, "big")
    decryptor = Cipher(algorithms.AES(key), modes.CBC(iv)).decryptor()
    padded = decryptor.update(data) + decryptor.finalize()
    unpadder = padding.PKCS7(128).unpadder()
    return unpadder.update(padded) + unpadder.finalize()


def test_iv_is_the_sequence_number_big_endian() -> None:
    assert iv_for_sequence(0) == bytes(16)
    assert iv_for_sequence(1) == bytes(15) + b"\x01"
    assert iv_for_sequence(258) == bytes(14) + b"\x01\x02"


@pytest.mark.parametrize("sequence", [0, 1, 7, 1234])
def test_decrypts_to_ts_with_sync_bytes(sequence: int) -> None:
    key = new_key()
    plain = fake_ts(40)
    sealed = encrypt_segment(plain, key, sequence)
    assert sealed != plain
    assert len(sealed) % 16 == 0 and len(sealed) > len(plain)
    recovered = decrypt_with_cryptography(sealed, key, sequence)
    assert recovered == plain
    assert all(recovered[i] == 0x47 for i in range(0, len(recovered), TS_PACKET_BYTES))
    assert is_ts(recovered)


def test_padding_is_a_full_block_when_aligned() -> None:
    key = new_key()
    plain = bytes(188 * 4)  # 752 = 47 blocks exactly
    assert len(encrypt_segment(plain, key, 0)) == len(plain) + 16


def test_wrong_sequence_does_not_give_back_the_segment() -> None:
    key = new_key()
    plain = fake_ts(10)
    sealed = encrypt_segment(plain, key, 3)
    assert decrypt_segment(sealed, key, 3) == plain
    wrong = decrypt_segment(sealed, key, 4)  # CBC: a wrong IV garbles only the first block
    assert wrong[:16] != plain[:16]
    assert wrong[16:] == plain[16:]


def test_each_key_is_fresh() -> None:
    keys = {new_key() for _ in range(50)}
    assert len(keys) == 50
    assert all(len(k) == 16 for k in keys)
