"""Viewing progress per profile and title. The latest event time wins, whoever writes last.

Ties on event time go to the larger device id so that every replica resolves them alike.
Crossing ``watched_fraction`` of the duration marks the title watched; marking watched or
unwatched by hand is an event like any other and competes by event time too.
"""

from __future__ import annotations

import sqlite3
from typing import Any

from aiohttp import web

from controlplane.api.auth import Caller, authenticate
from controlplane.api.profiles import owned_profile
from controlplane.backend import BACKEND, Backend
from controlplane.errors import ApiError, field, json_body

routes = web.RouteTableDef()

MAX_BATCH = 500
MAX_CLOCK_SKEW_MS = 5 * 60 * 1000
"""How far ahead of the server's clock an event may be stamped, ms (default 5 min). A later
``event_time_ms`` is a wrong clock: it is stored as the server's time and the answer says
``clamped: true``, so one bad clock cannot freeze a profile's progress."""


def _newer(event_time_ms: int, device_id: str, row: sqlite3.Row | None, limit_ms: int) -> bool:
    if row is None:
        return True
    stored = min(int(row["event_time_ms"]), limit_ms)  # rows from before the bound, too
    return (event_time_ms, device_id) > (stored, row["device_id"])


def _own_device(b: Backend, caller: Caller, device_id: str | None) -> str:
    """The writing device: the caller's own, or another device of the caller's account."""
    if device_id is None or device_id == caller.device_id:
        return caller.device_id
    row = b.db.execute("SELECT 1 FROM devices WHERE id = ? AND account_id = ?",
                       (device_id, caller.account_id)).fetchone()
    if row is None:
        raise ApiError(404, "unknown_device", f"no device {device_id!r} in this account")
    return device_id


def progress_json(b: Backend, row: sqlite3.Row) -> dict[str, Any]:
    """A progress record, with the name of the device that wrote it (so a UI can say where)."""
    device = b.db.execute("SELECT name FROM devices WHERE id = ?", (row["device_id"],)).fetchone()
    return {**dict(row), "device_name": device["name"] if device else None}


def _current(b: Backend, profile_id: str, title_id: str) -> sqlite3.Row | None:
    row: sqlite3.Row | None = b.db.execute(
        "SELECT * FROM progress WHERE profile_id = ? AND title_id = ?", (profile_id, title_id)
    ).fetchone()
    return row


def apply_update(b: Backend, caller: Caller, profile_id: str, title_id: str,
                 body: dict[str, Any]) -> dict[str, Any]:
    """Validate and apply one progress write; returns {"applied", "progress"}."""
    if title_id not in b.catalog.titles:
        raise ApiError(404, "unknown_title", f"no title {title_id!r} in the catalog")
    event_time_ms = field(body, "event_time_ms", int)
    device_id = _own_device(b, caller, field(body, "device_id", str, required=False))
    now_ms = int(b.clock.now() * 1000)
    clamped = event_time_ms > now_ms + MAX_CLOCK_SKEW_MS
    if clamped:
        event_time_ms = now_ms
    row = _current(b, profile_id, title_id)
    if "watched" in body and "position_s" not in body:
        watched = bool(field(body, "watched", bool))
        position = 0.0 if not watched else (row["position_s"] if row else 0.0)
        duration = row["duration_s"] if row else b.catalog.titles[title_id].duration_s
    else:
        position = field(body, "position_s", float)
        duration = field(body, "duration_s", float, required=False)
        duration = duration or b.catalog.titles[title_id].duration_s
        if position < 0 or duration <= 0 or position > duration + 5:
            raise ApiError(400, "bad_request", "position_s must lie within the duration")
        watched = position >= b.policy.watched_fraction * duration
    applied = _newer(event_time_ms, device_id, row, now_ms + MAX_CLOCK_SKEW_MS)
    if applied:
        b.db.execute(
            "INSERT OR REPLACE INTO progress VALUES (?, ?, ?, ?, ?, ?, ?)",
            (profile_id, title_id, position, duration, event_time_ms, device_id, int(watched)),
        )
    current = _current(b, profile_id, title_id)
    answer = {"applied": applied, "progress": progress_json(b, current) if current else None}
    if clamped:
        answer["clamped"] = True
    return answer


@routes.get("/v1/profiles/{profile_id}/progress")
async def list_progress(request: web.Request) -> web.Response:
    caller = authenticate(request)
    b = request.app[BACKEND]
    profile = owned_profile(b, caller, request.match_info["profile_id"])
    rows = b.db.execute(
        "SELECT * FROM progress WHERE profile_id = ?"
        " ORDER BY event_time_ms DESC, rowid DESC",  # a tie: the later write first
        (profile["id"],),
    ).fetchall()
    return web.json_response({"items": [progress_json(b, r) for r in rows]})


@routes.get("/v1/profiles/{profile_id}/progress/{title_id}")
async def get_progress(request: web.Request) -> web.Response:
    caller = authenticate(request)
    b = request.app[BACKEND]
    profile = owned_profile(b, caller, request.match_info["profile_id"])
    row = _current(b, profile["id"], request.match_info["title_id"])
    if row is None:
        raise ApiError(404, "no_progress", "no progress recorded for this title")
    return web.json_response(progress_json(b, row))


@routes.put("/v1/profiles/{profile_id}/progress/{title_id}")
async def put_progress(request: web.Request) -> web.Response:
    caller = authenticate(request)
    b = request.app[BACKEND]
    profile = owned_profile(b, caller, request.match_info["profile_id"])
    body = await json_body(request)
    return web.json_response(apply_update(b, caller, profile["id"],
                                          request.match_info["title_id"], body))


@routes.post("/v1/profiles/{profile_id}/progress/{title_id}/watched")
async def mark_watched(request: web.Request) -> web.Response:
    """``{"watched": true|false, "event_time_ms": …}``: mark watched, or unwatched (resets)."""
    caller = authenticate(request)
    b = request.app[BACKEND]
    profile = owned_profile(b, caller, request.match_info["profile_id"])
    body = await json_body(request)
    body.pop("position_s", None)
    field(body, "watched", bool)
    return web.json_response(apply_update(b, caller, profile["id"],
                                          request.match_info["title_id"], body))


@routes.post("/v1/progress/batch")
async def batch(request: web.Request) -> web.Response:
    """Replay of a client's outbox: ``{"items": [{profile_id, title_id, …}, …]}`` in order.

    Each item succeeds or fails alone; the answer lists one result per item.
    """
    caller = authenticate(request)
    b = request.app[BACKEND]
    items = field(await json_body(request), "items", list)
    if len(items) > MAX_BATCH:
        raise ApiError(413, "batch_too_large", f"at most {MAX_BATCH} items per batch")
    results: list[dict[str, Any]] = []
    for item in items:
        try:
            if not isinstance(item, dict):
                raise ApiError(400, "bad_request", "each item must be an object")
            profile = owned_profile(b, caller, field(item, "profile_id", str))
            results.append(apply_update(b, caller, profile["id"], field(item, "title_id", str),
                                        item))
        except ApiError as exc:
            results.append({"applied": False, "error": exc.code, "message": exc.message})
    return web.json_response({"results": results})
