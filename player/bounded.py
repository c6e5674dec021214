"""Bounded reads of small documents (playlists, steering manifests, keys) from servers we do not
control.

A server may stream a playlist that never ends, drip it a byte at a time, or send one too big to
hold: :func:`get_bounded` reads at most ``max_bytes`` within ``deadline_s`` and raises
:class:`InputTooLarge` (a :class:`~player.errors.ManifestError`) otherwise, so memory stays
bounded whatever the server does. :func:`check_segment_count` refuses a media playlist with more
segments than the engine keeps in memory, before it is parsed (about 0.7 KB per parsed segment).
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from typing import Any

import httpx

from player.errors import ManifestError


class InputTooLarge(ManifestError):
    """A document over a size, time or segment-count limit."""


@dataclass(frozen=True)
class BoundedResponse:
    status_code: int
    headers: httpx.Headers
    content: bytes
    url: str = ""
    """Where the body came from (after redirects, when they were followed)."""

    @property
    def text(self) -> str:
        return self.content.decode("utf-8", errors="replace")

    def json(self) -> Any:
        """The body as JSON (``ValueError`` if it is not)."""
        return json.loads(self.content)


def _mib(n: int) -> str:
    return f"{n / 1048576:.1f} MiB" if n >= 1048576 else f"{n} bytes"


async def get_bounded(http: httpx.AsyncClient, url: str, *, max_bytes: int, deadline_s: float,
                      what: str = "playlist", headers_timeout_s: float | None = None,
                      timeout: float | None = None,
                      follow_redirects: bool = False) -> BoundedResponse:
    """GET ``url`` and read its body, at most ``max_bytes`` of it within ``deadline_s`` (from the
    request to the last byte). Raises :class:`InputTooLarge` naming the limit; transport errors
    and :class:`TimeoutError` for no response headers within ``headers_timeout_s`` (default:
    the deadline) propagate (the caller maps them). ``timeout``: httpx's per-read timeout;
    ``follow_redirects``: httpx's (the response's ``url`` is then the last one)."""
    received = bytearray()
    headers_seen = False
    loop = asyncio.get_running_loop()
    end = loop.time() + deadline_s
    first = min(deadline_s, headers_timeout_s) if headers_timeout_s is not None else deadline_s
    try:
        async with asyncio.timeout(first) as limit:
            options: dict[str, Any] = {"follow_redirects": True} if follow_redirects else {}
            if timeout is not None:
                options["timeout"] = timeout
            request = http.stream("GET", url, **options)
            async with request as response:
                headers_seen = True
                limit.reschedule(end)
                length = response.headers.get("Content-Length", "")
                if response.status_code < 400 and length.isdigit() and int(length) > max_bytes:
                    raise InputTooLarge(
                        f"The {what} at {url} is {_mib(int(length))}, over the "
                        f"{_mib(max_bytes)} limit.")
                async for chunk in response.aiter_bytes():
                    received += chunk
                    if len(received) > max_bytes:
                        raise InputTooLarge(
                            f"The {what} at {url} is over the {_mib(max_bytes)} limit: the "
                            "server sent more and did not stop (a playlist that never ends, "
                            "or one too large to play).")
                return BoundedResponse(response.status_code, response.headers, bytes(received),
                                       str(response.url))
    except TimeoutError:
        if not headers_seen:
            raise
        raise InputTooLarge(
            f"The {what} at {url} did not arrive within {deadline_s:g} s ({_mib(len(received))} "
            "received): the server keeps sending it too slowly, or it never ends.") from None


def check_segment_count(text: str, url: str, max_segments: int) -> None:
    """Refuse a media playlist listing more than ``max_segments`` segments (counted as EXTINF
    tags, before parsing, so an oversized one never reaches memory as objects)."""
    count = text.count("#EXTINF")
    if count > max_segments:
        raise InputTooLarge(f"The media playlist at {url} lists {count} segments, over the "
                            f"{max_segments} limit.")
