"""One shape for every error the control plane returns: ``{"error": code, "message": text}``."""

from __future__ import annotations

import json
import logging
import math
import re
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

log = logging.getLogger("controlplane")


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.extra = extra


def error_response(status: int, code: str, message: str, **extra: Any) -> web.Response:
    headers = {}
    if status == 401:
        headers["WWW-Authenticate"] = f'Bearer error="{code}"'
    body = {"error": code, "message": message, **extra}
    return web.json_response(body, status=status, headers=headers)


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@web.middleware
async def error_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except ApiError as exc:
        return error_response(exc.status, exc.code, exc.message, **exc.extra)
    except web.HTTPException as exc:
        if exc.status < 400 or exc.content_type == "application/json":
            raise  # redirects, and errors that already carry a JSON body
        code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status, "http_error")
        return error_response(exc.status, code, f"{request.method} {request.path}: {exc.reason}")
    except Exception:
        log.exception("unhandled error in %s %s", request.method, request.path)
        return error_response(500, "internal", "the control plane hit an internal error")


MAX_JSON_DEPTH = 32
"""Deepest nesting of arrays and objects a request body may have (docs/protocol.md)."""
MAX_SAFE_INT = 2**53
"""Integers in bodies must lie within ±2^53 (what every JSON implementation reads exactly)."""


_STRING = re.compile(r'"(?:[^"\\]|\\.)*"', re.DOTALL)
_BRACKETS = re.compile(r"[\[\]{}]")
_SURROGATE = re.compile(r"\\u[dD][89a-fA-F]")


def _depth(text: str) -> int:
    """How deeply ``text``'s arrays and objects nest (strings skipped), without recursion."""
    if text.count("[") + text.count("{") <= MAX_JSON_DEPTH:
        return 0  # cannot be too deep: the common case costs two counts
    depth = deepest = 0
    for match in _BRACKETS.finditer(_STRING.sub("", text)):
        depth += 1 if match.group() in "[{" else -1
        deepest = max(deepest, depth)
    return deepest


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def _finite(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"{text} is out of range")
    return value


def parse_json(text: str) -> Any:
    """Strict JSON: no NaN or Infinity (nor numbers that overflow to them), no nesting deeper
    than :data:`MAX_JSON_DEPTH`; ValueError says what is wrong."""
    if _depth(text) > MAX_JSON_DEPTH:
        raise ValueError(f"nested deeper than {MAX_JSON_DEPTH} levels")
    value = json.loads(text, parse_constant=_no_constant, parse_float=_finite)
    if _SURROGATE.search(text):  # \ud800 alone is valid JSON but no text: refuse it here
        try:
            json.dumps(value, ensure_ascii=False).encode("utf-8")
        except UnicodeEncodeError:
            raise ValueError("a string holds a lone UTF-16 surrogate") from None
    return value


async def json_body(request: web.Request) -> dict[str, Any]:
    """The request's JSON object, or a 400 that says what is wrong with it."""
    try:
        body = parse_json(await request.text())
    except (ValueError, UnicodeDecodeError) as exc:
        raise ApiError(400, "bad_request", f"the body is not valid JSON: {exc}") from exc
    if not isinstance(body, dict):
        raise ApiError(400, "bad_request", "the body must be a JSON object")
    return body


def field(body: dict[str, Any], name: str, kind: type, *, required: bool = True) -> Any:
    """``body[name]`` checked against ``kind``; a 400 naming the field otherwise."""
    if name not in body or body[name] is None:
        if required:
            raise ApiError(400, "bad_request", f"missing field {name!r}")
        return None
    value = body[name]
    ok = isinstance(value, kind) and not (kind in (int, float) and isinstance(value, bool))
    whole = isinstance(value, int) and not isinstance(value, bool)
    if kind is float and whole:
        ok = True
    if whole and abs(value) > MAX_SAFE_INT:
        ok = False
    elif kind is float and whole:
        value = float(value)
    if not ok:
        raise ApiError(400, "bad_request", f"field {name!r} must be {kind.__name__}"
                       + (" within ±2^53" if kind in (int, float) else ""))
    if isinstance(value, str) and required and not value.strip():
        raise ApiError(400, "bad_request", f"field {name!r} must not be empty")
    return value
