"""Telemetry intake: clients post batches of events; the admin API reads them back."""

from __future__ import annotations

import json

from aiohttp import web

from controlplane.api.auth import authenticate
from controlplane.backend import BACKEND
from controlplane.errors import ApiError, field, json_body

routes = web.RouteTableDef()

MAX_EVENTS = 1000
MAX_EVENT_BYTES = 8192


@routes.post("/v1/telemetry")
async def intake(request: web.Request) -> web.Response:
    caller = authenticate(request)
    b = request.app[BACKEND]
    events = field(await json_body(request), "events", list)
    if len(events) > MAX_EVENTS:
        raise ApiError(413, "batch_too_large", f"at most {MAX_EVENTS} events per batch")
    rows = []
    now = b.clock.now()
    for i, event in enumerate(events):
        if not isinstance(event, dict) or not isinstance(event.get("type"), str):
            raise ApiError(400, "bad_request", f"event {i} must be an object with a string 'type'")
        text = json.dumps(event, separators=(",", ":"))
        if len(text) > MAX_EVENT_BYTES:
            raise ApiError(413, "event_too_large", f"event {i} exceeds {MAX_EVENT_BYTES} bytes")
        rows.append((caller.device_id, now, text))
    b.db.executemany("INSERT INTO telemetry (device_id, received_at, event) VALUES (?, ?, ?)", rows)
    return web.json_response({"accepted": len(rows)}, status=202)
