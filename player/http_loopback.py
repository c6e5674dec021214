"""A minimal HTTP/1.1 server on asyncio streams, for mpv on the same machine.

Just enough HTTP for ffmpeg's HLS demuxer: GET and HEAD, keep-alive (several requests per
connection, ``Connection: close``), single byte ranges, bounded request line and headers, and no
crash when the client goes away mid-body. Routing lives in the handler (``player.bridge``); this
module knows nothing about HLS. Nothing is written to disk.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

T = TypeVar("T")

log = logging.getLogger("player.mpv.http")

_REASONS = {
    200: "OK",
    206: "Partial Content",
    400: "Bad Request",
    404: "Not Found",
    405: "Method Not Allowed",
    408: "Request Timeout",
    414: "URI Too Long",
    416: "Range Not Satisfiable",
    431: "Request Header Fields Too Large",
    500: "Internal Server Error",
    503: "Service Unavailable",
    505: "HTTP Version Not Supported",
}


@dataclass(frozen=True)
class HttpLimits:
    """Bounds on what a client may send; every field has its unit in the name."""

    max_request_line_bytes: int = 4096
    """Longest request line (method, target, version), in bytes. Default 4096."""
    max_header_bytes: int = 16384
    """All header lines together, in bytes. Default 16 KiB."""
    max_headers: int = 64
    """Most header lines in one request. Default 64."""
    header_timeout_s: float = 10.0
    """Time to send a whole request head once it has started, in seconds. Default 10."""
    idle_timeout_s: float = 120.0
    """How long an idle keep-alive connection stays open, in seconds. Default 120."""
    disconnect_poll_s: float = 0.2
    """While a response waits, how often to check the client is still there, in s. Default 0.2."""


@dataclass(frozen=True)
class Request:
    method: str
    target: str
    """The request target without its query string, e.g. ``/token/seg/3.ts``."""
    version: str
    headers: Mapping[str, str]
    """Header names in lower case."""


@dataclass
class Response:
    status: int
    body: bytes = b""
    content_type: str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    ranges: bool = False
    """Whether a ``Range`` request may be answered with part of ``body``."""
    stream: AsyncIterator[bytes] | None = None
    """A body sent as it comes (instead of ``body``): ``length`` bytes in total, announced
    with ``Content-Length``. If it raises, or ends short, the connection is closed mid-body
    (the client sees a truncated response, never a wrong one)."""
    length: int = 0
    """Bytes ``stream`` will yield."""


Handler = Callable[[Request, "ClientGone"], Awaitable[Response]]


class _BadRequest(Exception):
    def __init__(self, status: int) -> None:
        super().__init__(status)
        self.status = status


def _retrieve(task: asyncio.Future[Any]) -> None:
    """Mark ``task``'s outcome as seen (asyncio logs an error for one nobody retrieved)."""
    if not task.cancelled():
        task.exception()


class ClientGone:
    """Lets a handler wait for something but give up when the client disconnects."""

    def __init__(self, reader: asyncio.StreamReader, poll_s: float) -> None:
        self._reader = reader
        self._poll_s = poll_s

    def gone(self) -> bool:
        return self._reader.at_eof() or self._reader.exception() is not None

    async def wait(self, awaitable: Awaitable[T]) -> T | None:
        """The result of ``awaitable``, or None (after cancelling it) if the client went away."""
        task = asyncio.ensure_future(awaitable)
        try:
            while True:
                done, _ = await asyncio.wait({task}, timeout=self._poll_s)
                if done:
                    return task.result()
                if self.gone():
                    task.cancel()
                    with contextlib.suppress(asyncio.CancelledError, Exception):
                        await task
                    return None
        finally:
            if not task.done():  # we were cancelled (the server is closing): so is the task
                task.cancel()
            # Nobody awaits the outcome if we were cancelled, even when the task had just
            # finished (with an error) in the same loop turn: retrieve it, now or when it comes.
            task.add_done_callback(_retrieve)


def parse_range(value: str, length: int) -> tuple[int, int] | None:
    """The inclusive (first, last) byte of a single ``bytes=`` range over ``length`` bytes.

    Returns None when the header should be ignored (syntax we do not honour: multiple ranges,
    other units, garbage), and raises ValueError when the range cannot be satisfied.
    """
    unit, _, spec = value.strip().partition("=")
    if unit.strip().lower() != "bytes" or "," in spec:
        return None
    first_s, sep, last_s = spec.strip().partition("-")
    if not sep or not all(part.isdigit() or part == "" for part in (first_s, last_s)):
        return None
    if first_s == "":
        if last_s == "":
            return None
        suffix = int(last_s)
        if suffix == 0 or length == 0:
            raise ValueError("empty suffix range")
        return max(0, length - suffix), length - 1
    first = int(first_s)
    if last_s and int(last_s) < first:
        return None
    if first >= length:
        raise ValueError("range starts past the end")
    last = int(last_s) if last_s else length - 1
    return first, min(last, length - 1)


