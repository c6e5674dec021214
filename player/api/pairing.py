"""Device-code sign-in for a TV (docs/protocol.md, "Device-code sign-in").

``start_pairing`` asks for a code to show; ``wait_for_pairing`` polls at the server's interval
(slower when told ``slow_down``) until the code is confirmed elsewhere, then keeps the tokens in
the client's credential store like any sign-in. Refusals become :class:`AuthError` with a
sentence the TV can show. ``confirm_pairing`` is the other side: a signed-in app confirms a
code it was given.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from player.api.client import ControlPlaneClient
from player.api.models import JSON, Tokens
from player.errors import AuthError, PlayerError, RequestError

log = logging.getLogger("net")

SLOW_DOWN_STEP_S = 5.0
"""Seconds added to the polling interval on ``slow_down`` (RFC 8628 section 3.5)."""
MIN_INTERVAL_S = 1.0
"""Never poll more often than this, whatever the server says (s)."""

_SENTENCES = {
    "expired_token": "The code expired before it was confirmed. Get a new code.",
    "access_denied": "The sign-in was refused on the other device.",
    "invalid_grant": "This code was already used or is unknown. Get a new code.",
}
_CONFIRM_SENTENCES = {
    "unknown_code": "No TV is waiting for that code. Check the code on the TV.",
    "expired_token": "That code has expired. The TV shows a new one when asked.",
    "code_used": "That code was already used. The TV shows a new one when asked.",
}


@dataclass(frozen=True)
class Pairing:
    """What the TV shows while it waits."""

    device_code: str
    user_code: str
    """As shown: ``BCDF-GHJK``."""
    verification_uri: str
    verification_uri_complete: str
    expires_in_s: float
    interval_s: float


async def start_pairing(cp: ControlPlaneClient, name: str, *, platform: str = "tv",
                        public_key_b64: str | None = None) -> Pairing:
    body: JSON = {"name": name, "platform": platform}
    if public_key_b64 is not None:
        body["public_key"] = public_key_b64
    raw = await cp._json("POST", "/v1/auth/device/code", json=body, auth=False,
                         idempotent=False)
    try:
        return Pairing(str(raw["device_code"]), str(raw["user_code"]),
                       str(raw["verification_uri"]),
                       str(raw.get("verification_uri_complete") or raw["verification_uri"]),
                       float(raw["expires_in"]), float(raw["interval"]))
    except (KeyError, TypeError, ValueError) as exc:
        raise RequestError("The server's pairing answer is incomplete.",
                           request="POST /v1/auth/device/code") from exc


async def poll_pairing(cp: ControlPlaneClient, pairing: Pairing) -> Tokens | str:
    """One poll: the tokens (kept in the store), or the server's code while it is not done
    (``authorization_pending`` or ``slow_down``); a refusal raises :class:`AuthError`."""
    try:
        raw = await cp._json("POST", "/v1/auth/device/token", auth=False, idempotent=False,
                             json={"device_code": pairing.device_code})
    except RequestError as exc:
        code = exc.server_code or ""
        if code in ("authorization_pending", "slow_down"):
            return code
        if code in _SENTENCES:
            raise AuthError(_SENTENCES[code], server_code=code, status=exc.status,
                            request=exc.request) from exc
        raise
    return cp._keep(Tokens.parse(raw, "POST /v1/auth/device/token"))


async def wait_for_pairing(cp: ControlPlaneClient, pairing: Pairing, *,
                           sleep: Callable[[float], Awaitable[None]] = asyncio.sleep) -> Tokens:
    """Poll until confirmed (tokens), refused or expired (:class:`AuthError`)."""
    interval = max(MIN_INTERVAL_S, pairing.interval_s)
    while True:
        await sleep(interval)
        outcome = await poll_pairing(cp, pairing)
        if isinstance(outcome, Tokens):
            log.info("pairing confirmed: device %s", outcome.device_id)
            return outcome
        if outcome == "slow_down":
            interval += SLOW_DOWN_STEP_S
            log.info("pairing: slow_down, polling every %.0f s", interval)


async def confirm_pairing(cp: ControlPlaneClient, user_code: str, *,
                          allow: bool = True) -> str:
    """Confirm (or deny) a TV's code for this app's account; returns the TV's name."""
    try:
        raw = await cp._json("POST", "/v1/auth/device/confirm", idempotent=False,
                             json={"user_code": user_code, "allow": allow})
    except PlayerError as exc:
        code = exc.server_code or ""
        if code in _CONFIRM_SENTENCES:
            raise type(exc)(_CONFIRM_SENTENCES[code], server_code=code, status=exc.status,
                            request=exc.request) from exc
        raise
    return str(raw.get("device_name") or "The TV")
