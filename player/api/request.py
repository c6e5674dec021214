"""One control-plane request: retries with back-off, server time, and typed errors.

Retry rule (logged on ``net``, one line per decision):

- a connect error, connect timeout or pool timeout means the request never reached the server:
  retried for every method;
- a read/write timeout, a dropped connection or a 502/503/504 answer may come after the server
  acted: retried only for idempotent requests (GET, HEAD, PUT, DELETE, and the POSTs the
  protocol makes idempotent, which the caller flags);
- after the last try a transport failure or 502/503/504 becomes :class:`NetworkError` naming the
  URL; any other status is handed back to the caller, which maps it with :func:`error_for`.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Awaitable, Callable, Mapping
from typing import Any
from urllib.parse import urlsplit

import httpx

from player.api.retry import IDEMPOTENT_METHODS, RETRYABLE_STATUS, RetryPolicy
from player.errors import (
    ENTITLEMENT_CODES,
    AuthError,
    ConflictError,
    EntitlementError,
    NetworkError,
    NotFoundError,
    PlayerError,
    RequestError,
    ServerError,
)

log = logging.getLogger("net")

_NEVER_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)
SIGN_IN_AGAIN = "Your session has ended. Please sign in again."


def label(method: str, url: str) -> str:
    """``"GET /v1/profiles"``: what a log line or an error names (no host, no query)."""
    return f"{method} {urlsplit(url).path or '/'}"


def server_error_body(response: httpx.Response) -> tuple[str | None, str | None]:
    """The protocol's ``(error, message)`` of an error answer, when it has them."""
    try:
        body = response.json()
    except ValueError:
        return None, None
    if not isinstance(body, dict):
        return None, None
    code, message = body.get("error"), body.get("message")
    return (code if isinstance(code, str) else None,
            message if isinstance(message, str) and message else None)


def error_for(response: httpx.Response, method: str) -> PlayerError:
    """The typed error for a non-2xx answer (after retries and token refresh)."""
    status = response.status_code
    code, server_message = server_error_body(response)
    request = label(method, str(response.request.url))
    message = server_message or f"The server answered {status} to {request}."
    kw: dict[str, Any] = {"server_code": code, "status": status, "request": request}
    if status == 401:
        if code in {"token_expired", "invalid_token", "missing_token"}:
            return AuthError(SIGN_IN_AGAIN, **kw)
        return AuthError(message, **kw)
    if status == 403 and code in ENTITLEMENT_CODES:
        return EntitlementError(message, code=code, **kw)
    if status in (404, 410):
        return NotFoundError(message, **kw)
    if status == 409:
        return ConflictError(message, **kw)
    if status in RETRYABLE_STATUS:
        return NetworkError(f"The service is unavailable right now ({message})",
                            url=str(response.request.url), **kw)
    if 400 <= status < 500:
        return RequestError(message, **kw)
    return ServerError(message, **kw)


class Requester:
    """Sends one logical request, retrying as the module docstring says."""

    def __init__(self, http: httpx.AsyncClient, policy: RetryPolicy,
                 sleep: Callable[[float], Awaitable[None]], rng: random.Random) -> None:
        self.http = http
        self.policy = policy
        self.sleep = sleep
        self.rng = rng
        self.last_server_time: float | None = None
        """``X-Server-Time`` of the latest answer (Unix seconds, the server's clock)."""

    def _note_time(self, response: httpx.Response) -> None:
        value = response.headers.get("x-server-time")
        if value is None:
            return
        try:
            self.last_server_time = float(value)
        except ValueError:
            log.warning("ignoring a malformed X-Server-Time %r", value[:40])

    async def send(self, method: str, url: str, *, json: Any = None,
                   params: Mapping[str, str] | None = None,
                   headers: Mapping[str, str] | None = None,
                   idempotent: bool | None = None) -> httpx.Response:
        """The final answer (any status but an exhausted 502/503/504), or :class:`NetworkError`."""
        what = label(method, url)
        safe = method in IDEMPOTENT_METHODS if idempotent is None else idempotent
        attempts = max(1, self.policy.attempts)
        for attempt in range(1, attempts + 1):
            last = attempt == attempts
            try:
                response = await self.http.request(method, url, json=json, params=params,
                                                   headers=headers)
            except httpx.TransportError as exc:
                retry = isinstance(exc, _NEVER_SENT) or (
                    safe and isinstance(exc, httpx.TimeoutException | httpx.NetworkError
                                        | httpx.RemoteProtocolError))
                cause = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
                if not retry or last:
                    log.warning("%s failed (%s) after %d tries: giving up", what, cause, attempt)
                    raise NetworkError(
                        f"Cannot reach the service at {url} ({cause}).", url=url, request=what,
                    ) from exc
                await self._back_off(what, cause, attempt)
                continue
            self._note_time(response)
            if response.status_code in RETRYABLE_STATUS and safe and not last:
                await self._back_off(what, f"status {response.status_code}", attempt)
                continue
            if response.status_code in RETRYABLE_STATUS:
                log.warning("%s answered %d after %d tries: giving up", what,
                            response.status_code, attempt)
            return response
        raise AssertionError("unreachable")  # pragma: no cover

    async def _back_off(self, what: str, cause: str, attempt: int) -> None:
        delay_s = self.policy.delay_s(attempt, self.rng)
        log.info("%s failed (%s): retry %d/%d in %.2f s", what, cause, attempt + 1,
                 self.policy.attempts, delay_s)
        await self.sleep(delay_s)
