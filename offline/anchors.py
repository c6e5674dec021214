"""Trust anchors kept in the OS keyring, outside the journal they protect.

The journal (``downloads.sqlite3``) is an ordinary file the local user can rewrite, so nothing
that decides whether a download may play is trusted from it alone:

- **The license server's public key** comes from :data:`SHIPPED_LICENSE_KEYS` (a real backend's
  key ships with the client), or from the keyring entry ``edgeplay-license-keys`` (the bundled
  control plane's key is provisioned there when it starts; a server the client has no key for
  is trusted on first use over the network, into the keyring). Never from the journal.
- **A seal secret** (``edgeplay-offline-seal``, 32 random bytes per device): an HMAC-SHA256 under
  it covers every license-relevant column of a download row (:data:`SEALED_COLUMNS`). Any edit
  of those columns breaks the seal: the download refuses to play with :data:`RECORDS_CHANGED`.
- **The trusted-time mark, first plays and play counts** (``edgeplay-offline-state``): the
  record of truth, so an edited or restored journal cannot reset a viewing window or remove the
  clock-rollback check, and a renewal restores the real first play.

Anyone who can read this user's keyring can also read the device key and decrypt the media, so
the keyring is the limit of what a client can protect; the server's own record of the first
play (learnt at the next contact) bounds what even that reaches.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import math
import os
import threading
from collections.abc import Mapping
from typing import Any

import keyring.backend

from offline.errors import OfflineError
from player.errors import KeyringUnavailableError
from player.tokens import NO_KEYRING_MESSAGE, usable_backend

log = logging.getLogger("offline")

SEAL_SERVICE = "edgeplay-offline-seal"
STATE_SERVICE = "edgeplay-offline-state"
LICENSE_KEYS_SERVICE = "edgeplay-license-keys"

SHIPPED_LICENSE_KEYS: Mapping[str, str] = {}
"""Service (its base URL) → base64 raw Ed25519 key of its license server, shipped with the
client. Empty: the only backend so far is the bundled one, whose key is provisioned at start."""

SEALED_COLUMNS = ("id", "title_id", "account_id", "device_id", "profile_id", "service",
                  "license", "license_id", "expires_at", "first_played_at", "play_count")
"""The columns of a download row that the seal covers."""

RECORDS_CHANGED = "This download's records were changed; renew it online."


def records_changed() -> OfflineError:
    return OfflineError(RECORDS_CHANGED + " (Downloads → Renew, or `edgeplay downloads renew`.)",
                        code="records_changed")


class TrustAnchors:
    """The keyring entries of one device (a stable name: the data folder)."""

    def __init__(self, device: str, *,
                 backend: keyring.backend.KeyringBackend | None = None) -> None:
        self.device = device
        self._backend = usable_backend(backend)
        self._lock = threading.RLock()
        self._secret: bytes | None = None

    # --- the keyring -------------------------------------------------------------------------

    def _get(self, service: str, user: str) -> str | None:
        if self._backend is None:
            raise KeyringUnavailableError(NO_KEYRING_MESSAGE)
        try:
            return self._backend.get_password(service, user)
        except Exception:  # another process (the download worker) replaced it mid-read?
            pass
        try:
            return self._backend.get_password(service, user)
        except Exception as exc:
            raise KeyringUnavailableError(f"The password store could not be read ({exc}). "
                                          + NO_KEYRING_MESSAGE) from exc

    def _set(self, service: str, user: str, value: str) -> None:
        if self._backend is None:
            raise KeyringUnavailableError(NO_KEYRING_MESSAGE)
        try:
            self._backend.set_password(service, user, value)
        except Exception as exc:
            raise KeyringUnavailableError(f"The password store could not be written ({exc}). "
                                          + NO_KEYRING_MESSAGE) from exc

    def delete(self) -> None:
        """Forget every entry of this device (its downloads become unplayable)."""
        if self._backend is None:
            return
        for service, user in ((SEAL_SERVICE, self.device), (STATE_SERVICE, self.device)):
            try:
                if self._backend.get_password(service, user) is not None:
                    self._backend.delete_password(service, user)
            except Exception as exc:
                log.warning("keyring entry %s could not be deleted: %s", service, exc)
        self._secret = None

    # --- license server keys -----------------------------------------------------------------

    def _key_user(self, service: str) -> str:
        return f"{self.device} {service}"

    def license_key(self, service: str) -> bytes | None:
        """The trusted public key of ``service``'s license server (shipped, else the keyring)."""
        shipped = SHIPPED_LICENSE_KEYS.get(service)
        if shipped:
            return base64.b64decode(shipped)
        text = self._get(LICENSE_KEYS_SERVICE, self._key_user(service))
        return base64.b64decode(text) if text else None

    def trust_license_key(self, service: str, public_key_raw: bytes) -> None:
        """Keep ``public_key_raw`` for ``service`` when none is known; a different one later
        is refused, never a silent switch."""
        known = self.license_key(service)
        if known is None:
            self._set(LICENSE_KEYS_SERVICE, self._key_user(service),
                      base64.b64encode(public_key_raw).decode())
            log.info("license key of %s kept in the keyring", service)
        elif not hmac.compare_digest(known, public_key_raw):
            raise OfflineError("The license server's signing key is not the one this device "
                               "trusts, so its licenses are refused. If the service really "
                               "changed its key, delete your downloads and download again.",
                               code="license_invalid")

    # --- the seal ----------------------------------------------------------------------------

    def secret(self) -> bytes:
        with self._lock:
            if self._secret is None:
                text = self._get(SEAL_SERVICE, self.device)
                raw = base64.b64decode(text) if text else b""
                if len(raw) != 32:
                    raw = os.urandom(32)
                    self._set(SEAL_SERVICE, self.device, base64.b64encode(raw).decode())
                self._secret = raw
            return self._secret

    def seal(self, row: Mapping[str, Any]) -> str:
        """The HMAC of a download row's :data:`SEALED_COLUMNS`."""
        values = [row[c] for c in SEALED_COLUMNS]
        message = json.dumps(values, separators=(",", ":"), allow_nan=False).encode()
        return hmac.new(self.secret(), message, hashlib.sha256).hexdigest()

    def check_seal(self, row: Mapping[str, Any], seal: str | None) -> bool:
        try:
            return seal is not None and hmac.compare_digest(self.seal(row), seal)
        except (KeyError, ValueError, TypeError):
            return False

    # --- trusted time, first plays and play counts -------------------------------------------

    def _state(self) -> dict[str, Any]:
        text = self._get(STATE_SERVICE, self.device)
        try:
            state = json.loads(text) if text else {}
        except ValueError:
            state = {}
        if not isinstance(state, dict):
            state = {}
        mark = state.get("mark")
        state["mark"] = float(mark) if isinstance(mark, (int, float)) and math.isfinite(
            mark) else 0.0
        plays = state.get("plays")
        state["plays"] = plays if isinstance(plays, dict) else {}
        return state

    def _save(self, state: dict[str, Any]) -> None:
        self._set(STATE_SERVICE, self.device, json.dumps(state, sort_keys=True))

    def get_mark(self) -> float:
        with self._lock:
            return float(self._state()["mark"])

    def set_mark(self, value: float) -> None:
        with self._lock:
            state = self._state()
            state["mark"] = float(value)
            self._save(state)

    def plays(self, license_id: str) -> tuple[float | None, int]:
        """(first play, play count) of a license, as this device recorded them."""
        with self._lock:
            entry = self._state()["plays"].get(license_id)
        if not isinstance(entry, dict):
            return None, 0
        first, count = entry.get("first"), entry.get("count")
        return (float(first) if isinstance(first, (int, float)) else None,
                int(count) if isinstance(count, int) else 0)

    def record_play(self, license_id: str, now: float) -> tuple[float, int]:
        """One more play of ``license_id`` at ``now``: returns (first play, play count)."""
        with self._lock:
            state = self._state()
            entry = state["plays"].get(license_id)
            entry = entry if isinstance(entry, dict) else {}
            first = entry.get("first")
            first = float(first) if isinstance(first, (int, float)) else now
            count = int(entry.get("count") or 0) + 1
            state["plays"][license_id] = {"first": first, "count": count}
            self._save(state)
            return first, count

    def forget_plays(self, license_id: str) -> None:
        with self._lock:
            state = self._state()
            if state["plays"].pop(license_id, None) is not None:
                self._save(state)
