"""Byte ranges done right: checking a 206's Content-Range, and one whole-file body per URL when a
server ignores the Range of a byte-range playlist.

Single-file HLS (``#EXT-X-BYTERANGE``, ffmpeg ``-hls_flags single_file``) asks for every segment
as a slice of one file. A server that ignores ``Range`` answers each request with ``200`` and the
whole file. Then the first such answer is kept: :class:`WholeFiles` adopts its open response and
downloads the body **once**, in the background, into an unnamed temporary file (on disk, so memory
stays bounded whatever the file's size); every segment of that URL is sliced from it as soon as
its bytes have arrived. Concurrent and later segments wait for the same download, never start
another. A failed download (stall, dropped connection, over ``max_bytes``) fails every waiter
with its cause (the fetcher fails over) and is forgotten, so the next attempt starts afresh.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import tempfile
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import IO

import httpx

from player.failover import Cause

log = logging.getLogger("edge")


def parse_content_range(value: str) -> tuple[int, int, int | None] | None:
    """``"bytes 10-19/100"`` → ``(10, 19, 100)`` (total None for ``*``); None if malformed."""
    unit, _, rest = value.strip().partition(" ")
    span, _, total = rest.strip().partition("/")
    first, dash, last = span.partition("-")
    if unit.lower() != "bytes" or not dash or not (first.isdigit() and last.isdigit()):
        return None
    if total != "*" and not total.isdigit():
        return None
    begin, end = int(first), int(last)
    size = None if total == "*" else int(total)
    if end < begin or (size is not None and end >= size):
        return None
    return begin, end, size


def range_mismatch(content_range: str | None, first: int, last: int | None) -> str | None:
    """Why a 206 does not answer ``bytes=first-last`` (``last`` None: open-ended), or None."""
    if content_range is None:
        return "a 206 without Content-Range"
    parsed = parse_content_range(content_range)
    if parsed is None:
        return f"a malformed Content-Range {content_range[:60]!r}"
    begin, end, _ = parsed
    if begin != first or (last is not None and end != last):
        asked = f"{first}-{'' if last is None else last}"
        return f"Content-Range {content_range[:60]!r} for bytes={asked}"
    return None


class WholeFileError(Exception):
    def __init__(self, cause: Cause, detail: str) -> None:
        super().__init__(detail)
        self.cause = cause
        self.detail = detail


class WholeFile:
    """One URL's body, arriving in the background into a temporary file."""

    def __init__(self, url: str, edge: str, length: int | None) -> None:
        self.url = url
        self.edge = edge
        self.length = length
        """Content-Length, if the server sent one."""
        self.received = 0
        self.done = False
        self.error: WholeFileError | None = None
        self.task: asyncio.Task[None] | None = None
        # Closed by close() (its owner, WholeFiles, closes every one); unnamed: gone on exit.
        self._file: IO[bytes] | None = tempfile.TemporaryFile(  # noqa: SIM115
            prefix="edgeplay-")
        self._changed = asyncio.Condition()

    async def slice(self, first: int, end: int) -> bytes:
        """Bytes ``[first, end)`` once they have arrived; :class:`WholeFileError` if the
        download failed or the file is shorter."""
        async with self._changed:
            await self._changed.wait_for(lambda: self.error is not None or self.done
                                         or self.received >= end)
        if self.error is not None:
            raise self.error
        if self.received < end:
            raise WholeFileError(Cause.HTTP_4XX, f"the file is {self.received} bytes, the "
                                 f"byte range ends at {end}")
        if self._file is None:
            raise WholeFileError(Cause.TRUNCATED, "the whole-file body was dropped")
        return os.pread(self._file.fileno(), end - first, first)

    async def _note(self) -> None:
        async with self._changed:
            self._changed.notify_all()

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None


