"""The W3C EME ClearKey licence endpoint of CENC titles (docs/protocol.md, *ClearKey*).

``POST /v1/licenses/clearkey`` with the bearer token and ``{"kids": [base64url…], "type":
"temporary"}`` answers ``{"keys": [{"kty": "oct", "kid", "k"}], "type": "temporary"}`` with the
key of every requested KID, if each belongs to a title the account may play in its region and
plan (the checks of the streaming key: a kids profile's maturity limit is the playback
request's business). An unknown KID is 404 ``unknown_key``, a refused one the refusal's 403.
"""

from __future__ import annotations

import base64
import binascii

from aiohttp import web

from controlplane.api.auth import authenticate
from controlplane.api.catalog import refusal
from controlplane.backend import BACKEND, Backend
from controlplane.catalog import Title
from controlplane.errors import ApiError, field, json_body

routes = web.RouteTableDef()

MAX_KIDS = 16
"""A licence request names at most this many key IDs (a title has one)."""


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _kid(value: object) -> bytes:
    if isinstance(value, str) and 0 < len(value) <= 24:
        try:
            kid = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
        except (binascii.Error, ValueError):
            kid = b""
        if len(kid) == 16:
            return kid
    raise ApiError(400, "bad_request", "every entry of 'kids' must be a 16-byte key ID in "
                   "base64url")


def titles_by_kid(b: Backend) -> dict[bytes, list[Title]]:
    out: dict[bytes, list[Title]] = {}
    for title in b.catalog.titles.values():
        if title.cenc_kid:
            out.setdefault(bytes.fromhex(title.cenc_kid), []).append(title)
    return out


@routes.post("/v1/licenses/clearkey")
async def clearkey_licence(request: web.Request) -> web.Response:
    caller = authenticate(request)
    b = request.app[BACKEND]
    body = await json_body(request)
    unknown = set(body) - {"kids", "type"}
    if unknown:
        raise ApiError(400, "bad_request", f"unknown fields {sorted(unknown)}")
    kind = field(body, "type", str, required=False) or "temporary"
    if kind != "temporary":
        raise ApiError(400, "bad_request", "only 'temporary' ClearKey licences are issued")
    raw_kids = field(body, "kids", list)
    if not raw_kids or len(raw_kids) > MAX_KIDS:
        raise ApiError(400, "bad_request", f"'kids' must list 1 to {MAX_KIDS} key IDs")
    kids = list(dict.fromkeys(_kid(k) for k in raw_kids))
    profile = b.db.execute(
        "SELECT * FROM profiles WHERE account_id = ? ORDER BY kids LIMIT 1", (caller.account_id,)
    ).fetchone()
    index = titles_by_kid(b)
    keys = []
    for kid in kids:
        titles = index.get(kid)
        if not titles:
            raise ApiError(404, "unknown_key", f"no title has the key ID {kid.hex()}")
        reasons = [refusal(caller, profile, t) for t in titles]
        allowed = [t for t, r in zip(titles, reasons, strict=True)
                   if r is None or r.code == "maturity"]
        if not allowed:
            raise next(r for r in reasons if r is not None)
        keys.append({"kty": "oct", "kid": _b64url(kid),
                     "k": _b64url(b.catalog.content_key(allowed[0].id))})
    return web.json_response({"keys": keys, "type": "temporary"},
                             headers={"Cache-Control": "no-store"})
