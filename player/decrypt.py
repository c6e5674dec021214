"""HLS AES-128 segment decryption and MPEG-TS validation.

A segment encrypted with ``METHOD=AES-128`` is the whole file in AES-128-CBC with PKCS#7 padding;
the IV is the key's IV attribute or, without one, the segment's media sequence number
(:meth:`player.presentation.Key.iv_for`). Whatever the edge sent, the plaintext must be MPEG-TS: a
whole number of 188-byte packets, each starting with the sync byte 0x47 (every packet is checked;
``data[::188]`` makes that one C-level slice). A bad padding or a bad sync is
:class:`CorruptSegment`, which the fetcher treats as the edge's fault and fails over.
:class:`StreamDecryptor` does the same incrementally, as the bytes arrive: a packet is handed
on only once its sync byte is checked, the last block only once the padding is.

Fragmented MP4 and packed audio have their own checks (:mod:`player.fmp4`): box structure,
or an ID3/ADTS/MPEG/AC-3 start; a fragmented segment also gets its rendition's parameter sets
in-band (:class:`~player.fmp4.ParameterSetInjector`), so its plaintext is ``extra`` bytes longer
than its cleartext.

Keys are fetched once per key URI (:class:`KeyCache`); concurrent fetches of one URI share a
single request.

CENC (``cenc``/``cbcs``) fragments — an init whose tracks are protected, with or without a
``SAMPLE-AES(-CTR)`` EXT-X-KEY — are decrypted sample by sample, a fragment at a time
(:class:`~player.cenc.CencStream`), with a key per KID (:class:`~player.keysource.CencKeys`).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from cryptography.hazmat.primitives import padding
from cryptography.hazmat.primitives.ciphers import Cipher, CipherContext, algorithms, modes

from player.cenc import CencStream
from player.errors import LicenseError, PlayerError
from player.fmp4 import (
    BoxChecker,
    InitInfo,
    MediaFormatError,
    ParameterSetInjector,
    check_packed_audio_start,
)
from player.keysource import CLEARKEY_KEYFORMAT, CencKeys
from player.presentation import Segment

log = logging.getLogger("player.decrypt")

VERIFY_WAIT_S = 3.0
"""How long a video-only CENC fragment waits for an audio track to verify its KID's key
before it goes on with the video checks alone, seconds (docs/engine.md, *CENC*)."""
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


def plaintext_length(encrypted: bool, length: int, container: str = "ts",
                     extra: int = 0) -> int | None:
    """The plaintext length of a valid segment whose fetched bytes are ``length`` long.

    Clear segments: ``length`` itself. AES-128 segments: PKCS#7 adds 1–16 bytes, and valid
    plaintext is whole 188-byte TS packets; at most one multiple of 188 lies in the 16 values
    ``length - 16 .. length - 1``, so the plaintext length is known from the ciphertext's
    ``Content-Length`` before a byte is decrypted (the padding is checked against it at the
    end). :class:`CorruptSegment` when no valid length exists. Other containers: ``length``
    plus the ``extra`` bytes put in-band when clear, None (known at the end) when encrypted."""
    if container != "ts":
        if length <= 0:
            raise CorruptSegment("The segment is empty.")
        return None if encrypted else length + extra
    if encrypted:
        if length <= 0 or length % AES_BLOCK_BYTES:
            raise CorruptSegment(f"The encrypted segment is {length} bytes long, not a whole "
                                 f"number of {AES_BLOCK_BYTES}-byte AES blocks.")
        plain = (length - 1) // TS_PACKET_BYTES * TS_PACKET_BYTES
        if plain <= 0 or length - plain > AES_BLOCK_BYTES:
            raise CorruptSegment(f"No whole number of TS packets encrypts to {length} bytes.")
        return plain
    if length <= 0 or length % TS_PACKET_BYTES:
        raise CorruptSegment(f"The segment is {length} bytes long, not a whole number of "
                             f"{TS_PACKET_BYTES}-byte TS packets.")
    return length


class StreamDecryptor:
    """Incremental :func:`decrypt_aes128` + :func:`validate_ts`: bytes in as they arrive,
    validated plaintext out, whole TS packets at a time.

    :meth:`feed` takes the next fetched bytes (any split) and returns the plaintext packets
    completed by them, every sync byte checked; :meth:`finish` checks the padding and returns
    the rest. CBC decrypts block by block (the state is the previous ciphertext block, which
    the cipher object keeps with any partial block), so a segment resumed on another edge with
    ``Range: bytes=N-`` just goes on feeding. The last 16 bytes of plaintext are held back
    until :meth:`finish` (they may be the padding), as is a partial packet.
    :class:`CorruptSegment` as soon as a packet is out of sync; the output of every call
    before it is valid. Without a key (clear segments) only the TS check applies."""

    def __init__(self, key: bytes | None, iv: bytes | None, container: str = "ts",
                 init: InitInfo | None = None, cenc: CencStream | None = None) -> None:
        self._cipher: CipherContext | None = None
        self._cenc = cenc
        """CENC fragments: decrypted a whole fragment at a time before the checks."""
        self.container = container
        self._boxes = BoxChecker() if container == "fmp4" else None
        video = init.video if init is not None else None
        self._inject = (ParameterSetInjector(video) if self._boxes is not None
                        and video is not None else None)
        self.extra = self._inject.extra if self._inject is not None else 0
        """Bytes the plaintext has beyond the cleartext (parameter sets put in-band)."""
        if key is not None:
            if iv is None or len(key) != AES_BLOCK_BYTES or len(iv) != AES_BLOCK_BYTES:
                raise ValueError("key and IV must be 16 bytes")
            self._cipher = Cipher(algorithms.AES(key), modes.CBC(iv)).decryptor()
        self._pending = bytearray()
        """Plaintext not handed out yet (a partial packet, the held-back block)."""
        self.bytes_in = 0
        """Fetched bytes fed so far."""
        self.bytes_out = 0
        """Plaintext handed out so far."""

    def feed(self, data: bytes) -> bytes:
        self.bytes_in += len(data)
        if self._cenc is not None:
            data = self._cenc_step(self._cenc.feed, data)
        self._pending += self._cipher.update(data) if self._cipher is not None else data
        hold = AES_BLOCK_BYTES if self._cipher is not None else 0
        if self.container != "ts":
            return self._pass(len(self._pending) - hold)
        ready = (len(self._pending) - hold) // TS_PACKET_BYTES * TS_PACKET_BYTES
        return self._take(ready) if ready > 0 else b""

    def _pass(self, size: int, last: bool = False) -> bytes:
        """fMP4 / packed audio: check, rewrite, hand out ``size`` bytes of plaintext."""
        if self.container == "packed" and not self.bytes_out:
            if len(self._pending) < 4 and not last:
                return b""
            try:
                check_packed_audio_start(bytes(self._pending[:4]))
            except MediaFormatError as exc:
                raise CorruptSegment(exc.message) from None
        if size <= 0 and not last:
            return b""
        size = max(size, 0)
        out = bytes(self._pending[:size])
        del self._pending[:size]
        self.bytes_out += size
        try:
            if self._boxes is not None:
                self._boxes.feed(out)
            if self._inject is not None:
                out = self._inject.feed(out)
                if last:
                    out += self._inject.finish()
        except MediaFormatError as exc:
            raise CorruptSegment(exc.message) from None
        return out

    @staticmethod
    def _cenc_step(step: Callable[[bytes], bytes], data: bytes) -> bytes:
        try:
            return step(data)
        except MediaFormatError as exc:
            raise CorruptSegment(exc.message) from None

    def finish(self) -> bytes:
        """The rest of the plaintext; :class:`CorruptSegment` for a bad length or padding."""
        if self._cenc is not None:
            cenc = self._cenc
            self._pending += self._cenc_step(lambda _: cenc.finish(), b"")
        if self._cipher is not None:
            if not self.bytes_in or self.bytes_in % AES_BLOCK_BYTES:
                raise CorruptSegment(f"The encrypted segment is {self.bytes_in} bytes long, not "
                                     f"a whole number of {AES_BLOCK_BYTES}-byte AES blocks.")
            self._pending += self._cipher.finalize()
            self._cipher = None
            pad = self._pending[-1] if self._pending else 0
            if not 1 <= pad <= AES_BLOCK_BYTES or len(self._pending) < pad or any(
                    b != pad for b in self._pending[-pad:]):
                raise CorruptSegment("The segment does not decrypt (bad PKCS#7 padding).")
            del self._pending[-pad:]
        if not self.bytes_out and not self._pending:
            raise CorruptSegment("The segment is empty.")
        if self.container != "ts":
            out = self._pass(len(self._pending), last=True)
            if self._boxes is not None:
                try:
                    self._boxes.finish()
                except MediaFormatError as exc:
                    raise CorruptSegment(exc.message) from None
            return out
        if len(self._pending) % TS_PACKET_BYTES:
            total = self.bytes_out + len(self._pending)
            raise CorruptSegment(f"The segment is {total} bytes long, not a whole number of "
                                 f"{TS_PACKET_BYTES}-byte TS packets.")
        return self._take(len(self._pending))

    def _take(self, size: int) -> bytes:
        out = bytes(self._pending[:size])
        syncs = out[::TS_PACKET_BYTES]
        if syncs.count(TS_SYNC_BYTE) != len(syncs):
            bad = next(i for i, b in enumerate(syncs) if b != TS_SYNC_BYTE)
            at = self.bytes_out + bad * TS_PACKET_BYTES
            raise CorruptSegment(f"TS packet {at // TS_PACKET_BYTES} (byte {at}) has no sync "
                                 "byte.")
        del self._pending[:size]
        self.bytes_out += size
        return out


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
    """Turns the bytes fetched for a segment into validated plaintext."""

    def __init__(self, keys: KeyCache, cenc: CencKeys | None = None,
                 verify_wait_s: float = VERIFY_WAIT_S,
                 verifier: Callable[[], asyncio.Future[None] | None] | None = None,
                 licence_url: str | None = None) -> None:
        self.keys = keys
        self.licence_url = licence_url
        """The manifest's ClearKey licence URL (a DASH MPD's ``laurl``), asked for the keys
        of CENC segments whose playlist names no key URI; None: none."""
        self.cenc = cenc or CencKeys()
        """The CENC keys per KID (given keys, ClearKey licences)."""
        self.verify_wait_s = verify_wait_s
        self.verifier = verifier
        """Called when a video-only CENC fragment's key is not verified yet: starts what can
        verify it (the audio rendition's first fragment) and returns a future done when that
        is in; None (or no verifier): nothing will, the video goes on with its own checks."""

    async def plaintext(self, segment: Segment, data: bytes) -> bytes:
        """Decrypt (when the segment has a key) and validate; :class:`CorruptSegment` if bad,
        :class:`LicenseError` if the key cannot be had."""
        if segment.key is not None:
            if segment.key.cenc:
                raise LicenseError(f"{segment.key.method} in MPEG-TS segments is not supported "
                                   "(only CENC in fragmented MP4).")
            key = await self.keys.get(segment.key.uri)
            data = decrypt_aes128(data, key, segment.key.iv_for(segment.sequence))
        validate_ts(data)
        return data

    def _cenc_checks(self, segment: Segment, init: InitInfo | None) -> bool:
        """Whether ``segment`` is CENC-protected (:class:`LicenseError` where it cannot be)."""
        if segment.key is not None and segment.key.cenc and segment.container != "fmp4":
            raise LicenseError(f"{segment.key.method} in {segment.container} segments is not "
                               "supported (only CENC in fragmented MP4).")
        protected = init is not None and init.protection is not None
        if segment.key is not None and segment.key.cenc and not protected:
            raise LicenseError("The playlist says SAMPLE-AES but the init segment has no "
                               "protected track (no tenc).")
        return protected

    def _cenc_stream(self, segment: Segment, init: InitInfo,
                     keys: dict[bytes, bytes]) -> StreamDecryptor:
        assert init.protection is not None
        return StreamDecryptor(None, None, segment.container, init,
                               CencStream(init.protection, keys, self.cenc.confirm))

    @staticmethod
    def _wrong(kids: tuple[bytes, ...]) -> LicenseError:
        return LicenseError(f"The key for KID {kids[0].hex()} is wrong: the audio with the same "
                            "KID did not decrypt to valid samples.")

    async def stream(self, segment: Segment, init: InitInfo | None = None) -> StreamDecryptor:
        """An incremental decryptor for ``segment`` (waits for its key, if any); ``init``:
        its parsed init segment (fragmented MP4)."""
        if self._cenc_checks(segment, init):
            assert init is not None and init.protection is not None
            sig = segment.key
            licence = sig.uri if sig is not None and sig.uri and \
                sig.keyformat == CLEARKEY_KEYFORMAT else self.licence_url
            raw = sig.uri if sig is not None and sig.uri.startswith(("http:", "https:")) and \
                sig.keyformat == "identity" else None
            kids = init.protection.kids
            keys = await self.cenc.get(kids, licence,
                                       (lambda: self.keys.get(raw)) if raw else None)
            if not init.protection.strongly_checked and all(k in keys for k in kids):
                # video alone cannot prove its key: wait (a while) for an audio track's verdict
                state = self.cenc.verified(kids)
                until = self.verifier() if state is None and self.verifier is not None \
                    else None
                if state is None and until is None:
                    self.cenc.give_up(kids)  # nothing will verify them: not waited for again
                elif until is not None:
                    state = await self.cenc.wait_verified(kids, self.verify_wait_s, until)
                    if state is None:
                        log.info("CENC: no audio verified the key for KID %s; its video is "
                                 "checked alone", kids[0].hex())
                if state is False:
                    raise self._wrong(kids)
            return self._cenc_stream(segment, init, keys)
        if segment.key is None:
            return StreamDecryptor(None, None, segment.container, init)
        key = await self.keys.get(segment.key.uri)
        return StreamDecryptor(key, segment.key.iv_for(segment.sequence), segment.container, init)

    def stream_now(self, segment: Segment,
                   init: InitInfo | None = None) -> StreamDecryptor | None:
        """:meth:`stream` when the key is already cached (else None): no wait."""
        if self._cenc_checks(segment, init):
            assert init is not None and init.protection is not None
            kids = init.protection.kids
            keys = self.cenc.cached(kids)
            if keys is None:
                return None
            if not init.protection.strongly_checked:
                state = self.cenc.verified(kids)
                if state is False:
                    raise self._wrong(kids)
                if state is None and self.verifier is not None:  # stream() waits for it
                    return None
            return self._cenc_stream(segment, init, keys)
        if segment.key is None:
            return StreamDecryptor(None, None, segment.container, init)
        key = self.keys.cached(segment.key.uri)
        if key is None:
            return None
        return StreamDecryptor(key, segment.key.iv_for(segment.sequence), segment.container, init)
