"""How the control plane listens: JSON errors even where aiohttp answers before the app, and the
admin API's guard.

- :class:`JsonErrorRunner`: requests aiohttp rejects while parsing them (a header over 8190
  bytes, a malformed request line) get the project's ``{"error", "message"}`` body, not
  aiohttp's plain text, and no traceback in the log.
- :func:`admin_guard`: the admin API changes server time and injects faults, so it answers only
  requests that name a loopback ``Host`` (a web page reaching it by DNS rebinding names its own
  host), carry the token printed in the ready line (``Authorization: Bearer <admin_token>``),
  and send their bodies as ``Content-Type: application/json`` (which a page cannot send
  cross-origin without a preflight).
"""

from __future__ import annotations

import hmac
import json
import logging
from collections.abc import Awaitable, Callable

from aiohttp import web
from aiohttp.web_protocol import RequestHandler
from aiohttp.web_request import BaseRequest

from controlplane.errors import ApiError

log = logging.getLogger("controlplane")

LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "[::1]", "::1")
ADMIN_TOKEN = web.AppKey("admin_token", str)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

_CODES = {400: "bad_request", 413: "too_large", 414: "uri_too_long",
          431: "headers_too_large"}


class _JsonErrorHandler(RequestHandler):
    def handle_error(self, request: BaseRequest, status: int = 500,
                     exc: BaseException | None = None,
                     message: str | None = None) -> web.StreamResponse:
        if status >= 500:
            log.error("error handling a request: %r", exc)
        else:
            log.info("rejected a malformed request (%d): %s", status, exc)
        if request.writer.output_size > 0:
            raise ConnectionError("the answer was under way; cannot send an error")
        reason = str(getattr(exc, "message", "") or exc or message or "malformed request")
        text = (reason.splitlines() or ["malformed request"])[0][:200]
        body = {"error": _CODES.get(status, "internal" if status >= 500 else "bad_request"),
                "message": f"the request could not be read: {text}"}
        response = web.Response(status=status, text=json.dumps(body),
                                content_type="application/json")
        response.force_close()
        return response


class _JsonErrorServer(web.Server):
    def __call__(self) -> RequestHandler:
        return _JsonErrorHandler(self, loop=self._loop, **self._kwargs)


class JsonErrorRunner(web.AppRunner):
    """A :class:`web.AppRunner` whose protocol-level errors are JSON."""

    async def _make_server(self) -> web.Server:
        server = await super()._make_server()
        server.__class__ = _JsonErrorServer
        return server


def _host_name(host: str) -> str:
    if host.startswith("["):
        return host[:host.find("]") + 1] if "]" in host else host
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


@web.middleware
async def admin_guard(request: web.Request, handler: Handler) -> web.StreamResponse:
    if _host_name(request.host or "").lower() not in LOOPBACK_HOSTS:
        raise ApiError(403, "bad_host", "the admin API answers only loopback host names "
                       "(127.0.0.1, localhost, [::1])")
    token = request.app[ADMIN_TOKEN]
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(given.strip().encode(),
                                                            token.encode()):
        raise ApiError(401, "admin_token", "the admin API needs Authorization: Bearer "
                       "<admin_token> (the token in the control plane's ready line)")
    if request.method in ("POST", "PUT", "PATCH") and request.content_type != "application/json":
        raise ApiError(415, "unsupported_media_type",
                       "admin requests send their body as Content-Type: application/json")
    return await handler(request)

