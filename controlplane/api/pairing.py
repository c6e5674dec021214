"""Device-code sign-in (RFC 8628 style): a TV shows a short code, a signed-in device confirms it.

1. ``POST /v1/auth/device/code`` (no token): the TV asks for a pairing and gets a ``user_code``
   (8 letters from an alphabet without look-alikes, shown as ``BCDF-GHJK``), a secret
   ``device_code``, ``verification_uri`` (the control plane's ``/activate`` page), ``expires_in``
   and the polling ``interval``.
2. The user confirms the code: from a signed-in app (``POST /v1/auth/device/confirm`` with a
   bearer token) or on the ``/activate`` page with email and password (:mod:`.activate`).
   Either may deny it instead.
3. ``POST /v1/auth/device/token`` (no token) with the ``device_code``: ``400
   authorization_pending`` until confirmed, then the TV's tokens, registered as a new device of
   the confirming account, once; ``slow_down`` when polled faster than the interval (the
   interval grows by 5 s), ``expired_token``, ``access_denied``, ``invalid_grant`` (unknown or
   already used). Only hashes of device codes are stored.
"""

from __future__ import annotations

import secrets
import sqlite3
from typing import Any

from aiohttp import web

from controlplane.api.auth import _public_key, authenticate, issue_tokens
from controlplane.backend import BACKEND, Backend
from controlplane.errors import ApiError, field, json_body
from controlplane.store import hash_token, new_id

routes = web.RouteTableDef()

USER_CODE_ALPHABET = "BCDFGHJKLMNPQRSTVWXZ"
"""RFC 8628 section 6.1's example: consonants only, so no vowel spells a word and nothing
looks like a digit (no I/O); 20^8 codes."""
USER_CODE_LENGTH = 8
SLOW_DOWN_STEP_S = 5.0
"""Seconds added to a pairing's interval each time it is polled too fast."""


def normalize_user_code(text: str) -> str:
    """What the user typed, as stored: upper case, separators and spaces dropped."""
    return "".join(c for c in text.upper() if c.isalnum())


def display_user_code(code: str) -> str:
    half = len(code) // 2
    return f"{code[:half]}-{code[half:]}"


def _new_user_code(b: Backend) -> str:
    while True:
        code = "".join(secrets.choice(USER_CODE_ALPHABET) for _ in range(USER_CODE_LENGTH))
        if not b.db.execute("SELECT 1 FROM device_codes WHERE user_code = ?",
                            (code,)).fetchone():
            return code


def _purge(b: Backend) -> None:
    """Pairings that expired a day ago go (their codes may be drawn again)."""
    b.db.execute("DELETE FROM device_codes WHERE expires_at < ?", (b.clock.now() - 86400,))


def pending_pairing(b: Backend, user_code: str) -> sqlite3.Row:
    """The pairing a typed code names, if it can still be confirmed; else a clear error."""
    code = normalize_user_code(user_code)
    row: sqlite3.Row | None = b.db.execute(
        "SELECT * FROM device_codes WHERE user_code = ?", (code,)).fetchone()
    if row is None or len(code) != USER_CODE_LENGTH:
        raise ApiError(404, "unknown_code", "no TV is waiting for this code; check the code "
                       "on the TV's screen")
    if row["expires_at"] <= b.clock.now():
        raise ApiError(410, "expired_token", "this code has expired; the TV shows a new one")
    if row["status"] != "pending":
        raise ApiError(409, "code_used", "this code was already used; the TV shows a new one")
    return row


def decide(b: Backend, user_code: str, account_id: str, allow: bool) -> str:
    """Confirm (or deny) the pairing for ``account_id``; returns the TV's name."""
    row = pending_pairing(b, user_code)
    b.db.execute("UPDATE device_codes SET status = ?, account_id = ? WHERE device_code_hash = ?",
                 ("confirmed" if allow else "denied", account_id, row["device_code_hash"]))
    return str(row["name"])


