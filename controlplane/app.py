"""The two aiohttp applications: the public API and the admin API."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from aiohttp import web

from controlplane.api import (
    activate,
    admin,
    auth,
    catalog,
    clearkey,
    dash,
    licenses,
    pairing,
    playback,
    profiles,
    progress,
    telemetry,
)
from controlplane.backend import BACKEND, Backend
from controlplane.errors import error_middleware
from controlplane.httpserver import ADMIN_TOKEN, admin_guard

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@web.middleware
async def server_time_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Every answer carries the server's time, for the client's clock-rollback high-water mark."""
    response = await handler(request)
    response.headers["X-Server-Time"] = f"{request.app[BACKEND].clock.now():.3f}"
    return response


def build_api_app(backend: Backend) -> web.Application:
    app = web.Application(middlewares=[server_time_middleware, error_middleware],
                          client_max_size=1024 * 1024)
    app[BACKEND] = backend
    for module in (auth, pairing, activate, profiles, catalog, playback, licenses, clearkey, dash,
                   progress,
                   telemetry):
        app.add_routes(module.routes)

    async def index(request: web.Request) -> web.Response:
        return web.json_response({"service": "edgeplay-controlplane", "api": "v1",
                                  "docs": "docs/protocol.md"})

    app.router.add_get("/", index)
    app.router.add_get("/v1/health", index)
    return app


def build_admin_app(backend: Backend, token: str) -> web.Application:
    """The admin API, guarded (:func:`controlplane.httpserver.admin_guard`) by ``token``."""
    app = web.Application(middlewares=[error_middleware, admin_guard])
    app[BACKEND] = backend
    app[ADMIN_TOKEN] = token
    app.add_routes(admin.routes)
    if backend.fleet is not None:
        backend.fleet.add_admin_routes(app)
    return app
