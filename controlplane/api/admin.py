"""Admin API (its own loopback port, guarded by the ready line's token): server clock, edge
health, telemetry read-back.

The edge fleet adds its fault-injection routes to the same app.
"""

from __future__ import annotations

import json

from aiohttp import web

from controlplane.backend import BACKEND
from controlplane.errors import ApiError, field, json_body

routes = web.RouteTableDef()

MAX_CLOCK_OFFSET_S = 100 * 365.25 * 86400
"""How far ``POST /admin/clock`` may shift server time, s (±100 years)."""


@routes.get("/admin/state")
async def state(request: web.Request) -> web.Response:
    b = request.app[BACKEND]
    return web.json_response({
        "server_time": b.clock.now(),
        "clock_offset_s": b.clock.offset_s,
        "health": b.health.snapshot(),
        "policy": vars(b.policy),
        "catalog": {"root": str(b.catalog.root), "profile": b.catalog.profile,
                    "titles": sorted(b.catalog.titles)},
    })


@routes.post("/admin/clock")
async def set_clock(request: web.Request) -> web.Response:
    """``{"offset_s": N}`` shifts server time by N seconds (licenses, tokens, signed URLs)."""
    b = request.app[BACKEND]
    offset_s = field(await json_body(request), "offset_s", float)
    if abs(offset_s) > MAX_CLOCK_OFFSET_S:
        raise ApiError(400, "bad_request", "offset_s must lie within ±100 years")
    b.clock.offset_s = offset_s
    return web.json_response({"server_time": b.clock.now(), "clock_offset_s": b.clock.offset_s})


@routes.get("/admin/telemetry")
async def telemetry(request: web.Request) -> web.Response:
    b = request.app[BACKEND]
    text = request.query.get("limit", "200")
    if not text.isdigit() or not 1 <= int(text) <= 5000:
        raise ApiError(400, "bad_request", "limit must be a whole number 1..5000")
    limit = int(text)
    rows = b.db.execute(
        "SELECT seq, device_id, received_at, event FROM telemetry ORDER BY seq DESC LIMIT ?",
        (limit,),
    ).fetchall()
    events = [{**dict(r), "event": json.loads(r["event"])} for r in reversed(rows)]
    return web.json_response({"events": events})
