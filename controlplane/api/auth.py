"""Accounts, device registration, tokens.

Access tokens are short-lived bearer tokens; refresh tokens rotate on every use. Only token hashes
are stored. Every device belongs to one account, plays from the account's region (a device's
own claim is never trusted) and carries, optionally, the X25519 public key that offline
licenses are wrapped to.
"""

from __future__ import annotations

import base64
import binascii
import secrets
from dataclasses import dataclass
from typing import Any

from aiohttp import web
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey

from controlplane.backend import BACKEND, Backend
from controlplane.errors import ApiError, field, json_body
from controlplane.store import check_password, hash_password, hash_token, new_id

routes = web.RouteTableDef()

PLANS = ("basic", "premium")
AVATAR_COLORS = ("#e50914", "#f5a623", "#2ecc71", "#3498db", "#9b59b6")


@dataclass(frozen=True)
class Caller:
    device_id: str
    account_id: str
    region: str
    plan: str
    public_key: str | None


def create_account(b: Backend, email: str, password: str, plan: str, region: str) -> str:
    if b.db.execute("SELECT 1 FROM accounts WHERE email = ?", (email,)).fetchone():
        raise ApiError(409, "account_exists", f"an account for {email} already exists")
    account_id = new_id("acct")
    now = b.clock.now()
    b.db.execute(
        "INSERT INTO accounts VALUES (?, ?, ?, ?, ?, ?)",
        (account_id, email, hash_password(password), plan, region, now),
    )
    b.db.execute(
        "INSERT INTO profiles VALUES (?, ?, ?, ?, 0, ?)",
        (new_id("prof"), account_id, email.split("@")[0].capitalize(), AVATAR_COLORS[0], now),
    )
    return account_id


def seed_demo_accounts(b: Backend) -> None:
    """The accounts every fresh control plane knows (documented in docs/protocol.md)."""
    for email, plan, region in (
        ("demo@edgeplay.test", "premium", "US"),
        ("basic@edgeplay.test", "basic", "US"),
    ):
        if not b.db.execute("SELECT 1 FROM accounts WHERE email = ?", (email,)).fetchone():
            create_account(b, email, "edgeplay", plan, region)


def issue_tokens(b: Backend, device_id: str, account_id: str) -> dict[str, Any]:
    access, refresh = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    now, policy = b.clock.now(), b.policy
    b.db.executemany(
        "INSERT INTO tokens VALUES (?, ?, ?, ?, ?)",
        [
            (hash_token(access), "access", device_id, account_id, now + policy.access_token_ttl_s),
            (hash_token(refresh), "refresh", device_id, account_id,
             now + policy.refresh_token_ttl_s),
        ],
    )
    return {
        "token_type": "Bearer",
        "access_token": access,
        "expires_in": b.policy.access_token_ttl_s,
        "refresh_token": refresh,
        "refresh_expires_in": b.policy.refresh_token_ttl_s,
        "device_id": device_id,
        "account_id": account_id,
    }


def _login(b: Backend, body: dict[str, Any]) -> str:
    email = field(body, "email", str).strip().lower()
    row = b.db.execute(
        "SELECT id, password_hash FROM accounts WHERE email = ?", (email,)
    ).fetchone()
    if row is None or not check_password(field(body, "password", str), row["password_hash"]):
        raise ApiError(401, "bad_credentials", "the email or password is wrong")
    return str(row["id"])


def _public_key(body: dict[str, Any]) -> str | None:
    text = field(body, "public_key", str, required=False)
    if text is None:
        return None
    try:
        raw = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ApiError(400, "bad_request", "public_key must be base64") from exc
    if len(raw) != 32:
        raise ApiError(400, "bad_request", "public_key must be a raw 32-byte X25519 key")
    try:  # a low-order point (e.g. all zeros) yields no shared secret: refuse it now
        X25519PrivateKey.generate().exchange(X25519PublicKey.from_public_bytes(raw))
    except ValueError as exc:
        raise ApiError(400, "bad_request", "public_key is not a usable X25519 key") from exc
    return str(text)


def authenticate(request: web.Request) -> Caller:
    """The device behind the request's bearer token, or a 401 that says why."""
    b = request.app[BACKEND]
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise ApiError(401, "missing_token", "this endpoint needs an Authorization: Bearer token")
    row = b.db.execute(
        "SELECT t.expires_at, d.id AS device_id, a.region, d.public_key, a.id AS account_id,"
        " a.plan FROM tokens t JOIN devices d ON d.id = t.device_id"
        " JOIN accounts a ON a.id = t.account_id WHERE t.token_hash = ? AND t.kind = 'access'",
        (hash_token(token.strip()),),
    ).fetchone()
    if row is None:
        raise ApiError(401, "invalid_token", "the access token is not known; log in again")
    if row["expires_at"] <= b.clock.now():
        raise ApiError(401, "token_expired", "the access token has expired; refresh it")
    return Caller(row["device_id"], row["account_id"], row["region"], row["plan"],
                  row["public_key"])


