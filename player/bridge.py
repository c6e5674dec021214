"""The bridge to mpv: a loopback HLS media playlist answered from the engine's buffer.

mpv is only the decoder. It plays ``http://127.0.0.1:{port}/{token}/media.m3u8``, a VOD playlist
with one entry per segment position; each ``seg/{k}.ts`` request tells the source where mpv is
reading (``on_request``) and waits for ``source.segment(k)``: plaintext TS from whichever rendition
the ABR picked, already decrypted, never written to disk. Renditions share aligned closed GOPs and
timestamps, so a switch is just different bytes at the next position.

**Progressive delivery.** When the source also has ``stream(k)``
(:class:`~player.segments.StreamingSegmentSource`: the scheduler does), a ``GET`` is answered
as soon as the segment's length is known, with ``Content-Length`` (plaintext length, derived
from the ciphertext's), and its bytes follow as the engine validates them. If a stream cannot be
completed as announced the connection is closed mid-body (ffmpeg then skips the rest of that
segment; a dead stream also ends the bridge's stream as below).

The bridge runs on the engine's asyncio loop. A failing source ends the stream: that request and
every later segment request get 503 at once (mpv never hangs on it), ``error`` holds the exception
and ``on_error`` is called once, so the engine can stop mpv and say why.
"""

from __future__ import annotations

import asyncio
import logging
import math
import re
import secrets
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence

from player.http_loopback import ClientGone, HttpLimits, LoopbackHttpServer, Request, Response
from player.segments import SegmentSource, SegmentSourceError, SegmentStream

log = logging.getLogger("player.mpv.bridge")

PLAYLIST_TYPE = "application/vnd.apple.mpegurl"
SEGMENT_TYPE = "video/mp2t"
_SEGMENT_PATH = re.compile(r"seg/(0|[1-9][0-9]{0,8})\.(ts|m4s|aac)")
EXTENSIONS = {"ts": "ts", "fmp4": "m4s", "packed": "aac"}
"""The segment URI extension per container (ffmpeg probes the bytes; the name only helps)."""
CONTENT_TYPES = {"ts": SEGMENT_TYPE, "fmp4": "video/iso.segment", "packed": "audio/aac"}
INIT_PATH = "init.mp4"


def media_playlist(durations_s: Sequence[float], container: str = "ts") -> str:
    """The VOD media playlist for segments of ``durations_s`` (URIs ``seg/{k}.ts``, ``.m4s``
    for fragmented MP4 with one ``EXT-X-MAP`` (``init.mp4``), ``.aac`` for packed audio; no
    key). One init segment serves every rendition: each fragment carries its own parameter
    sets (:mod:`player.fmp4`)."""
    target = max((math.ceil(d) for d in durations_s), default=1)
    ext = EXTENSIONS[container]
    lines = [
        "#EXTM3U",
        f"#EXT-X-VERSION:{7 if container == 'fmp4' else 3}",
        f"#EXT-X-TARGETDURATION:{max(target, 1)}",
        "#EXT-X-MEDIA-SEQUENCE:0",
        "#EXT-X-PLAYLIST-TYPE:VOD",
    ]
    if container == "fmp4":
        lines.append(f'#EXT-X-MAP:URI="{INIT_PATH}"')
    for k, duration in enumerate(durations_s):
        lines += [f"#EXTINF:{duration:.6f},", f"seg/{k}.{ext}"]
    lines.append("#EXT-X-ENDLIST")
    return "\n".join(lines) + "\n"