@routes.post("/v1/auth/device/code")
async def start_pairing(request: web.Request) -> web.Response:
    b = request.app[BACKEND]
    body = await json_body(request)
    name = field(body, "name", str)[:100]
    platform = (field(body, "platform", str, required=False) or "tv")[:40]
    public_key = _public_key(body)
    _purge(b)
    device_code, user_code = secrets.token_urlsafe(32), _new_user_code(b)
    now, policy = b.clock.now(), b.policy
    b.db.execute(
        "INSERT INTO device_codes VALUES (?, ?, ?, ?, ?, ?, ?, ?, NULL, 'pending', NULL)",
        (hash_token(device_code), user_code, name, platform, public_key, now,
         now + policy.device_code_ttl_s, float(policy.device_code_interval_s)),
    )
    shown = display_user_code(user_code)
    verify = b.url("/activate")
    return web.json_response({
        "device_code": device_code,
        "user_code": shown,
        "verification_uri": verify,
        "verification_uri_complete": f"{verify}?code={shown}",
        "expires_in": policy.device_code_ttl_s,
        "interval": policy.device_code_interval_s,
    }, status=201)


@routes.post("/v1/auth/device/token")
async def poll_pairing(request: web.Request) -> web.Response:
    b = request.app[BACKEND]
    body = await json_body(request)
    key = hash_token(field(body, "device_code", str))
    row = b.db.execute("SELECT * FROM device_codes WHERE device_code_hash = ?",
                       (key,)).fetchone()
    if row is None or row["status"] == "used":
        raise ApiError(400, "invalid_grant", "this pairing is unknown or was already used; "
                       "start a new one")
    now = b.clock.now()
    if row["expires_at"] <= now:
        raise ApiError(400, "expired_token", "the code expired before anyone confirmed it")
    last = row["last_poll_at"]
    if last is not None and now - last < row["interval_s"]:
        interval = row["interval_s"] + SLOW_DOWN_STEP_S
        b.db.execute("UPDATE device_codes SET interval_s = ?, last_poll_at = ?"
                     " WHERE device_code_hash = ?", (interval, now, key))
        raise ApiError(400, "slow_down", f"polled too fast; wait {interval:.0f} s between polls",
                       interval=interval)
    b.db.execute("UPDATE device_codes SET last_poll_at = ? WHERE device_code_hash = ?",
                 (now, key))
    if row["status"] == "denied":
        b.db.execute("UPDATE device_codes SET status = 'used' WHERE device_code_hash = ?",
                     (key,))
        raise ApiError(400, "access_denied", "the sign-in was refused on the other device")
    if row["status"] != "confirmed":
        raise ApiError(400, "authorization_pending", "waiting for the code to be confirmed",
                       interval=row["interval_s"])
    return web.json_response(_register(b, row))


def _register(b: Backend, row: sqlite3.Row) -> dict[str, Any]:
    """The confirmed pairing becomes a device of the confirming account (once)."""
    account_id = row["account_id"]
    region = b.db.execute("SELECT region FROM accounts WHERE id = ?",
                          (account_id,)).fetchone()["region"]
    device_id = new_id("dev")
    b.db.execute("UPDATE device_codes SET status = 'used' WHERE device_code_hash = ?",
                 (row["device_code_hash"],))
    b.db.execute("INSERT INTO devices VALUES (?, ?, ?, ?, ?, ?, ?)",
                 (device_id, account_id, row["name"], row["platform"], region,
                  row["public_key"], b.clock.now()))
    return issue_tokens(b, device_id, account_id)


@routes.post("/v1/auth/device/confirm")
async def confirm_pairing(request: web.Request) -> web.Response:
    """A signed-in device confirms (or, with ``"allow": false``, denies) a TV's code."""
    caller = authenticate(request)
    b = request.app[BACKEND]
    body = await json_body(request)
    allow = field(body, "allow", bool, required=False)
    allow = True if allow is None else allow
    name = decide(b, field(body, "user_code", str), caller.account_id, allow)
    return web.json_response({"confirmed": allow, "device_name": name})
