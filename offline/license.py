"""Offline licenses: verified against the pinned Ed25519 key, and their policy enforced.

A license (docs/protocol.md, *Offline licenses*) is ``{"license": base64(payload),
"signature": base64(Ed25519 over those bytes), "key_id"}``. :func:`verify` checks the signature
over the exact decoded bytes (never a re-encoding) with the public key the client pinned, then
reads the payload. :func:`check_playable` enforces the policy at a trusted time: the absolute
expiry, and the playback window that starts at the first play.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from offline.errors import OfflineError

LICENSE_FORMAT = 1


def _invalid(why: str) -> OfflineError:
    return OfflineError(f"The license for this download is not valid ({why}); delete the "
                        "download and download the title again.", code="license_invalid")


@dataclass(frozen=True)
class OfflineLicense:
    license_id: str
    title_id: str
    account_id: str
    device_id: str
    profile_id: str
    issued_at: float
    expires_at: float
    playback_window_s: float
    first_played_at: float | None
    server_time: float
    wrapped_key: Mapping[str, str]
    signed: Mapping[str, Any]
    """What the control plane sent (``license``, ``signature``, ``key_id``): kept as is."""
    key_ids: tuple[bytes, ...] = ()
    """CENC titles: the KIDs (16 bytes each) whose key is the wrapped content key."""

    def to_json(self) -> str:
        return json.dumps({k: self.signed[k] for k in ("license", "signature", "key_id")
                           if k in self.signed}, sort_keys=True)

    def first_play(self, local: float | None) -> float | None:
        """The earlier of this device's first play and the server's (signed) one."""
        known = [t for t in (local, self.first_played_at) if t is not None]
        return min(known) if known else None

    def playable_until(self, first_played_at: float | None) -> float:
        """When playback stops being allowed, given this device's first play."""
        first = self.first_play(first_played_at)
        if first is None:
            return self.expires_at
        return min(self.expires_at, first + self.playback_window_s)


def verify(signed: Mapping[str, Any], public_key_raw: bytes) -> OfflineLicense:
    """The license in ``signed``, if its signature holds under ``public_key_raw``."""
    try:
        payload_raw = base64.b64decode(str(signed["license"]), validate=True)
        signature = base64.b64decode(str(signed["signature"]), validate=True)
    except (KeyError, binascii.Error) as exc:
        raise _invalid(f"malformed: {exc}") from None
    try:
        Ed25519PublicKey.from_public_bytes(public_key_raw).verify(signature, payload_raw)
    except (InvalidSignature, ValueError):
        raise _invalid("its signature does not match the license server's key") from None
    try:
        p = json.loads(payload_raw)
        if p.get("format") != LICENSE_FORMAT:
            raise ValueError(f"format {p.get('format')!r}")
        first = p.get("first_played_at")
        return OfflineLicense(
            license_id=str(p["license_id"]), title_id=str(p["title_id"]),
            account_id=str(p["account_id"]), device_id=str(p["device_id"]),
            profile_id=str(p["profile_id"]), issued_at=float(p["issued_at"]),
            expires_at=float(p["expires_at"]), playback_window_s=float(p["playback_window_s"]),
            first_played_at=None if first is None else float(first),
            server_time=float(p["server_time"]), wrapped_key=dict(p["wrapped_key"]),
            signed={k: signed[k] for k in ("license", "signature", "key_id") if k in signed},
            key_ids=_kids(p.get("key_ids") or []))
    except (ValueError, TypeError, KeyError) as exc:
        raise _invalid(f"unreadable payload: {exc}") from None


def _kids(raw: Any) -> tuple[bytes, ...]:
    kids = tuple(bytes.fromhex(str(k)) for k in raw)
    if any(len(k) != 16 for k in kids):
        raise ValueError("a key ID is not 16 bytes")
    return kids


def from_json(text: str, public_key_raw: bytes) -> OfflineLicense:
    try:
        signed = json.loads(text)
    except ValueError:
        raise _invalid("not JSON") from None
    if not isinstance(signed, dict):
        raise _invalid("not an object")
    return verify(signed, public_key_raw)


def span(seconds: float) -> str:
    """A duration for people: "29 days", "5 h 12 min", "12 min", "40 s"."""
    seconds = max(0, int(seconds))
    if seconds >= 2 * 86400:
        return f"{seconds // 86400} days"
    if seconds >= 3600:
        return f"{seconds // 3600} h {seconds % 3600 // 60} min"
    if seconds >= 60:
        return f"{seconds // 60} min"
    return f"{seconds} s"


def check_playable(lic: OfflineLicense, now: float, first_played_at: float | None) -> None:
    """Raise :class:`OfflineError` (``license_expired`` / ``window_expired``) unless the
    license allows playback at the trusted time ``now``."""
    if now >= lic.expires_at:
        raise OfflineError(f"This download's license expired {span(now - lic.expires_at)} "
                           "ago. Go online and renew it (Downloads → Renew, or `edgeplay "
                           "downloads renew`).", code="license_expired")
    first = lic.first_play(first_played_at)
    if first is not None and now >= first + lic.playback_window_s:
        raise OfflineError(f"The viewing window for this download closed "
                           f"{span(now - first - lic.playback_window_s)} ago "
                           f"({span(lic.playback_window_s)} after the first play). Go online "
                           "and renew it, or download the title again.",
                           code="window_expired")


def remaining_s(lic: OfflineLicense, now: float, first_played_at: float | None) -> float:
    return lic.playable_until(first_played_at) - now
