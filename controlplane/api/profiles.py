"""Profiles: several viewers per account, each with its own progress and rows."""

from __future__ import annotations

import re
import sqlite3
from typing import Any

from aiohttp import web

from controlplane.api.auth import AVATAR_COLORS, Caller, authenticate
from controlplane.backend import BACKEND, Backend
from controlplane.errors import ApiError, field, json_body
from controlplane.store import new_id

routes = web.RouteTableDef()

_COLOR = re.compile(r"^#[0-9a-fA-F]{6}$")


def profile_json(row: sqlite3.Row) -> dict[str, Any]:
    return {"id": row["id"], "name": row["name"], "avatar_color": row["avatar_color"],
            "kids": bool(row["kids"])}


def owned_profile(b: Backend, caller: Caller, profile_id: str) -> sqlite3.Row:
    """The caller's profile; another account's profile is as unknown as a missing one."""
    row: sqlite3.Row | None = b.db.execute(
        "SELECT * FROM profiles WHERE id = ? AND account_id = ?", (profile_id, caller.account_id)
    ).fetchone()
    if row is None:
        raise ApiError(404, "unknown_profile", f"no profile {profile_id} on this account")
    return row


def _name(body: dict[str, Any]) -> str:
    name = str(field(body, "name", str)).strip()
    if len(name) > 40:
        raise ApiError(400, "bad_request", "a profile name has at most 40 characters")
    return name


def _color(body: dict[str, Any], default: str) -> str:
    color = field(body, "avatar_color", str, required=False) or default
    if not _COLOR.match(color):
        raise ApiError(400, "bad_request", "avatar_color must look like #rrggbb")
    return str(color)


@routes.get("/v1/profiles")
async def list_profiles(request: web.Request) -> web.Response:
    caller = authenticate(request)
    rows = request.app[BACKEND].db.execute(
        "SELECT * FROM profiles WHERE account_id = ? ORDER BY created_at, id", (caller.account_id,)
    ).fetchall()
    return web.json_response({"profiles": [profile_json(r) for r in rows]})


@routes.post("/v1/profiles")
async def create_profile(request: web.Request) -> web.Response:
    caller = authenticate(request)
    b = request.app[BACKEND]
    body = await json_body(request)
    count = b.db.execute(
        "SELECT COUNT(*) FROM profiles WHERE account_id = ?", (caller.account_id,)
    ).fetchone()[0]
    if count >= b.policy.max_profiles:
        limit = b.policy.max_profiles
        raise ApiError(409, "profile_limit", f"an account has at most {limit} profiles")
    kids = field(body, "kids", bool, required=False) or False
    profile_id = new_id("prof")
    b.db.execute(
        "INSERT INTO profiles VALUES (?, ?, ?, ?, ?, ?)",
        (profile_id, caller.account_id, _name(body),
         _color(body, AVATAR_COLORS[count % len(AVATAR_COLORS)]), int(kids), b.clock.now()),
    )
    return web.json_response(profile_json(owned_profile(b, caller, profile_id)), status=201)


@routes.patch("/v1/profiles/{profile_id}")
async def update_profile(request: web.Request) -> web.Response:
    caller = authenticate(request)
    b = request.app[BACKEND]
    row = owned_profile(b, caller, request.match_info["profile_id"])
    body = await json_body(request)
    name = _name(body) if "name" in body else row["name"]
    color = _color(body, row["avatar_color"])
    kids = field(body, "kids", bool, required=False)
    kids = bool(row["kids"]) if kids is None else kids
    b.db.execute(
        "UPDATE profiles SET name = ?, avatar_color = ?, kids = ? WHERE id = ?",
        (name, color, int(kids), row["id"]),
    )
    return web.json_response(profile_json(owned_profile(b, caller, row["id"])))


@routes.delete("/v1/profiles/{profile_id}")
async def delete_profile(request: web.Request) -> web.Response:
    caller = authenticate(request)
    b = request.app[BACKEND]
    row = owned_profile(b, caller, request.match_info["profile_id"])
    count = b.db.execute(
        "SELECT COUNT(*) FROM profiles WHERE account_id = ?", (caller.account_id,)
    ).fetchone()[0]
    if count <= 1:
        raise ApiError(409, "last_profile", "an account keeps at least one profile")
    b.db.execute("DELETE FROM progress WHERE profile_id = ?", (row["id"],))
    b.db.execute("DELETE FROM profiles WHERE id = ?", (row["id"],))
    return web.json_response({"deleted": row["id"]})
