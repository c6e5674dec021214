"""Every typed exception the playback engine raises, in one place.

Each error carries ``message`` (one sentence a person can act on; the UI shows it as is),
a stable ``code`` (the UI and tests branch on it, never on the text) and, where a server answered,
``server_code`` / ``status`` and ``request`` (``"POST /v1/playback"``) saying what failed.
``str(error)`` adds the request for logs.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar


class PlayerError(Exception):
    """Base of every engine error."""

    default_code: ClassVar[str] = "player_error"

    def __init__(self, message: str, *, code: str | None = None, server_code: str | None = None,
                 status: int | None = None, request: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.code = code or type(self).default_code
        self.server_code = server_code
        self.status = status
        self.request = request

    def __str__(self) -> str:
        if self.request is None:
            return self.message
        answer = "" if self.status is None else f" → {self.status}"
        if self.server_code:
            answer += f" {self.server_code}"
        return f"{self.message} ({self.request}{answer})"


class AuthError(PlayerError):
    """Bad credentials, or the session ended (refresh failed): the user must sign in again."""

    default_code = "auth"


class EntitlementError(PlayerError):
    """The server refused playback or a download for this account, device or profile.

    ``code`` is the server's reason, one of :data:`ENTITLEMENT_CODES`.
    """

    default_code = "entitlement"


ENTITLEMENT_CODES = frozenset({"region_blocked", "plan_required", "maturity", "download_limit"})


class NotFoundError(PlayerError):
    """A title, profile, device, license or progress record does not exist (or is not ours)."""

    default_code = "not_found"


class ConflictError(PlayerError):
    """The server refused a change that conflicts with its state (409: ``account_exists``,
    ``profile_limit``, ``last_profile``, ``license_released``); ``server_code`` says which."""

    default_code = "conflict"


class RequestError(PlayerError):
    """The server rejected a request as malformed or unsupported (other 4xx): a client bug."""

    default_code = "bad_request"


class ServerError(PlayerError):
    """The server failed (500, or an answer that is not what the protocol promises)."""

    default_code = "server_error"


class NetworkError(PlayerError):
    """The control plane stayed unreachable (or answered 502/503/504) after every retry."""

    default_code = "network"

    def __init__(self, message: str, *, url: str, server_code: str | None = None,
                 status: int | None = None, request: str | None = None) -> None:
        super().__init__(message, server_code=server_code, status=status, request=request)
        self.url = url


class ManifestError(PlayerError):
    """A multivariant or media playlist, or a steering manifest, is malformed or unsupported."""

    default_code = "manifest"


class LicenseError(PlayerError):
    """The streaming key could not be obtained or is not a 16-byte AES-128 key."""

    default_code = "license"


class NoEdgeError(PlayerError):
    """Every edge failed; ``failures`` maps each edge to its last error."""

    default_code = "no_edge"

    def __init__(self, failures: Mapping[str, str], message: str | None = None) -> None:
        self.failures = dict(failures)
        listed = "; ".join(f"{name}: {cause}" for name, cause in self.failures.items())
        super().__init__(message or f"No streaming server is reachable ({listed or 'no edges'}).")


class KeyringUnavailableError(PlayerError):
    """Something needs the OS keyring (staying signed in, offline downloads) and there is none."""

    default_code = "keyring_unavailable"