class WholeFiles:
    """The whole-file bodies of one fetcher, at most ``keep`` of them (least recently used
    finished one dropped first), each at most ``max_bytes``."""

    def __init__(self, *, max_bytes: int, keep: int,
                 stall_timeout_s: Callable[[str], float],
                 on_done: Callable[[str, int, float], None] | None = None,
                 on_failed: Callable[[str, WholeFileError], None] | None = None) -> None:
        self.max_bytes = max_bytes
        self.keep = max(1, keep)
        self._stall_timeout_s = stall_timeout_s
        self._on_done = on_done
        self._on_failed = on_failed
        self._files: OrderedDict[str, WholeFile] = OrderedDict()
        self.downloads = 0
        """Whole-file downloads started (one per URL unless one failed or was dropped)."""

    def get(self, url: str) -> WholeFile | None:
        whole = self._files.get(url)
        if whole is not None:
            self._files.move_to_end(url)
        return whole

    async def adopt(self, url: str, edge: str, stack: contextlib.AsyncExitStack,
                    response: httpx.Response) -> WholeFile:
        """Take over ``response`` (a 200 with the whole body, its context in ``stack``) and
        download it in the background; if a concurrent request adopted ``url`` first, its
        download is returned and ``response`` closed (never two bodies, never an orphan)."""
        existing = self._files.get(url)
        if existing is not None and existing.error is None:
            await stack.aclose()
            return existing
        length_header = response.headers.get("Content-Length", "")
        length = int(length_header) if length_header.isdigit() else None
        whole = WholeFile(url, edge, length)
        if length is not None and length > self.max_bytes:
            whole.error = WholeFileError(
                Cause.HTTP_4XX, f"the server ignores Range and the whole file is {length} "
                f"bytes, over the {self.max_bytes}-byte limit")
            whole.close()
            await stack.aclose()
            return whole
        self._files[url] = whole
        self.downloads += 1
        whole.task = asyncio.create_task(self._pump(whole, stack, response),
                                         name=f"whole-file {url}")
        self._trim()
        return whole

    def _trim(self) -> None:
        while len(self._files) > self.keep:
            old = next((u for u, w in self._files.items() if w.done or w.error), None)
            if old is None:
                return
            self._files.pop(old).close()

    async def _pump(self, whole: WholeFile, stack: contextlib.AsyncExitStack,
                    response: httpx.Response) -> None:
        start = last = time.monotonic()
        loop = asyncio.get_running_loop()
        try:
            async with stack:
                async with asyncio.timeout(self._stall_timeout_s(whole.edge)) as deadline:
                    async for chunk in response.aiter_bytes():
                        if whole._file is None:
                            return  # dropped (closed) meanwhile
                        if whole.received + len(chunk) > self.max_bytes:
                            raise WholeFileError(Cause.HTTP_4XX, "the server ignores Range and "
                                                 f"the whole file is over {self.max_bytes} bytes")
                        whole._file.write(chunk)
                        whole._file.flush()
                        whole.received += len(chunk)
                        last = time.monotonic()
                        deadline.reschedule(loop.time() + self._stall_timeout_s(whole.edge))
                        await whole._note()
            if whole.length is not None and whole.received < whole.length:
                raise WholeFileError(Cause.TRUNCATED,
                                     f"whole file: {whole.received} of {whole.length} bytes")
            whole.done = True
            log.info("%s: whole file %s: %d bytes in %.1f s", whole.edge, whole.url,
                     whole.received, time.monotonic() - start)
            if self._on_done is not None:
                self._on_done(whole.edge, whole.received, time.monotonic() - start)
        except TimeoutError:
            self._fail(whole, WholeFileError(Cause.STALL, f"whole file: no byte for "
                                             f"{time.monotonic() - last:.2f} s after "
                                             f"{whole.received} bytes"))
        except httpx.HTTPError as exc:
            self._fail(whole, WholeFileError(Cause.TRUNCATED, f"whole file: "
                                             f"{type(exc).__name__} after {whole.received} bytes"))
        except WholeFileError as exc:
            self._fail(whole, exc)
        except asyncio.CancelledError:
            whole.error = WholeFileError(Cause.TRUNCATED, "whole file: download stopped")
            whole.close()
            raise
        finally:
            # Wake the waiters whatever happened (they re-check done/error/received).
            with contextlib.suppress(RuntimeError):
                await asyncio.shield(whole._note())

    def _fail(self, whole: WholeFile, error: WholeFileError) -> None:
        whole.error = error
        whole.close()
        log.warning("%s: %s", whole.edge, error.detail)
        if self._files.get(whole.url) is whole:
            del self._files[whole.url]  # the next attempt downloads afresh
        if self._on_failed is not None:
            self._on_failed(whole.edge, error)

    async def close(self) -> None:
        """Stop every download and drop every body."""
        files = list(self._files.values())
        self._files.clear()
        tasks = [w.task for w in files if w.task is not None and not w.task.done()]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        for whole in files:
            whole.close()
