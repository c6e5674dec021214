"""Signed edge URLs.

The control plane hands out edge URLs of the form::

    http://EDGE/v1/media/{token}/{title_id}/{path}

where ``token`` is ``{expiry}-{mac}``: ``expiry`` is a Unix time in whole seconds and ``mac`` the
first 32 hex digits of HMAC-SHA256(secret, "{title_id}:{expiry}"). A token therefore grants one
title (every rendition, subtitle and thumbnail of it, like a CDN path ACL) until it expires.
The token sits in the path rather than the query so that the relative segment URIs inside a media
playlist inherit it.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from enum import Enum

from controlplane.clock import Clock


class TokenCheck(Enum):
    OK = "ok"
    MALFORMED = "malformed_token"
    BAD_SIGNATURE = "bad_signature"
    EXPIRED = "url_expired"


@dataclass(frozen=True)
class UrlSigner:
    secret: bytes
    clock: Clock
    ttl_s: int = 600
    """How long a signed URL stays valid, in seconds (default 600)."""

    def _mac(self, title_id: str, expiry: int) -> str:
        msg = f"{title_id}:{expiry}".encode()
        return hmac.new(self.secret, msg, hashlib.sha256).hexdigest()[:32]

    def token(self, title_id: str, ttl_s: int | None = None) -> str:
        expiry = int(self.clock.now()) + (self.ttl_s if ttl_s is None else ttl_s)
        return f"{expiry}-{self._mac(title_id, expiry)}"

    def check(self, token: str, title_id: str) -> TokenCheck:
        expiry_text, sep, mac = token.partition("-")
        if not sep or not expiry_text.isdigit() or len(mac) != 32:
            return TokenCheck.MALFORMED
        expiry = int(expiry_text)
        if not hmac.compare_digest(mac, self._mac(title_id, expiry)):
            return TokenCheck.BAD_SIGNATURE
        if expiry < self.clock.now():
            return TokenCheck.EXPIRED
        return TokenCheck.OK
