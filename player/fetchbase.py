"""What the parts of :class:`~player.fetcher.SegmentFetcher` share: a fetch's outcomes
(:class:`Fetched`, :class:`Abandoned`), the failure signals an attempt raises, what one segment's
attempts have fetched so far (:class:`Progress`), and :class:`FetcherBase`: the fetcher's state
and the timeout rule per edge (docs: the timeout rule).
"""

from __future__ import annotations

import asyncio
import contextvars
import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import httpx

from abr.interface import AbrPolicy
from player.buffer import LiveSegment
from player.decrypt import Decryptor, StreamDecryptor
from player.edgepool import EdgePool
from player.failover import Cause, FetchConfig, PathwayPlaylists, adaptive_timeout_s, ttfb_floor_s
from player.fmp4 import InitInfo
from player.presentation import Multivariant
from player.wholefile import WholeFile, WholeFiles

log = logging.getLogger("edge")

LAST_RESORT: contextvars.ContextVar[bool] = contextvars.ContextVar("last_resort", default=False)
"""Set in a fetch (its own task) once every edge has failed: its later requests, the media
playlists they read included, wait ``last_resort_timeout_s`` at least."""


@dataclass(frozen=True)
class Fetched:
    """A segment delivered: plaintext TS and how the last (successful) request went."""

    index: int
    rung: int
    rendition_id: str
    data: bytes
    edge: str
    bytes_: int
    """Bytes of the successful request (after a Range resume: only the rest)."""
    seconds: float
    """That request, from its start to the last byte."""
    ttfb_s: float
    failovers: int
    resumed_from_byte: int


@dataclass(frozen=True)
class Abandoned:
    """The ABR dropped the download: fetch ``lower`` instead."""

    index: int
    rung: int
    lower: int
    bytes_so_far: int
    edge: str


class Failed(Exception):
    def __init__(self, cause: Cause, detail: str, detection_s: float,
                 measured_from: str = "request") -> None:
        super().__init__(detail)
        self.cause = cause
        self.detail = detail
        self.detection_s = detection_s
        self.measured_from = measured_from

    def describe(self) -> str:
        return f"{self.cause.label}: {self.detail}"


class UrlExpired(Exception):
    pass


class AlreadyHeld(Exception):
    """A resume's ``416``: the bytes held are the whole file."""


class UseWhole(Exception):
    def __init__(self, whole: WholeFile) -> None:
        super().__init__(whole.url)
        self.whole = whole


class AbandonFor(Exception):
    def __init__(self, lower: int) -> None:
        super().__init__(lower)
        self.lower = lower


class Progress:
    """What one segment's attempts have fetched so far (carried across edges)."""

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        """Start over from byte 0."""
        self.fetched = 0
        """Bytes of the file received so far: the offset of a Range resume."""
        self.decryptor: StreamDecryptor | None = None
        self.backlog = bytearray()
        """Bytes received before the key was at hand."""

    def feed(self, chunk: bytes, live: LiveSegment) -> None:
        self.fetched += len(chunk)
        if self.decryptor is None:
            self.backlog += chunk
            return
        if self.backlog:
            chunk, self.backlog = bytes(self.backlog) + chunk, bytearray()
        live.append(self.decryptor.feed(chunk))


def describe(exc: BaseException) -> str:
    text = str(exc)
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def error_code(body: bytes) -> str | None:
    try:
        raw = json.loads(body)
    except ValueError:
        return None
    code = raw.get("error") if isinstance(raw, dict) else None
    return code if isinstance(code, str) else None



Reload = Callable[[], Awaitable[Multivariant]]


class FetcherBase:
    """The state every part of the fetcher reads (set by :class:`~player.fetcher.SegmentFetcher`)
    and the timeout rule per edge."""

    config: FetchConfig
    _http: httpx.AsyncClient
    pool: EdgePool
    playlists: PathwayPlaylists
    """Segment URIs per pathway and the rendition ladder."""
    _decryptor: Decryptor
    _policy: AbrPolicy
    buffer_level: Callable[[], float]
    """Reads the media buffered ahead now (seconds); the scheduler sets it."""
    _refresh_urls: Reload | None
    _clock: Callable[[], float]
    load_allowance_s: Callable[[], float]
    """Seconds that CPU load adds to every timeout now; the scheduler sets it (its
    :class:`~player.loadlag.LoopLag`)."""
    _ignored_range: set[tuple[str, str]]
    _whole: WholeFiles
    inits: dict[str, bytes]
    """The first init segment (EXT-X-MAP) fetched per rendition id: what the bridge serves."""
    _init_cache: dict[tuple[str, str, tuple[int, int] | None], tuple[bytes, InitInfo]]
    _init_locks: dict[tuple[str, str, tuple[int, int] | None], asyncio.Lock]
    on_stage: Callable[[str, int], None] | None
    """Optional tracer: ``on_stage(stage, index)`` at ``seg_request``, ``seg_headers``,
    ``seg_body`` (last byte) and ``seg_ready`` (decrypted and valid) of every attempt (the
    session's start-up breakdown)."""

    # --- the timeout rule, per edge ------------------------------------------------------------

    def expected_ttfb_s(self, edge: str) -> float:
        expected = self.pool.expected_ttfb_s(edge)
        return expected if expected is not None else self.config.default_ttfb_s

    def ttfb_timeout_s(self, edge: str, last_resort: bool | None = None) -> float:
        """How long ``edge`` may take to its response headers now (docs: the timeout rule)."""
        if last_resort is None:
            last_resort = LAST_RESORT.get()
        floor = ttfb_floor_s(self.pool.expected_ttfb_s(edge), self.pool.ttfb_measured(edge),
                             last_resort, self.config)
        return adaptive_timeout_s(self.expected_ttfb_s(edge), self.buffer_level(), self.config,
                                  floor_s=floor, load_s=self.load_allowance_s())

    def stall_timeout_s(self, edge: str) -> float:
        throughput = self.pool.status(edge).throughput_bps or self.config.default_throughput_bps
        expected = self.config.stall_chunk_bytes * 8 / throughput
        return adaptive_timeout_s(expected, self.buffer_level(), self.config,
                                  load_s=self.load_allowance_s())

    def _stage(self, stage: str, index: int) -> None:
        if self.on_stage is not None:
            try:
                self.on_stage(stage, index)
            except Exception:
                log.exception("stage tracer failed")

    def _note_ttfb(self, edge: str, ttfb_s: float) -> None:
        self.pool.report_ttfb(edge, ttfb_s)


    def _check_status(self, status: int, body: bytes, start: float) -> None:
        if status < 400:
            return
        code = error_code(body)
        if status == 403 and code == "url_expired":
            raise UrlExpired()
        cause = Cause.HTTP_5XX if status >= 500 else Cause.HTTP_4XX
        raise Failed(cause, f"answered {status}{f' {code}' if code else ''}",
                     self._clock() - start)

    def _note_ignored_range(self, edge: str, url: str) -> None:
        """Log once per edge and URL that a server answers a Range with the whole body."""
        if (edge, url) not in self._ignored_range:
            self._ignored_range.add((edge, url))
            log.info("%s ignores Range on %s (answers 200): slicing the ranges from the "
                     "whole body", edge, url)
