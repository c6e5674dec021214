"""Long-lived secrets of the control plane, kept in its state directory.

- the HMAC secret the edges use to verify signed URLs;
- the Ed25519 key that signs offline licenses (clients pin its public half).

Both persist across restarts so URLs and licenses issued before a restart stay valid.
"""

from __future__ import annotations

import base64
import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

WRAP_ALGORITHM = "X25519-HKDF-SHA256-AES256GCM"
WRAP_INFO = b"edgeplay offline content key v1"


def _secret_file(path: Path, make: bytes) -> bytes:
    if path.is_file() and path.stat().st_size > 0:
        return path.read_bytes()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(make)
    tmp.replace(path)
    return make


@dataclass(frozen=True)
class ServerKeys:
    url_secret: bytes
    license_key: Ed25519PrivateKey

    @property
    def public_key_raw(self) -> bytes:
        return self.license_key.public_key().public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw
        )

    @property
    def key_id(self) -> str:
        return hashlib.sha256(self.public_key_raw).hexdigest()[:16]

    def sign(self, payload: bytes) -> bytes:
        return self.license_key.sign(payload)


def load_server_keys(state_dir: Path) -> ServerKeys:
    url_secret = _secret_file(state_dir / "url_secret.bin", os.urandom(32))
    seed = _secret_file(state_dir / "license_ed25519.key", os.urandom(32))
    return ServerKeys(url_secret, Ed25519PrivateKey.from_private_bytes(seed[:32]))


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def wrap_content_key(
    content_key: bytes, device_public_raw: bytes, license_id: str
) -> dict[str, str]:
    """Encrypt the content key so that only the holder of the device's X25519 key can use it."""
    ephemeral = X25519PrivateKey.generate()
    shared = ephemeral.exchange(X25519PublicKey.from_public_bytes(device_public_raw))
    kek = HKDF(hashes.SHA256(), 32, salt=license_id.encode(), info=WRAP_INFO).derive(shared)
    nonce = os.urandom(12)
    ciphertext = AESGCM(kek).encrypt(nonce, content_key, license_id.encode())
    eph_raw = ephemeral.public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw
    )
    return {
        "alg": WRAP_ALGORITHM,
        "ephemeral_public_key": b64(eph_raw),
        "nonce": b64(nonce),
        "ciphertext": b64(ciphertext),
    }
