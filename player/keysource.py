"""Where CENC content keys come from: a key per KID (docs/engine.md, *CENC*).

- :class:`StaticKeys`: ClearKey keys given as ``KID:KEY`` hex pairs (``edgeplay play URL
  --key KID:KEY``, :func:`parse_key_pair`).
- :class:`ClearKeyLicense`: a W3C EME ClearKey licence request to a URL — ``POST``
  ``{"kids": [base64url…], "type": "temporary"}``, answered with ``{"keys": [{"kty": "oct",
  "kid": base64url, "k": base64url}]}`` — the HLS ``EXT-X-KEY`` URI with the ClearKey
  ``KEYFORMAT``, a DASH ClearKey ``laurl``, later the control plane's key endpoint. A ``data:``
  URI carrying that JSON answer is read in place.

:class:`CencKeys` asks them in order (given keys first), caches every key it learns and shares
one request per licence URL between concurrent segments. A KID no source knows is left out; the
fragment then fails with a :class:`~player.errors.LicenseError` that names it.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import json
import string
import urllib.parse
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from typing import Any, Protocol

import httpx

from player.errors import LicenseError

CLEARKEY_KEYFORMAT = "urn:uuid:e2719d58-a985-b3c9-781a-b030af78d30e"
"""The HLS ``KEYFORMAT`` (and DASH scheme) of W3C ClearKey."""

Post = Callable[[str, bytes], Awaitable[bytes]]
"""POST a JSON body to a URL, return the answer's body (:class:`LicenseError` on failure)."""


class KeySource(Protocol):
    async def keys_for(self, kids: Sequence[bytes]) -> dict[bytes, bytes]:
        """The keys this source has for ``kids`` (KID → 16-byte key), maybe not all."""
        ...


def parse_key_pair(text: str) -> tuple[bytes, bytes]:
    """``KID:KEY`` (32 hex digits each; dashes in a UUID-style KID allowed) → (kid, key);
    :class:`ValueError` with a message a person can act on."""
    kid_s, sep, key_s = text.strip().partition(":")
    kid_s = kid_s.replace("-", "")
    for name, value in (("KID", kid_s), ("KEY", key_s)):
        if not sep or len(value) != 32 or not all(c in string.hexdigits for c in value):
            raise ValueError(f"{text!r} is not KID:KEY ({name} must be 32 hex digits).")
    return bytes.fromhex(kid_s), bytes.fromhex(key_s)


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def licence_request(kids: Iterable[bytes]) -> bytes:
    """The EME ClearKey licence request body for ``kids``."""
    return json.dumps({"kids": [b64url(k) for k in kids], "type": "temporary"}).encode()


def parse_licence(body: bytes, where: str) -> dict[bytes, bytes]:
    """The keys of an EME ClearKey licence (JWK set); :class:`LicenseError` if it is none."""
    try:
        raw = json.loads(body)
        keys = raw["keys"]
        out = {}
        for jwk in keys:
            if jwk.get("kty", "oct") != "oct":
                continue
            kid, key = _unb64url(jwk["kid"]), _unb64url(jwk["k"])
            if len(kid) != 16 or len(key) != 16:
                raise ValueError
            out[kid] = key
    except (ValueError, KeyError, TypeError, AttributeError, binascii.Error):
        raise LicenseError(f"The ClearKey licence from {where} is not a JSON Web Key set of "
                           "16-byte keys.") from None
    return out


class StaticKeys:
    """Keys known up front (``--key KID:KEY``)."""

    def __init__(self, keys: Mapping[bytes, bytes] | Iterable[tuple[bytes, bytes]]) -> None:
        self.keys = dict(keys)

    async def keys_for(self, kids: Sequence[bytes]) -> dict[bytes, bytes]:
        return {k: self.keys[k] for k in kids if k in self.keys}


class ClearKeyLicense:
    """An EME ClearKey licence server (or a ``data:`` URI holding its answer)."""

    def __init__(self, url: str, post: Post) -> None:
        self.url = url
        self._post = post

    async def keys_for(self, kids: Sequence[bytes]) -> dict[bytes, bytes]:
        if self.url.startswith("data:"):
            head, _, payload = self.url.partition(",")
            body = (base64.b64decode(payload) if head.endswith(";base64")
                    else urllib.parse.unquote(payload).encode())
            return parse_licence(body, "the playlist's data: URI")
        host = urllib.parse.urlsplit(self.url).netloc or self.url
        return parse_licence(await self._post(self.url, licence_request(kids)), host)