class LoopbackBridge:
    """Serves ``source`` to mpv over loopback HTTP; :meth:`start` returns the playlist URL."""

    def __init__(
        self,
        source: SegmentSource,
        host: str = "127.0.0.1",
        *,
        token: str | None = None,
        on_error: Callable[[BaseException], None] | None = None,
        limits: HttpLimits | None = None,
        clock: Callable[[], float] = time.monotonic,
        on_served: Callable[[str, int], None] | None = None,
    ) -> None:
        self._source = source
        self._token = token or secrets.token_urlsafe(24)
        self._on_error = on_error
        self._on_served = on_served
        self._clock = clock
        self._server = LoopbackHttpServer(self._handle, host, limits)
        self._host = host
        self._playlist = b""
        self._container = "ts"
        self._count = 0
        self.error: BaseException | None = None
        """Why the stream ended in error, once it has."""
        self.url = ""
        self._ready: asyncio.Future[None] | None = None
        """Done once the playlist exists (an exception: it never will); made by start()."""
        self._mounts: dict[str, Callable[[str, Request, ClientGone], Awaitable[Response]]] = {}

    def mount(self, prefix: str,
              handler: Callable[[str, Request, ClientGone], Awaitable[Response]]) -> None:
        """Answer ``{token}/{prefix}/…`` with ``handler(rest, request, client)`` (the separate
        audio renditions, :mod:`player.audio`)."""
        self._mounts[prefix] = handler

    async def start(self, *, deferred: bool = False) -> str:
        """Listen on a free loopback port; returns the URL of ``media.m3u8``.

        ``deferred``: the source does not know its timeline yet (the engine starts mpv while it
        is still fetching it). Playlist requests are then held until :meth:`timeline_ready`
        (or answered 503 after :meth:`abort`), so mpv's own opening overlaps the engine's.
        :meth:`timeline_ready` may also come before this (the timeline was announced first)."""
        self._ready_future()
        if not deferred:
            self._build_playlist()
        port = await self._server.start()
        self.url = f"http://{self._host}:{port}/{self._token}/media.m3u8"
        log.debug("bridge listening on %s:%d (%d segments)", self._host, port, self._count)
        return self.url

    def _ready_future(self) -> asyncio.Future[None]:
        if self._ready is None:
            self._ready = asyncio.get_running_loop().create_future()
        return self._ready

    def _build_playlist(self) -> None:
        count = self._source.segment_count
        durations = list(self._source.segment_durations_s)
        if len(durations) != count:
            raise ValueError("segment_durations_s must have segment_count entries")
        self._container = getattr(self._source, "container", "ts")
        self._playlist = media_playlist(durations, self._container).encode("ascii")
        self._count = count
        ready = self._ready_future()
        if not ready.done():
            ready.set_result(None)

    def timeline_ready(self) -> None:
        """The source knows its timeline now: answer the held playlist requests (deferred).
        Callable before :meth:`start` too (on the loop)."""
        self._build_playlist()

    def abort(self, exc: BaseException) -> None:
        """The timeline will never come: held and later playlist requests get 503."""
        ready = self._ready_future()
        if not ready.done():
            ready.set_exception(exc)
            ready.exception()  # retrieved: no warning when nobody was waiting

    async def close(self) -> None:
        self.abort(ConnectionAbortedError("bridge closed"))
        await self._server.close()

    @property
    def idle_closed(self) -> int:
        """Keep-alive connections the bridge closed for idling, so far."""
        return self._server.idle_closed

    async def _handle(self, request: Request, client: ClientGone) -> Response:
        started = self._clock()
        response, what = await self._route(request, client)
        if self._on_served is not None:
            try:
                self._on_served(what, response.status)
            except Exception:
                log.exception("on_served callback failed")
        log.debug("%s %s %d %dB%s %.0fms%s", request.method, what, response.status,
                  response.length if response.stream is not None else len(response.body),
                  " streamed" if response.stream is not None else "",
                  (self._clock() - started) * 1000,
                  f" range={request.headers['range']}" if "range" in request.headers else "")
        return response

    async def _route(self, request: Request, client: ClientGone) -> tuple[Response, str]:
        # Compare the token in constant time; never log it, only the part after it.
        _, token, rest = [*request.target.split("/", 2), "", ""][:3]
        if not secrets.compare_digest(token.encode(), self._token.encode()):
            return Response(404), "?"
        if rest == "media.m3u8":
            if request.method not in ("GET", "HEAD"):
                return _not_allowed(), rest
            ready = self._ready
            if ready is None or not ready.done() or ready.exception() is not None:
                try:
                    if await client.wait(self._wait_ready()) is None:
                        return Response(503), rest  # mpv hung up meanwhile
                except Exception:
                    return Response(503), rest
            return Response(200, self._playlist, PLAYLIST_TYPE,
                            {"Cache-Control": "no-store"}), rest
        head, slash, tail = rest.partition("/")
        if slash and head in self._mounts:
            return await self._mounts[head](tail, request, client), rest
        if rest == INIT_PATH and self._container == "fmp4":
            return await self._init(request, client), rest
        match = _SEGMENT_PATH.fullmatch(rest)
        if match is None:
            return Response(404), "?"
        if request.method not in ("GET", "HEAD"):
            return _not_allowed(), rest
        index = int(match.group(1))
        if index >= self._count:
            return Response(404), rest
        return await self._segment(index, client, request.method), rest

    async def _segment(self, index: int, client: ClientGone, method: str) -> Response:
        if self.error is not None:
            return Response(503)
        self._source.on_request(index)
        stream_of = getattr(self._source, "stream", None)
        if method == "GET" and stream_of is not None:
            return await self._streamed(index, client, stream_of)
        try:
            data = await client.wait(self._source.segment(index))
        except Exception as exc:
            self._fail(index, exc)
            return Response(503)
        if data is None:
            log.debug("seg/%d: client went away while waiting", index)
            return Response(503)
        return Response(200, data, CONTENT_TYPES[self._container],
                        {"Cache-Control": "no-store"}, ranges=True)

    async def _init(self, request: Request, client: ClientGone) -> Response:
        """The init segment (fragmented MP4) of the rendition mpv starts with."""
        if request.method not in ("GET", "HEAD"):
            return _not_allowed()
        if self.error is not None:
            return Response(503)
        init_of = getattr(self._source, "init_segment", None)
        if init_of is None:
            return Response(404)
        try:
            data = await client.wait(init_of())
        except Exception as exc:
            self._fail(-1, exc)
            return Response(503)
        if data is None:
            return Response(503)
        return Response(200, data, "video/mp4", {"Cache-Control": "no-store"}, ranges=True)

    async def _streamed(self, index: int, client: ClientGone,
                        stream_of: Callable[[int], Awaitable[SegmentStream]]) -> Response:
        """Progressive delivery: headers as soon as the length is known, then the bytes as
        the source validates them (``Content-Length``: the plaintext length is known from the
        ciphertext's before the end, see ``player.decrypt.plaintext_length``)."""
        try:
            stream = await client.wait(stream_of(index))
        except Exception as exc:
            self._fail(index, exc)
            return Response(503)
        if stream is None:
            log.debug("seg/%d: client went away while waiting", index)
            return Response(503)
        return Response(200, content_type=CONTENT_TYPES[self._container],
                        headers={"Cache-Control": "no-store"},
                        ranges=True, stream=self._relay(index, stream), length=stream.length)

    async def _relay(self, index: int, stream: SegmentStream) -> AsyncIterator[bytes]:
        """The source's chunks; a dead stream ends the bridge's stream (``on_error``), any
        other failure only this response (the server closes the connection mid-body)."""
        try:
            async for chunk in stream.chunks:
                yield chunk
        except SegmentSourceError as exc:
            self._fail(index, exc)
            raise
        except Exception as exc:
            log.info("seg/%d: aborting mpv's request mid-body: %s", index, exc)
            raise
        finally:
            close = getattr(stream.chunks, "aclose", None)
            if close is not None:
                await close()

    async def _wait_ready(self) -> bytes:
        if self._ready is None:
            raise ConnectionAbortedError("bridge not started")
        await asyncio.shield(self._ready)
        return self._playlist

    def _fail(self, index: int, exc: Exception) -> None:
        if self.error is not None:
            return
        self.error = exc
        log.warning("seg/%d: source failed, ending the stream: %s", index, exc)
        if self._on_error is not None:
            try:
                self._on_error(exc)
            except Exception:
                log.exception("on_error callback failed")


def _not_allowed() -> Response:
    return Response(405, headers={"Allow": "GET, HEAD"})
