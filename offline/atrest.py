"""Sealing at rest the parts of a download that the edges serve in the clear.

HLS AES-128 segments are stored exactly as the edge served them (their key is inside the
license, wrapped to the device key). Everything else a download holds in the clear — fMP4 init
segments (EXT-X-MAP), media segments of a title without EXT-X-KEY — is sealed here before it
reaches the disk: AES-256-CTR under a key derived (HKDF-SHA256) from the title's content key
and the download id, so it is as device-bound as the license: without this device's key the
content key cannot be unwrapped and the parts cannot be read. CTR keeps byte offsets, so a part
file resumed after ``kill -9`` goes on where it stopped; integrity is the journal's SHA-256 of
the stored bytes (:mod:`offline.store`).
"""

from __future__ import annotations

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

INFO = b"edgeplay offline at-rest v1"
BLOCK = 16


class AtRest:
    """``apply(data, offset, part)``: seal (or open: CTR is its own inverse) ``data`` found at
    byte ``offset`` of part ``part``."""

    def __init__(self, content_key: bytes, download_id: str) -> None:
        self._key = HKDF(algorithm=hashes.SHA256(), length=32, salt=download_id.encode(),
                         info=INFO).derive(content_key)

    def apply(self, data: bytes, offset: int, part: int) -> bytes:
        if not data:
            return b""
        block, skip = divmod(offset, BLOCK)
        counter = ((part << 64) + block) % (1 << 128)
        cipher = Cipher(algorithms.AES(self._key), modes.CTR(counter.to_bytes(BLOCK, "big")))
        out = cipher.encryptor().update(bytes(skip) + data)
        return out[skip:]
