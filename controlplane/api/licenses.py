"""Offline licenses: signed with Ed25519, the content key wrapped to the device's X25519 key.

A license is ``{"license": base64(payload), "signature": base64(Ed25519(payload)), "key_id"}``;
the payload is canonical JSON (sorted keys, no spaces) so that any client can verify the exact
bytes against the public key it pinned from ``GET /v1/licenses/public-key``.
"""

from __future__ import annotations

import base64
import json
import sqlite3
from typing import Any

from aiohttp import web

from controlplane.api.auth import Caller, authenticate
from controlplane.api.catalog import entitled_title
from controlplane.backend import BACKEND, Backend
from controlplane.errors import ApiError, field, json_body
from controlplane.keys import b64, wrap_content_key
from controlplane.store import new_id

routes = web.RouteTableDef()

LICENSE_FORMAT = 1


def _active_count(b: Backend, account_id: str) -> int:
    return int(b.db.execute(
        "SELECT COUNT(*) FROM offline_licenses WHERE account_id = ? AND released = 0"
        " AND expires_at > ?",
        (account_id, b.clock.now()),
    ).fetchone()[0])


def _signed(b: Backend, row: sqlite3.Row, device_public_key: str) -> dict[str, Any]:
    payload = {
        "format": LICENSE_FORMAT,
        "license_id": row["id"],
        "title_id": row["title_id"],
        "account_id": row["account_id"],
        "device_id": row["device_id"],
        "profile_id": row["profile_id"],
        "issued_at": row["issued_at"],
        "expires_at": row["expires_at"],
        "playback_window_s": b.policy.offline_playback_window_s,
        "first_played_at": row["first_played_at"],
        "server_time": b.clock.now(),
        # CENC titles: the KIDs the wrapped key decrypts (signed, so they cannot be swapped)
        "key_ids": [kid] if (kid := _cenc_kid(b, row["title_id"])) else [],
        "wrapped_key": wrap_content_key(
            b.catalog.content_key(row["title_id"]), base64.b64decode(device_public_key), row["id"]
        ),
    }
    raw = json.dumps(payload, sort_keys=True, separators=(",", ":")).encode()
    return {"license": b64(raw), "signature": b64(b.keys.sign(raw)), "key_id": b.keys.key_id,
            "payload": payload}


def _cenc_kid(b: Backend, title_id: str) -> str | None:
    title = b.catalog.titles.get(title_id)
    return title.cenc_kid if title is not None else None


def _own_license(b: Backend, caller: Caller, license_id: str) -> sqlite3.Row:
    row: sqlite3.Row | None = b.db.execute(
        "SELECT * FROM offline_licenses WHERE id = ? AND device_id = ?",
        (license_id, caller.device_id),
    ).fetchone()
    if row is None:
        raise ApiError(404, "unknown_license", f"no license {license_id} for this device")
    return row


def _device_key(caller: Caller) -> str:
    if caller.public_key is None:
        raise ApiError(400, "no_device_key", "this device registered without a public key; "
                       "register it again with one to download")
    return caller.public_key


def _learn_first_play(b: Backend, row: sqlite3.Row, reported: float | None) -> None:
    """Keep the earlier of the known first play and ``reported`` (bounded to the license's
    life so far: never before its issue, never after now)."""
    if reported is None:
        return
    reported = min(max(reported, row["issued_at"]), b.clock.now())
    known = row["first_played_at"]
    if known is None or reported < known:
        b.db.execute("UPDATE offline_licenses SET first_played_at = ? WHERE id = ?",
                     (reported, row["id"]))


@routes.get("/v1/licenses/public-key")
async def public_key(request: web.Request) -> web.Response:
    b = request.app[BACKEND]
    return web.json_response({"algorithm": "Ed25519", "public_key": b64(b.keys.public_key_raw),
                              "key_id": b.keys.key_id})


@routes.post("/v1/licenses/offline")
async def issue(request: web.Request) -> web.Response:
    caller = authenticate(request)
    b = request.app[BACKEND]
    body = await json_body(request)
    title, profile = entitled_title(b, caller, body)
    device_key = _device_key(caller)
    if _active_count(b, caller.account_id) >= b.policy.download_limit:
        raise ApiError(403, "download_limit", f"this account already has "
                       f"{b.policy.download_limit} downloads; delete one to download another",
                       limit=b.policy.download_limit)
    license_id = new_id("lic")
    now = b.clock.now()
    b.db.execute(
        "INSERT INTO offline_licenses VALUES (?, ?, ?, ?, ?, ?, ?, NULL, 0)",
        (license_id, caller.account_id, caller.device_id, profile["id"], title.id, now,
         now + b.policy.offline_license_ttl_s),
    )
    return web.json_response(_signed(b, _own_license(b, caller, license_id), device_key),
                             status=201)


@routes.get("/v1/licenses/offline")
async def list_licenses(request: web.Request) -> web.Response:
    caller = authenticate(request)
    b = request.app[BACKEND]
    rows = b.db.execute(
        "SELECT id, title_id, device_id, issued_at, expires_at, first_played_at"
        " FROM offline_licenses WHERE account_id = ? AND released = 0 AND expires_at > ?",
        (caller.account_id, b.clock.now()),
    ).fetchall()
    return web.json_response({"licenses": [dict(r) for r in rows],
                              "limit": b.policy.download_limit})


@routes.post("/v1/licenses/offline/{license_id}/renew")
async def renew(request: web.Request) -> web.Response:
    """Extend the absolute expiry; the playback window keeps its first play."""
    caller = authenticate(request)
    b = request.app[BACKEND]
    row = _own_license(b, caller, request.match_info["license_id"])
    if row["released"]:
        raise ApiError(409, "license_released", "this download was deleted; download it again")
    body = await json_body(request) if request.can_read_body else {}
    _learn_first_play(b, row, field(body, "first_played_at", float, required=False))
    b.db.execute("UPDATE offline_licenses SET expires_at = ? WHERE id = ?",
                 (b.clock.now() + b.policy.offline_license_ttl_s, row["id"]))
    return web.json_response(_signed(b, _own_license(b, caller, row["id"]), _device_key(caller)))


@routes.post("/v1/licenses/offline/{license_id}/first-play")
async def first_play(request: web.Request) -> web.Response:
    """A device reports its first offline play (at its next contact): the earliest is kept,
    and the license comes back signed with it (the expiry unchanged)."""
    caller = authenticate(request)
    b = request.app[BACKEND]
    row = _own_license(b, caller, request.match_info["license_id"])
    if row["released"]:
        raise ApiError(409, "license_released", "this download was deleted; download it again")
    _learn_first_play(b, row, field(await json_body(request), "first_played_at", float))
    return web.json_response(_signed(b, _own_license(b, caller, row["id"]), _device_key(caller)))


@routes.post("/v1/licenses/offline/{license_id}/release")
async def release(request: web.Request) -> web.Response:
    caller = authenticate(request)
    b = request.app[BACKEND]
    row = _own_license(b, caller, request.match_info["license_id"])
    b.db.execute("UPDATE offline_licenses SET released = 1 WHERE id = ?", (row["id"],))
    return web.json_response({"released": row["id"],
                              "active": _active_count(b, caller.account_id)})
