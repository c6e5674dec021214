"""Device id and tokens in the OS keyring, with an in-memory fallback when there is none.

One keyring entry per control plane: service ``"edgeplay"``, user name the control plane's base URL,
the value a JSON object. Nothing goes to files or logs (log lines name the base URL only).

Without a usable backend (``NoKeyringError``, the fail or null backend, or any error on use)
the store keeps the session in memory: streaming works, ``persistent`` is False and ``message``
tells the user what to enable to stay signed in.
"""

from __future__ import annotations

import json
import logging
from dataclasses import asdict, dataclass
from typing import Any, Protocol

import keyring
import keyring.backend
import keyring.backends.fail
import keyring.backends.null

from player.errors import KeyringUnavailableError

log = logging.getLogger("net")

SERVICE = "edgeplay"
NO_KEYRING_MESSAGE = (
    "No password store is available, so you will have to sign in again next time: "
    "install and unlock gnome-keyring (Secret Service), KWallet, or your system's keychain "
    "to stay signed in. Offline downloads need it too."
)


@dataclass(frozen=True)
class Credentials:
    """What one device keeps for one control plane."""

    device_id: str
    access_token: str
    refresh_token: str
    account_id: str = ""
    access_expires_at: float | None = None
    """Unix seconds (the control plane's clock) when the access token expires; None unknown."""

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> Credentials | None:
        """The credentials in ``text``, or None when it is not a usable entry."""
        try:
            raw: Any = json.loads(text)
            return cls(
                device_id=str(raw["device_id"]), access_token=str(raw["access_token"]),
                refresh_token=str(raw["refresh_token"]), account_id=str(raw.get("account_id", "")),
                access_expires_at=(None if raw.get("access_expires_at") is None
                                   else float(raw["access_expires_at"])),
            )
        except (ValueError, TypeError, KeyError):
            return None


def _unusable(backend: keyring.backend.KeyringBackend) -> bool:
    return isinstance(backend, keyring.backends.fail.Keyring | keyring.backends.null.Keyring)


def usable_backend(backend: keyring.backend.KeyringBackend | None = None
                   ) -> keyring.backend.KeyringBackend | None:
    """``backend`` (default: ``keyring.get_keyring()``) when it can keep secrets, else None."""
    try:
        chosen = backend if backend is not None else keyring.get_keyring()
    except Exception as exc:  # a broken backend module must not stop the app
        log.warning("keyring unavailable: %s", exc)
        return None
    if _unusable(chosen):
        log.warning("keyring backend %s is not usable", type(chosen).__module__)
        return None
    return chosen


class TokenStore:
    """``TokenStore(base_url)``; ``backend=`` overrides ``keyring.get_keyring()`` (tests)."""

    def __init__(self, base_url: str, *,
                 backend: keyring.backend.KeyringBackend | None = None) -> None:
        self.key = base_url.rstrip("/")
        self._memory: Credentials | None = None
        self._backend: keyring.backend.KeyringBackend | None
        try:
            self._backend = backend if backend is not None else keyring.get_keyring()
        except Exception as exc:  # a broken backend module must not stop streaming
            self._backend = None
            log.warning("keyring unavailable (%s): keeping the session in memory", exc)
        if self._backend is not None and _unusable(self._backend):
            log.warning("keyring backend %s is not usable: keeping the session in memory",
                        type(self._backend).__module__)
            self._backend = None

    @property
    def persistent(self) -> bool:
        """True while tokens reach the OS keyring (and so survive a restart)."""
        return self._backend is not None

    @property
    def message(self) -> str | None:
        """What the user should enable, or None when the keyring works."""
        return None if self.persistent else NO_KEYRING_MESSAGE

    def require_persistent(self) -> None:
        """Raise :class:`KeyringUnavailableError` unless the keyring works (offline downloads)."""
        if not self.persistent:
            raise KeyringUnavailableError(NO_KEYRING_MESSAGE)

    def _fall_back(self, action: str, exc: Exception) -> None:
        log.warning("keyring %s failed for %s (%s: %s): keeping the session in memory",
                    action, self.key, type(exc).__name__, exc)
        self._backend = None

    def load(self) -> Credentials | None:
        if self._backend is not None:
            try:
                text = self._backend.get_password(SERVICE, self.key)
            except Exception as exc:
                self._fall_back("read", exc)
            else:
                stored = Credentials.from_json(text) if text else None
                if stored is not None:
                    self._memory = stored
                return stored
        return self._memory

    def save(self, creds: Credentials) -> None:
        self._memory = creds
        if self._backend is not None:
            try:
                self._backend.set_password(SERVICE, self.key, creds.to_json())
            except Exception as exc:
                self._fall_back("write", exc)

    def clear(self) -> None:
        """Forget the session (sign out); a missing entry is fine."""
        self._memory = None
        if self._backend is not None:
            try:
                if self._backend.get_password(SERVICE, self.key) is not None:
                    self._backend.delete_password(SERVICE, self.key)
            except Exception as exc:
                self._fall_back("delete", exc)


class CredentialStore(Protocol):
    """What :class:`player.api.ControlPlaneClient` needs to keep a session."""

    def load(self) -> Credentials | None: ...

    def save(self, creds: Credentials) -> None: ...

    def clear(self) -> None: ...


class MemoryStore:
    """A session that lives as long as the process (tests; a deliberate "don't remember me")."""

    persistent = False

    def __init__(self, creds: Credentials | None = None) -> None:
        self._creds = creds

    def load(self) -> Credentials | None:
        return self._creds

    def save(self, creds: Credentials) -> None:
        self._creds = creds

    def clear(self) -> None:
        self._creds = None
