"""The device's X25519 key: offline licenses carry the content key wrapped to it.

The private key lives only in the OS keyring (service ``edgeplay-device-key``, one entry per
device: the app's data folder), never in a file. Without a usable keyring there are no offline
downloads (:class:`player.errors.KeyringUnavailableError`). A download copied to a folder or
machine with another key cannot unwrap its content key: :meth:`DeviceKey.unwrap` says so.
"""

from __future__ import annotations

import base64
import logging
from collections.abc import Mapping
from dataclasses import dataclass

import keyring
import keyring.backend
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from offline.errors import OfflineError
from player.errors import KeyringUnavailableError
from player.tokens import NO_KEYRING_MESSAGE, usable_backend

log = logging.getLogger("offline")

SERVICE = "edgeplay-device-key"
WRAP_ALGORITHM = "X25519-HKDF-SHA256-AES256GCM"
WRAP_INFO = b"edgeplay offline content key v1"

WRONG_DEVICE = ("This download was made for another device, so it cannot be played here. "
                "Delete it and download the title again on this device.")


def _raw(key: X25519PrivateKey) -> bytes:
    return key.private_bytes(serialization.Encoding.Raw, serialization.PrivateFormat.Raw,
                             serialization.NoEncryption())


@dataclass(frozen=True)
class DeviceKey:
    private: X25519PrivateKey

    @property
    def public_raw(self) -> bytes:
        return self.private.public_key().public_bytes(serialization.Encoding.Raw,
                                                      serialization.PublicFormat.Raw)

    @classmethod
    def generate(cls) -> DeviceKey:
        return cls(X25519PrivateKey.generate())

    def unwrap(self, wrapped: Mapping[str, str], license_id: str) -> bytes:
        """The content key inside a license's ``wrapped_key`` (docs/protocol.md)."""
        try:
            if wrapped.get("alg") != WRAP_ALGORITHM:
                raise ValueError(f"unknown wrapping {wrapped.get('alg')!r}")
            ephemeral = X25519PublicKey.from_public_bytes(
                base64.b64decode(wrapped["ephemeral_public_key"]))
            shared = self.private.exchange(ephemeral)
            kek = HKDF(hashes.SHA256(), 32, salt=license_id.encode(),
                       info=WRAP_INFO).derive(shared)
            key = AESGCM(kek).decrypt(base64.b64decode(wrapped["nonce"]),
                                      base64.b64decode(wrapped["ciphertext"]),
                                      license_id.encode())
        except InvalidTag:
            raise OfflineError(WRONG_DEVICE, code="wrong_device") from None
        except (KeyError, ValueError, TypeError) as exc:
            raise OfflineError(f"The download's license is damaged ({exc}); download the "
                               "title again.", code="license_invalid") from None
        if len(key) != 16:
            raise OfflineError("The download's license holds no usable key; download the "
                               "title again.", code="license_invalid")
        return key


class DeviceKeyStore:
    """``DeviceKeyStore(device)``: the key of ``device`` (a stable name: the data folder)."""

    def __init__(self, device: str, *,
                 backend: keyring.backend.KeyringBackend | None = None) -> None:
        self.device = device
        self._backend = usable_backend(backend)

    @property
    def available(self) -> bool:
        return self._backend is not None

    def _require(self) -> keyring.backend.KeyringBackend:
        if self._backend is None:
            raise KeyringUnavailableError(NO_KEYRING_MESSAGE)
        return self._backend

    def load(self) -> DeviceKey | None:
        """The stored key, or None when this device has none yet."""
        backend = self._require()
        try:
            text = backend.get_password(SERVICE, self.device)
        except Exception as exc:
            raise KeyringUnavailableError(f"The password store could not be read ({exc}). "
                                          + NO_KEYRING_MESSAGE) from exc
        if not text:
            return None
        try:
            return DeviceKey(X25519PrivateKey.from_private_bytes(base64.b64decode(text)))
        except ValueError:
            log.warning("the device key in the keyring is not usable; making a new one")
            return None

    def load_or_create(self) -> DeviceKey:
        key = self.load()
        if key is None:
            key = DeviceKey.generate()
            try:
                self._require().set_password(SERVICE, self.device,
                                             base64.b64encode(_raw(key.private)).decode())
            except Exception as exc:
                raise KeyringUnavailableError(f"The password store could not be written "
                                              f"({exc}). " + NO_KEYRING_MESSAGE) from exc
            log.info("made a new device key for offline downloads")
        return key

    def delete(self) -> None:
        backend = self._require()
        try:
            if backend.get_password(SERVICE, self.device) is not None:
                backend.delete_password(SERVICE, self.device)
        except Exception as exc:
            log.warning("the device key could not be deleted: %s", exc)
