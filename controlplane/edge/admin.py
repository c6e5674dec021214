"""The admin API for the edge fleet, mounted on the control plane's admin server.

    GET    {prefix}/edges                           every edge (see :func:`describe_edge`)
    POST   {prefix}/edges/{name}/faults             set a fault: {"kind": ..., ...params}
    DELETE {prefix}/edges/{name}/faults             clear every fault
    DELETE {prefix}/edges/{name}/faults/{kind}      clear one kind
    GET    {prefix}/edges/{name}/requests?limit=N   recent request log entries, oldest first

Fault answers are the edge's description; errors are JSON ``{"error", "message"}`` with 400
(invalid fault or parameter) or 404 (unknown edge).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any, Protocol

from aiohttp import web

from controlplane.edge.faults import KINDS, FaultError, fault_to_json, parse_fault
from controlplane.edge.requestlog import RING_ENTRIES
from controlplane.edge.server import Edge
from controlplane.errors import parse_json


class Edges(Protocol):
    """What the admin API needs of a fleet (:class:`controlplane.edge.fleet.EdgeFleet` is one)."""

    @property
    def edges(self) -> Sequence[Edge]: ...

    def edge(self, name: str) -> Edge:
        """The edge called ``name``; KeyError when there is none."""
        ...

DEFAULT_REQUEST_LIMIT = 100


def describe_edge(edge: Edge) -> dict[str, Any]:
    return {
        "name": edge.name,
        "url": edge.url,
        "alive": edge.alive,
        "faults": [fault_to_json(f) for f in edge.faults],
        "cached_titles": sorted(edge.cached_titles),
    }


def _error(status: int, code: str, message: str) -> web.Response:
    return web.json_response({"error": code, "message": message}, status=status)


class _Admin:
    def __init__(self, fleet: Edges) -> None:
        self._fleet = fleet

    def _edge(self, request: web.Request) -> Edge:
        name = request.match_info["name"]
        try:
            return self._fleet.edge(name)
        except KeyError:
            raise web.HTTPNotFound(
                text=json.dumps({"error": "unknown_edge", "message": f"no edge {name!r}"}),
                content_type="application/json",
            ) from None

    async def list_edges(self, request: web.Request) -> web.Response:
        return web.json_response([describe_edge(e) for e in self._fleet.edges])

    async def set_fault(self, request: web.Request) -> web.Response:
        edge = self._edge(request)
        try:
            raw = parse_json(await request.text())
        except (ValueError, UnicodeDecodeError):
            return _error(400, "bad_json", "the body must be a JSON object")
        try:
            fault = parse_fault(raw)
        except FaultError as exc:
            return _error(400, "bad_fault", str(exc))
        await edge.set_fault(fault)
        return web.json_response(describe_edge(edge))

    async def clear_all(self, request: web.Request) -> web.Response:
        edge = self._edge(request)
        await edge.clear_faults()
        return web.json_response(describe_edge(edge))

    async def clear_kind(self, request: web.Request) -> web.Response:
        edge = self._edge(request)
        kind = request.match_info["kind"]
        if kind not in KINDS:
            return _error(400, "bad_fault", f"kind must be one of {', '.join(KINDS)}")
        await edge.clear_faults(kind)
        return web.json_response(describe_edge(edge))

    async def requests(self, request: web.Request) -> web.Response:
        edge = self._edge(request)
        text = request.query.get("limit", str(DEFAULT_REQUEST_LIMIT))
        if not text.isdigit() or not 1 <= int(text) <= RING_ENTRIES:
            return _error(400, "bad_request", f"limit must be a whole number 1..{RING_ENTRIES}")
        return web.json_response(edge.requests.recent(int(text)))


def add_admin_routes(app: web.Application, fleet: Edges, prefix: str = "/admin") -> None:
    admin = _Admin(fleet)
    base = prefix.rstrip("/") + "/edges"
    app.router.add_get(base, admin.list_edges)
    app.router.add_post(base + "/{name}/faults", admin.set_fault)
    app.router.add_delete(base + "/{name}/faults", admin.clear_all)
    app.router.add_delete(base + "/{name}/faults/{kind}", admin.clear_kind)
    app.router.add_get(base + "/{name}/requests", admin.requests)
