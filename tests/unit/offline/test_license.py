"""Offline license rules without a server: signatures, policy, trusted time, the device key."""

from __future__ import annotations

import base64
import json
import os

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from offline.devicekey import WRAP_ALGORITHM, WRAP_INFO, DeviceKey
from offline.downloader import choose_rung
from offline.errors import OfflineError
from offline.license import check_playable, verify
from offline.trustedtime import TrustedTime

SIGNER = Ed25519PrivateKey.generate()
PUBLIC = SIGNER.public_key().public_bytes(serialization.Encoding.Raw,
                                          serialization.PublicFormat.Raw)


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def wrap(key: bytes, device_public: bytes, license_id: str) -> dict[str, str]:
    """What the control plane does (docs/protocol.md), written out independently."""
    ephemeral = X25519PrivateKey.generate()
    shared = ephemeral.exchange(X25519PublicKey.from_public_bytes(device_public))
    kek = HKDF(hashes.SHA256(), 32, salt=license_id.encode(), info=WRAP_INFO).derive(shared)
    nonce = os.urandom(12)
    return {"alg": WRAP_ALGORITHM, "nonce": b64(nonce),
            "ephemeral_public_key": b64(ephemeral.public_key().public_bytes(
                serialization.Encoding.Raw, serialization.PublicFormat.Raw)),
            "ciphertext": b64(AESGCM(kek).encrypt(nonce, key, license_id.encode()))}


def signed(device: DeviceKey, **overrides: object) -> dict[str, str]:
    payload = {"format": 1, "license_id": "lic_1", "title_id": "t", "account_id": "a",
               "device_id": "d", "profile_id": "p", "issued_at": 1000.0,
               "expires_at": 2000.0, "playback_window_s": 100, "first_played_at": None,
               "server_time": 1000.5,
               "wrapped_key": wrap(b"k" * 16, device.public_raw, "lic_1"), **overrides}
    raw = json.dumps(payload, sort_keys=True, separators=(",", ":")).encode()
    return {"license": b64(raw), "signature": b64(SIGNER.sign(raw)), "key_id": "k1"}


def test_a_good_license_verifies_and_unwraps_only_on_its_device() -> None:
    device = DeviceKey.generate()
    lic = verify(signed(device), PUBLIC)
    assert (lic.license_id, lic.expires_at, lic.playback_window_s) == ("lic_1", 2000.0, 100.0)
    assert device.unwrap(lic.wrapped_key, lic.license_id) == b"k" * 16
    with pytest.raises(OfflineError) as other:
        DeviceKey.generate().unwrap(lic.wrapped_key, lic.license_id)
    assert other.value.code == "wrong_device"


@pytest.mark.parametrize("tamper", ["payload", "signature", "other_key", "garbage"])
def test_a_tampered_license_is_refused(tamper: str) -> None:
    good = signed(DeviceKey.generate())
    key = PUBLIC
    if tamper == "payload":
        raw = base64.b64decode(good["license"]).replace(b'"expires_at":2000.0',
                                                        b'"expires_at":9000.0')
        good["license"] = b64(raw)
    elif tamper == "signature":
        good["signature"] = b64(bytes(64))
    elif tamper == "other_key":
        key = Ed25519PrivateKey.generate().public_key().public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    else:
        good["license"] = "not base64!"
    with pytest.raises(OfflineError) as caught:
        verify(good, key)
    assert caught.value.code == "license_invalid"


def test_expiry_and_the_window_from_first_play() -> None:
    lic = verify(signed(DeviceKey.generate()), PUBLIC)
    check_playable(lic, 1999.0, None)  # never played: the absolute expiry only
    with pytest.raises(OfflineError) as expired:
        check_playable(lic, 2000.0, None)
    assert expired.value.code == "license_expired"
    check_playable(lic, 1599.0, 1500.0)
    with pytest.raises(OfflineError) as window:
        check_playable(lic, 1600.0, 1500.0)
    assert window.value.code == "window_expired"
    assert lic.playable_until(1500.0) == 1600.0 and lic.playable_until(None) == 2000.0
    played_elsewhere = verify(signed(DeviceKey.generate(), first_played_at=1900.0), PUBLIC)
    check_playable(played_elsewhere, 1999.0, None)  # the window runs past the expiry


class Mark:
    def __init__(self) -> None:
        self.value = 0.0

    def get_mark(self) -> float:
        return self.value

    def set_mark(self, value: float) -> None:
        self.value = value


def test_trusted_time_only_moves_forward() -> None:
    mark = Mark()
    wall = [1000.0]
    clock = TrustedTime(mark, wall=lambda: wall[0], tolerance_s=60)
    assert clock.now() == 1000.0 and mark.value == 1000.0
    wall[0] = 950.0  # within the tolerance (a small NTP step)
    assert clock.now() == 950.0 and mark.value == 1000.0
    wall[0] = 900.0
    with pytest.raises(OfflineError) as caught:
        clock.now()
    assert caught.value.code == "clock_rollback"
    clock.observe_server(910.0)  # the service says the mark was ahead: trust it
    assert clock.now() == 900.0


def test_the_rung_that_fits_the_budget_or_the_one_asked_for() -> None:
    ladder = [400_000, 1_000_000, 3_000_000, 6_000_000]
    heights = [240, 360, 720, 1080]
    hour = 3600.0
    assert choose_rung(ladder, hour, 2 * 10**9, None, heights) == 2  # 1.35 GB fits, 2.7 not
    assert choose_rung(ladder, hour, 10**6, None, heights) == 0  # nothing fits: the lowest
    assert choose_rung(ladder, hour, 10**12, "720p", heights) == 2
    assert choose_rung(ladder, hour, 10**12, "800p", heights) == 2
    assert choose_rung(ladder, hour, 10**12, "1", heights) == 1
    assert choose_rung(ladder, hour, 0, "best", heights) == 3
    with pytest.raises(ValueError):
        choose_rung(ladder, hour, 0, "9", heights)
    with pytest.raises(ValueError):
        choose_rung(ladder, hour, 0, "100p", heights)
