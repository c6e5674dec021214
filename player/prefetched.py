"""A start fetched ahead of Play (:mod:`player.prefetch`), as the session adopts it.

:class:`PrefetchedStart` holds what Play needs up to the first segments at the start rung: the
playback answer (or a plain URL's stand-in), the keys, and the HTTP answers the engine will ask
for first (the multivariant and media playlists, the init segment, the first segments), as
they came off the wire. ``PlaybackSession(..., playback=prefetched)`` adopts it when it is for
the same title (or URL) and still fresh: the answer replaces ``POST /v1/playback``, the keys
replace the key requests, and the session's HTTP client answers each stored request once from
memory (:class:`ReplayTransport`) over the prefetch's own connection pool, whose keep-alive
connections to the edge are already open. Anything else (a stale prefetch, another title) is
dropped and the start is cold: never an error.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import httpx

from player.api.models import Playback
from player.presentation import Multivariant

log = logging.getLogger("player.prefetch")

RequestKey = tuple[str, str]
"""(URL, the ``Range`` header or ""): one stored answer."""


@dataclass(frozen=True)
class StoredResponse:
    status_code: int
    headers: tuple[tuple[bytes, bytes], ...]
    body: bytes


def request_key(request: httpx.Request) -> RequestKey:
    return str(request.url), request.headers.get("range", "")


class RecordingTransport(httpx.AsyncBaseTransport):
    """Forwards to ``inner`` and keeps every successful GET's answer (whole body, raw bytes)
    until ``max_bytes`` are held; the prefetch's client uses it."""

    def __init__(self, inner: httpx.AsyncBaseTransport, max_bytes: int) -> None:
        self.inner = inner
        self.max_bytes = max_bytes
        self.stored: dict[RequestKey, StoredResponse] = {}
        self.held_bytes = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self.inner.handle_async_request(request)
        if request.method != "GET" or response.status_code >= 300:
            return response
        try:
            body = await response.aread()
        finally:
            await response.aclose()
        if self.held_bytes + len(body) <= self.max_bytes:
            self.stored[request_key(request)] = StoredResponse(
                response.status_code, tuple(response.headers.raw), body)
            self.held_bytes += len(body)
        return httpx.Response(response.status_code, headers=response.headers.raw,
                              content=body, extensions=response.extensions)

    async def aclose(self) -> None:
        await self.inner.aclose()


class ReplayTransport(httpx.AsyncBaseTransport):
    """Answers each stored request once from memory (then forgets it), everything else
    through ``inner``; the adopting session's client uses it and owns ``inner``."""

    def __init__(self, inner: httpx.AsyncBaseTransport,
                 stored: dict[RequestKey, StoredResponse]) -> None:
        self.inner = inner
        self._stored = dict(stored)
        self.replayed: list[str] = []
        """The URLs answered from the prefetch, in order."""

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        stored = self._stored.pop(request_key(request), None) if request.method == "GET" \
            else None
        if stored is None:
            return await self.inner.handle_async_request(request)
        self.replayed.append(str(request.url))
        return httpx.Response(stored.status_code, headers=list(stored.headers),
                              content=stored.body)

    async def aclose(self) -> None:
        self._stored.clear()
        await self.inner.aclose()


@dataclass
class PrefetchedStart:
    """What Play needs, fetched ahead for one title (``title_id``, ``profile_id``) or one
    plain URL (``url``); :meth:`usable_for` says whether a session may adopt it."""

    title_id: str
    profile_id: str
    url: str | None
    playback: Playback
    transport: httpx.AsyncBaseTransport
    """The prefetch's connection pool (warm connections); whoever ends up with it closes it:
    the adopting session (through its client), else :meth:`aclose`."""
    stored: dict[RequestKey, StoredResponse] = field(default_factory=dict)
    keys: dict[str, bytes] = field(default_factory=dict)
    """Key URI (the license URL, or an EXT-X-KEY URI) → the 16-byte key."""
    rung: int = 0
    """The start rung the segments were fetched at."""
    multivariant: Multivariant | None = None
    """``playback``'s manifest, parsed (the session adopts it rather than parse it again)."""
    created_s: float = 0.0
    max_age_s: float = 60.0
    expiry_margin_s: float = 15.0
    clock: Callable[[], float] = time.monotonic
    wall_clock: Callable[[], float] = time.time
    adopted: bool = False
    closed: bool = False

    @property
    def held_bytes(self) -> int:
        return sum(len(s.body) for s in self.stored.values())

    def stale_reason(self) -> str | None:
        """Why it may no longer be used (too old; the playback answer's signed URLs or
        session about to expire; already used or dropped), None when fresh."""
        if self.adopted or self.closed:
            return "already used or dropped"
        age_s = self.clock() - self.created_s
        if age_s > self.max_age_s:
            return f"{age_s:.0f} s old (at most {self.max_age_s:g} s)"
        expires = self.playback.expires_at
        if expires is not None and expires - self.wall_clock() < self.expiry_margin_s:
            return "its playback answer expires"
        return None

    def usable_for(self, title_id: str, profile_id: str, url: str | None) -> str | None:
        """None when a session for this title (or URL) may adopt it, else why not."""
        if self.url is not None or url is not None:
            if self.url != url:
                return f"it is for {self.url or self.title_id}, not {url or title_id}"
        elif (self.title_id, self.profile_id) != (title_id, profile_id):
            return f"it is for title {self.title_id}, not {title_id}"
        return self.stale_reason()

    def adopt(self) -> ReplayTransport:
        """The session's transport: the stored answers once each, then the warm pool."""
        self.adopted = True
        return ReplayTransport(self.transport, self.stored)

    def key_source(self, fallback: Callable[[str], Awaitable[bytes]]
                   ) -> Callable[[str], Awaitable[bytes]]:
        keys = dict(self.keys)

        async def key(uri: str) -> bytes:
            found = keys.pop(uri, None)
            return found if found is not None else await fallback(uri)
        return key

    async def aclose(self) -> None:
        """Drop it (unused): the stored bytes and the connections."""
        if self.closed:
            return
        self.closed = True
        self.stored.clear()
        self.keys.clear()
        if not self.adopted:
            await self.transport.aclose()
