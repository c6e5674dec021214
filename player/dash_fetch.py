"""Fetching a DASH ``SegmentBase``'s index range (:func:`index_fetcher`): bounded in size and
time, cut from the body of a server that ignores ``Range``."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import httpx

from player.bounded import InputTooLarge
from player.errors import ManifestError

FetchRange = Callable[[str, tuple[int, int]], Awaitable[bytes]]
"""``fetch_range(url, (offset, length))``: those bytes of ``url`` (a SegmentBase's index)."""


def index_fetcher(http: httpx.AsyncClient, *, max_bytes: int = 4 * 1024 * 1024,
                  deadline_s: float = 30.0) -> FetchRange:
    """A :data:`FetchRange` over ``http``: a 206 is the range; a 200 (a server that ignores
    Range) is read only up to the range's end. Transport errors, a status of 400 or more, an
    index over ``max_bytes`` or slower than ``deadline_s`` are :class:`ManifestError`."""
    async def fetch(url: str, byterange: tuple[int, int]) -> bytes:
        first, length = byterange
        if length > max_bytes:
            raise InputTooLarge(f"The segment index at {url} is {length} bytes, over the "
                                f"{max_bytes} limit.")
        headers = {"Range": f"bytes={first}-{first + length - 1}",
                   "Accept-Encoding": "identity"}
        body = bytearray()
        try:
            async with asyncio.timeout(deadline_s):
                async with http.stream("GET", url, headers=headers) as response:
                    if response.status_code >= 400:
                        raise ManifestError(f"The segment index at {url} answered HTTP "
                                            f"{response.status_code}.")
                    want = length if response.status_code == 206 else first + length
                    async for chunk in response.aiter_bytes():
                        body += chunk
                        if len(body) >= want:
                            break
        except httpx.HTTPError as exc:
            raise ManifestError(f"The segment index at {url} could not be fetched "
                                f"({type(exc).__name__}).") from None
        except TimeoutError:
            raise ManifestError(f"The segment index at {url} did not arrive within "
                                f"{deadline_s:g} s.") from None
        return bytes(body[:length] if response.status_code == 206
                     else body[first:first + length])
    return fetch