@routes.post("/v1/accounts")
async def create_account_route(request: web.Request) -> web.Response:
    b = request.app[BACKEND]
    body = await json_body(request)
    email = field(body, "email", str).strip().lower()
    if "@" not in email:
        raise ApiError(400, "bad_request", "email must be an email address")
    password = field(body, "password", str)
    if len(password) < 6:
        raise ApiError(400, "bad_request", "password must be at least 6 characters")
    plan = field(body, "plan", str, required=False) or "basic"
    if plan not in PLANS:
        raise ApiError(400, "bad_request", f"plan must be one of {', '.join(PLANS)}")
    region = (field(body, "region", str, required=False) or "US").upper()
    account_id = create_account(b, email, password, plan, region)
    return web.json_response({"account_id": account_id, "email": email, "plan": plan,
                              "region": region}, status=201)


@routes.post("/v1/devices")
async def register_device(request: web.Request) -> web.Response:
    b = request.app[BACKEND]
    body = await json_body(request)
    account_id = _login(b, body)
    name = field(body, "name", str)
    platform = field(body, "platform", str, required=False) or "unknown"
    region = b.db.execute(
        "SELECT region FROM accounts WHERE id = ?", (account_id,)
    ).fetchone()["region"]
    claimed = field(body, "region", str, required=False)
    if claimed is not None and (len(claimed) != 2 or not claimed.isalpha()):
        raise ApiError(400, "bad_request", "region must be a two-letter country code")
    # The region is the account's, never the device's claim: a device saying "GB" on a US
    # account must not unlock GB-only titles (a real backend would use the request's origin).
    device_id = new_id("dev")
    b.db.execute(
        "INSERT INTO devices VALUES (?, ?, ?, ?, ?, ?, ?)",
        (device_id, account_id, name, platform, region, _public_key(body), b.clock.now()),
    )
    return web.json_response(issue_tokens(b, device_id, account_id), status=201)


@routes.post("/v1/auth/login")
async def login(request: web.Request) -> web.Response:
    """A device that was registered before signs in again (e.g. after its tokens were lost)."""
    b = request.app[BACKEND]
    body = await json_body(request)
    account_id = _login(b, body)
    device_id = field(body, "device_id", str)
    row = b.db.execute("SELECT account_id FROM devices WHERE id = ?", (device_id,)).fetchone()
    if row is None or row["account_id"] != account_id:
        raise ApiError(404, "unknown_device", "this device is not registered to the account")
    return web.json_response(issue_tokens(b, device_id, account_id))


@routes.post("/v1/auth/refresh")
async def refresh(request: web.Request) -> web.Response:
    b = request.app[BACKEND]
    body = await json_body(request)
    token_hash = hash_token(field(body, "refresh_token", str))
    row = b.db.execute(
        "SELECT device_id, account_id, expires_at FROM tokens"
        " WHERE token_hash = ? AND kind = 'refresh'",
        (token_hash,),
    ).fetchone()
    if row is None:
        raise ApiError(401, "invalid_token", "the refresh token is not known; log in again")
    b.db.execute("DELETE FROM tokens WHERE token_hash = ?", (token_hash,))
    if row["expires_at"] <= b.clock.now():
        raise ApiError(401, "token_expired", "the refresh token has expired; log in again")
    return web.json_response(issue_tokens(b, row["device_id"], row["account_id"]))


@routes.post("/v1/auth/logout")
async def logout(request: web.Request) -> web.Response:
    caller = authenticate(request)
    b = request.app[BACKEND]
    b.db.execute("DELETE FROM tokens WHERE device_id = ?", (caller.device_id,))
    return web.json_response({"logged_out": True})


@routes.get("/v1/me")
async def me(request: web.Request) -> web.Response:
    caller = authenticate(request)
    b = request.app[BACKEND]
    account = b.db.execute(
        "SELECT id, email, plan, region FROM accounts WHERE id = ?", (caller.account_id,)
    ).fetchone()
    return web.json_response({
        "account": dict(account),
        "device": {"id": caller.device_id, "region": caller.region,
                   "has_public_key": caller.public_key is not None},
        "download_limit": b.policy.download_limit,
    })