class CencKeys:
    """The session's CENC keys: given keys, then licences, each key learnt once."""

    def __init__(self, given: Mapping[bytes, bytes] | None = None,
                 post: Post | None = None) -> None:
        self._keys: dict[bytes, bytes] = dict(given or {})
        self._post = post
        self._pending: dict[str, asyncio.Future[dict[bytes, bytes]]] = {}
        self._verdicts: dict[bytes, bool] = {}
        """KID → its key passed (True) or failed (False) a strong plaintext check."""
        self._waiters: dict[bytes, asyncio.Future[bool]] = {}
        self._unverifiable: set[bytes] = set()
        """KIDs whose wait for a verdict timed out: not waited for again."""

    def confirm(self, kid: bytes, ok: bool) -> None:
        """A strong check's verdict on ``kid``'s key (:data:`player.cenc.Verdict`); the first
        failure sticks."""
        if self._verdicts.get(kid) is False:
            return
        self._verdicts[kid] = ok
        waiter = self._waiters.pop(kid, None)
        if waiter is not None and not waiter.done():
            waiter.set_result(ok)

    def give_up(self, kids: Sequence[bytes]) -> None:
        """Nothing will verify ``kids``: they are not waited for (:meth:`verified` True unless
        one failed)."""
        self._unverifiable.update(kids)

    def verified(self, kids: Sequence[bytes]) -> bool | None:
        """False if a key of ``kids`` failed a check; True if every one passed one or is not
        waited for any more; None: not known yet."""
        if any(self._verdicts.get(k) is False for k in kids):
            return False
        if all(self._verdicts.get(k) or k in self._unverifiable for k in kids):
            return True
        return None

    async def wait_verified(self, kids: Sequence[bytes], timeout_s: float,
                            until: asyncio.Future[None] | None = None) -> bool | None:
        """:meth:`verified`, waiting up to ``timeout_s`` for the verdicts, or until ``until``
        (what could verify them) is done. None: no verdict came; the KIDs are then not waited
        for again."""
        state = self.verified(kids)
        if state is not None:
            return state
        loop = asyncio.get_running_loop()
        waits: list[asyncio.Future[Any]] = [
            asyncio.ensure_future(asyncio.shield(self._waiters.setdefault(k, loop.create_future())))
            for k in kids if k not in self._verdicts and k not in self._unverifiable]
        stop = asyncio.ensure_future(asyncio.shield(until)) if until is not None else None
        try:
            pending = set(waits)
            async with asyncio.timeout(timeout_s):
                while pending:
                    done, pending = await asyncio.wait(
                        pending | ({stop} if stop is not None else set()),
                        return_when=asyncio.FIRST_COMPLETED)
                    if any(f in done and f.result() is False for f in waits):
                        return False
                    if stop is not None and stop in done:
                        pending.discard(stop)
                        break
        except TimeoutError:
            pass
        finally:
            for f in [*waits, *([stop] if stop is not None else [])]:
                f.cancel()
        state = self.verified(kids)
        if state is None:
            self._unverifiable.update(kids)
        return state

    def cached(self, kids: Sequence[bytes]) -> dict[bytes, bytes] | None:
        """The keys for ``kids`` if every one is known, else None."""
        if all(k in self._keys for k in kids):
            return {k: self._keys[k] for k in kids}
        return None

    async def get(self, kids: Sequence[bytes], licence_url: str | None = None,
                  raw_key: Callable[[], Awaitable[bytes]] | None = None) -> dict[bytes, bytes]:
        """The keys for ``kids``: known ones, else from the ClearKey ``licence_url``, else
        ``raw_key`` (an identity key URI: one key for every KID). Missing KIDs are left out."""
        missing = [k for k in kids if k not in self._keys]
        if missing and licence_url is not None:
            if self._post is None and not licence_url.startswith("data:"):
                raise LicenseError("This session cannot request ClearKey licences.")
            self._keys.update(await self._licence(licence_url, missing))
            missing = [k for k in kids if k not in self._keys]
        if missing and raw_key is not None:
            key = await raw_key()
            self._keys.update({k: key for k in missing})
        return {k: self._keys[k] for k in kids if k in self._keys}

    async def _licence(self, url: str, kids: Sequence[bytes]) -> dict[bytes, bytes]:
        pending = self._pending.get(url)
        if pending is not None:
            return await asyncio.shield(pending)
        future: asyncio.Future[dict[bytes, bytes]] = \
            asyncio.get_running_loop().create_future()
        self._pending[url] = future
        try:
            assert self._post is not None or url.startswith("data:")
            keys = await ClearKeyLicense(url, self._post or _no_post).keys_for(kids)
        except asyncio.CancelledError:
            future.cancel()
            raise
        except BaseException as exc:
            future.set_exception(exc)
            future.exception()
            raise
        finally:
            del self._pending[url]
        future.set_result(keys)
        return keys


MAX_LICENCE_BYTES = 64 * 1024
"""A ClearKey licence is a few hundred bytes; more is not one."""


def licence_poster(http: httpx.AsyncClient, timeout_s: float = 10.0,
                   headers: Mapping[str, str] | None = None) -> Post:
    """A :data:`Post` over ``http`` (JSON body, answer bounded to :data:`MAX_LICENCE_BYTES`);
    :class:`LicenseError` for a refused, failed or oversized answer."""

    async def post(url: str, body: bytes) -> bytes:
        host = urllib.parse.urlsplit(url).netloc or url
        try:
            async with http.stream("POST", url, content=body, timeout=timeout_s,
                                   headers={"Content-Type": "application/json",
                                            **(headers or {})}) as response:
                if response.status_code >= 400:
                    raise LicenseError(f"The ClearKey licence server at {host} answered HTTP "
                                       f"{response.status_code}.", status=response.status_code)
                data = bytearray()
                async for chunk in response.aiter_bytes():
                    data += chunk
                    if len(data) > MAX_LICENCE_BYTES:
                        raise LicenseError(f"The ClearKey licence from {host} is larger than "
                                           f"{MAX_LICENCE_BYTES} bytes.")
                return bytes(data)
        except httpx.HTTPError as exc:
            raise LicenseError(f"The ClearKey licence server at {host} could not be reached "
                               f"({type(exc).__name__}).") from None

    return post


async def _no_post(url: str, body: bytes) -> bytes:
    raise LicenseError(f"No way to request the licence at {url}.")
