"""Segment encryption as HLS ``METHOD=AES-128`` wants it (RFC 8216 section 5.2).

AES-128-CBC over the whole segment with PKCS#7 padding; with no IV attribute in the playlist
the IV is the segment's media sequence number as a 16-byte big-endian integer.
"""

from __future__ import annotations

import os

from cryptography.hazmat.primitives import padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

KEY_BYTES = 16


def new_key() -> bytes:
    """A fresh random 128-bit content key."""
    return os.urandom(KEY_BYTES)


def iv_for_sequence(media_sequence: int) -> bytes:
    return media_sequence.to_bytes(16, "big")


def encrypt_segment(plaintext: bytes, key: bytes, media_sequence: int) -> bytes:
    padder = padding.PKCS7(128).padder()
    padded = padder.update(plaintext) + padder.finalize()
    encryptor = Cipher(algorithms.AES(key), modes.CBC(iv_for_sequence(media_sequence))).encryptor()
    return encryptor.update(padded) + encryptor.finalize()


def decrypt_segment(ciphertext: bytes, key: bytes, media_sequence: int) -> bytes:
    """Inverse of :func:`encrypt_segment` (used by checks and tests)."""
    decryptor = Cipher(algorithms.AES(key), modes.CBC(iv_for_sequence(media_sequence))).decryptor()
    padded = decryptor.update(ciphertext) + decryptor.finalize()
    unpadder = padding.PKCS7(128).unpadder()
    return unpadder.update(padded) + unpadder.finalize()