def _head(status: int, headers: Mapping[str, str]) -> bytes:
    lines = [f"HTTP/1.1 {status} {_REASONS.get(status, 'Unknown')}"]
    lines += [f"{k}: {v}" for k, v in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def _wants_keep_alive(request: Request) -> bool:
    tokens = {t.strip().lower() for t in request.headers.get("connection", "").split(",")}
    if request.version == "HTTP/1.0":
        return "keep-alive" in tokens
    return "close" not in tokens


class LoopbackHttpServer:
    """Serves ``handler`` on ``host`` (a free port) until :meth:`close`."""

    def __init__(self, handler: Handler, host: str = "127.0.0.1",
                 limits: HttpLimits | None = None) -> None:
        self._handler = handler
        self._host = host
        self._limits = limits or HttpLimits()
        self._server: asyncio.Server | None = None
        self._connections: set[asyncio.Task[None]] = set()
        self.port = 0
        self.idle_closed = 0
        """Keep-alive connections closed for idling past ``idle_timeout_s`` so far."""

    async def start(self) -> int:
        """Listen on a free port of ``host``; returns the port."""
        self._server = await asyncio.start_server(
            self._serve, self._host, 0, limit=self._limits.max_request_line_bytes + 2)
        self.port = self._server.sockets[0].getsockname()[1]
        return self.port

    async def close(self) -> None:
        """Stop listening and drop every open connection."""
        if self._server is not None:
            self._server.close()
        for task in list(self._connections):
            task.cancel()
        if self._connections:
            await asyncio.gather(*self._connections, return_exceptions=True)
        if self._server is not None:
            await self._server.wait_closed()
            self._server = None

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._connections.add(task)
        try:
            await self._serve_connection(reader, writer)
        except asyncio.CancelledError:
            pass  # close(): end quietly (asyncio 3.11's stream callback would log the cancel)
        except (ConnectionError, asyncio.IncompleteReadError, TimeoutError):
            pass  # the client went away or stalled: nothing to answer
        except Exception:
            log.exception("connection failed")
        finally:
            self._connections.discard(task)
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()

    async def _serve_connection(self, reader: asyncio.StreamReader,
                                writer: asyncio.StreamWriter) -> None:
        limits = self._limits
        while True:
            try:
                async with asyncio.timeout(limits.idle_timeout_s):
                    first = await self._read_line(reader, 414)
            except TimeoutError:
                self.idle_closed += 1
                return  # idle keep-alive connection
            except _BadRequest as bad:
                await self._send(writer, "-", "-", Response(bad.status), keep_alive=False)
                return
            if first is None:
                return  # clean close between requests
            try:
                async with asyncio.timeout(limits.header_timeout_s):
                    request = await self._read_request(first, reader)
            except _BadRequest as bad:
                await self._send(writer, "-", "-", Response(bad.status), keep_alive=False)
                return
            except TimeoutError:
                await self._send(writer, "-", "-", Response(408), keep_alive=False)
                return
            keep_alive = _wants_keep_alive(request)
            try:
                response = await self._handler(request,
                                               ClientGone(reader, limits.disconnect_poll_s))
            except Exception:
                log.exception("handler failed")
                response = Response(500)
            if response.stream is not None:
                sent = await self._send_stream(writer, request, response, keep_alive=keep_alive,
                                               client=ClientGone(reader, limits.disconnect_poll_s))
                if not sent:
                    return
            elif not await self._send(writer, request.method, request.headers.get("range"),
                                      response, keep_alive=keep_alive):
                return
            if not keep_alive:
                return

    async def _read_line(self, reader: asyncio.StreamReader, too_long: int) -> bytes | None:
        try:
            line = await reader.readuntil(b"\n")
        except asyncio.IncompleteReadError as exc:
            if exc.partial:
                raise _BadRequest(400) from None
            return None
        except asyncio.LimitOverrunError:
            raise _BadRequest(too_long) from None
        return line.rstrip(b"\r\n")

    async def _read_request(self, first: bytes, reader: asyncio.StreamReader) -> Request:
        try:
            method, target, version = first.decode("ascii").split(" ")
        except (UnicodeDecodeError, ValueError):
            raise _BadRequest(400) from None
        if not method.isalpha() or not method.isupper() or not target.startswith("/"):
            raise _BadRequest(400)
        if version not in ("HTTP/1.0", "HTTP/1.1"):
            raise _BadRequest(505 if version.startswith("HTTP/") else 400)
        headers: dict[str, str] = {}
        total = count = 0
        while True:
            line = await self._read_line(reader, 431)
            if line is None:
                raise _BadRequest(400)
            if not line:
                break
            total += len(line) + 2
            count += 1
            if total > self._limits.max_header_bytes or count > self._limits.max_headers:
                raise _BadRequest(431)
            name, sep, value = line.partition(b":")
            if not sep or not name or name != name.strip():
                raise _BadRequest(400)
            try:
                key = name.decode("ascii").lower()
                text = value.decode("latin-1").strip()
            except UnicodeDecodeError:
                raise _BadRequest(400) from None
            headers[key] = f"{headers[key]}, {text}" if key in headers else text
        if "transfer-encoding" in headers or headers.get("content-length", "0") != "0":
            raise _BadRequest(400)  # no request bodies here
        path = target.split("?", 1)[0]
        return Request(method, path, version, headers)

    async def _send_stream(self, writer: asyncio.StreamWriter, request: Request,
                           response: Response, *, keep_alive: bool, client: ClientGone) -> bool:
        """Write a streamed response; False if the connection must close (it was cut short)."""
        assert response.stream is not None
        stream = response.stream
        status, length = response.status, response.length
        first, last = 0, length - 1
        headers: dict[str, str] = {}
        if response.content_type:
            headers["Content-Type"] = response.content_type
        headers.update(response.headers)
        range_header = request.headers.get("range")
        if response.ranges and status == 200:
            headers["Accept-Ranges"] = "bytes"
            if range_header is not None:
                try:
                    span = parse_range(range_header, length)
                except ValueError:
                    span = None
                    status, first, last = 416, 0, -1
                    headers["Content-Range"] = f"bytes */{length}"
                if span is not None:
                    first, last = span
                    status = 206
                    headers["Content-Range"] = f"bytes {first}-{last}/{length}"
        headers["Content-Length"] = str(last + 1 - first)
        headers["Connection"] = "keep-alive" if keep_alive else "close"
        writer.write(_head(status, headers))
        if request.method == "HEAD" or status == 416 or last < first:
            await _close_quietly(stream)
            return await self._drained(writer)
        pos = 0
        try:
            while pos <= last:
                chunk = await client.wait(anext(stream, b""))
                if not chunk:  # the client left (None), or the stream ended short (b"")
                    log.debug("streamed response cut short at byte %d of %d", pos, length)
                    return False
                lo, hi = max(first - pos, 0), min(len(chunk), last + 1 - pos)
                pos += len(chunk)
                if lo < hi:
                    writer.write(memoryview(chunk)[lo:hi])
                    if not await self._drained(writer):
                        return False
        except Exception as exc:
            log.debug("streamed response aborted at byte %d of %d: %s", pos, length, exc)
            return False
        finally:
            await _close_quietly(stream)
        return not writer.is_closing()

    @staticmethod
    async def _drained(writer: asyncio.StreamWriter) -> bool:
        try:
            await writer.drain()
        except ConnectionError:
            log.debug("client went away mid-response")
            return False
        return not writer.is_closing()

    async def _send(self, writer: asyncio.StreamWriter, method: str, range_header: str | None,
                    response: Response, *, keep_alive: bool) -> bool:
        """Write ``response``; False if the connection is unusable afterwards."""
        status, body = response.status, memoryview(response.body)
        headers: dict[str, str] = {}
        if response.content_type:
            headers["Content-Type"] = response.content_type
        headers.update(response.headers)
        if response.ranges and status == 200:
            headers["Accept-Ranges"] = "bytes"
            if range_header is not None:
                try:
                    span = parse_range(range_header, len(body))
                except ValueError:
                    status, body = 416, memoryview(b"")
                    headers["Content-Range"] = f"bytes */{len(response.body)}"
                else:
                    if span is not None:
                        first, last = span
                        status, body = 206, body[first:last + 1]
                        headers["Content-Range"] = f"bytes {first}-{last}/{len(response.body)}"
        if status >= 400 and method == "-":
            log.debug("refused a request: %d", status)
        headers["Content-Length"] = str(len(body))
        headers["Connection"] = "keep-alive" if keep_alive else "close"
        writer.write(_head(status, headers))
        if method != "HEAD" and body:
            writer.write(body)
        try:
            await writer.drain()
        except ConnectionError:
            log.debug("client went away mid-response")
            return False
        return not writer.is_closing()


async def _close_quietly(stream: AsyncIterator[bytes]) -> None:
    close = getattr(stream, "aclose", None)
    if close is not None:
        with contextlib.suppress(Exception):
            await close()
