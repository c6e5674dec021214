"""HLS AES-128 segment decryption and MPEG-TS validation.

A segment encrypted with ``METHOD=AES-128`` is the whole file in AES-128-CBC with PKCS#7 padding;
the IV is the key's IV attribute or, without one, the segment's media sequence number
(:meth:`player.manifest.Key.iv_for`). Whatever the edge sent, the plaintext must be MPEG-TS: a
whole number of 188-byte packets, each starting with the sync byte 0x47 (every packet is checked;
``data[::188]`` makes that one C-level slice). A bad padding or a bad sync is
:class:`CorruptSegment`, which the fetcher treats as the edge's fault and fails over; it never
reaches the bridge.

Keys are fetched once per key URI (:class:`KeyCache`); concurrent fetches of one URI share a
single request.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from cryptography.hazmat.primitives import padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from player.errors import LicenseError, PlayerError
from player.manifest import Segment

TS_PACKET_BYTES = 188
TS_SYNC_BYTE = 0x47
AES_BLOCK_BYTES = 16


class CorruptSegment(PlayerError):
    """The bytes an edge sent are not a valid segment (bad padding, not MPEG-TS)."""

    default_code = "corrupt_segment"


def validate_ts(data: bytes) -> None:
    """Raise :class:`CorruptSegment` unless ``data`` is whole 188-byte TS packets, all in sync."""
    if not data:
        raise CorruptSegment("The segment is empty.")
    if len(data) % TS_PACKET_BYTES:
        raise CorruptSegment(f"The segment is {len(data)} bytes long, not a whole number of "
                             f"{TS_PACKET_BYTES}-byte TS packets.")
    syncs = data[::TS_PACKET_BYTES]
    if syncs.count(TS_SYNC_BYTE) != len(syncs):
        bad = next(i for i, b in enumerate(syncs) if b != TS_SYNC_BYTE)
        raise CorruptSegment(f"TS packet {bad} (byte {bad * TS_PACKET_BYTES}) has no sync byte.")


def decrypt_aes128(data: bytes, key: bytes, iv: bytes) -> bytes:
    """AES-128-CBC + PKCS#7; :class:`CorruptSegment` if the length or the padding is wrong."""
    if len(key) != AES_BLOCK_BYTES or len(iv) != AES_BLOCK_BYTES:
        raise ValueError("key and IV must be 16 bytes")
    if not data or len(data) % AES_BLOCK_BYTES:
        raise CorruptSegment(f"The encrypted segment is {len(data)} bytes long, not a whole "
                             f"number of {AES_BLOCK_BYTES}-byte AES blocks.")
    decryptor = Cipher(algorithms.AES(key), modes.CBC(iv)).decryptor()
    padded = decryptor.update(data) + decryptor.finalize()
    unpadder = padding.PKCS7(AES_BLOCK_BYTES * 8).unpadder()
    try:
        return unpadder.update(padded) + unpadder.finalize()
    except ValueError:
        raise CorruptSegment("The segment does not decrypt (bad PKCS#7 padding).") from None


FetchKey = Callable[[str], Awaitable[bytes]]
"""Fetch the 16-byte key behind a key URI (``ControlPlaneClient.streaming_key``)."""


class KeyCache:
    """Keys by key URI, fetched once; a failed fetch is not cached (the next call retries)."""

    def __init__(self, fetch_key: FetchKey) -> None:
        self._fetch = fetch_key
        self._keys: dict[str, bytes] = {}
        self._pending: dict[str, asyncio.Future[bytes]] = {}

    def cached(self, uri: str) -> bytes | None:
        return self._keys.get(uri)

    async def get(self, uri: str) -> bytes:
        if uri in self._keys:
            return self._keys[uri]
        pending = self._pending.get(uri)
        if pending is not None:
            return await asyncio.shield(pending)
        future: asyncio.Future[bytes] = asyncio.get_running_loop().create_future()
        self._pending[uri] = future
        try:
            key = await self._fetch(uri)
            if len(key) != AES_BLOCK_BYTES:
                raise LicenseError(f"The decryption key is {len(key)} bytes long, not 16.")
        except asyncio.CancelledError:
            future.cancel()
            raise
        except BaseException as exc:
            future.set_exception(exc)
            future.exception()  # retrieved: no "never retrieved" warning without waiters
            raise
        finally:
            del self._pending[uri]
        self._keys[uri] = key
        future.set_result(key)
        return key


class Decryptor:
    """Turns the bytes fetched for a segment into validated plaintext TS."""

    def __init__(self, keys: KeyCache) -> None:
        self.keys = keys

    async def plaintext(self, segment: Segment, data: bytes) -> bytes:
        """Decrypt (when the segment has a key) and validate; :class:`CorruptSegment` if bad,
        :class:`LicenseError` if the key cannot be had."""
        if segment.key is not None:
            key = await self.keys.get(segment.key.uri)
            data = decrypt_aes128(data, key, segment.key.iv_for(segment.sequence))
        validate_ts(data)
        return data
