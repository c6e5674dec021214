"""One edge's request handler: apply the active faults, send the reply, log one line.

Order for a request: hang (wait until cleared, then drop the connection) → latency fault and the
trace's time to first byte → error fault (the injected 5xx replaces the answer) → the answer
itself → origin latency on a cache miss → headers → body (paced, cut or corrupted).
"""

from __future__ import annotations

import asyncio
import bisect
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, NoReturn

from aiohttp import web

from controlplane.clock import Clock
from controlplane.edge.body import BodyPlan, stream_body
from controlplane.edge.injector import FaultInjector
from controlplane.edge.paths import MEDIA_PREFIX, SEGMENT_SUFFIXES
from controlplane.edge.requestlog import RequestLog, redact_path
from controlplane.edge.responses import Reply, error_reply
from controlplane.edge.routes import ContentRoutes


@dataclass
class _Record:
    ts: float
    started_s: float
    method: str
    path: str
    client: str | None
    range: str | None
    status: int | None = None
    bytes: int = 0
    cache: str | None = None
    faults: list[str] = field(default_factory=list)

    def add_bytes(self, nbytes: int) -> None:
        self.bytes += nbytes

    def entry(self, edge: str, ended_s: float) -> dict[str, Any]:
        return {
            "ts": round(self.ts, 3),
            "edge": edge,
            "method": self.method,
            "path": self.path,
            "status": self.status,
            "bytes": self.bytes,
            "range": self.range,
            "cache": self.cache,
            "duration_ms": round((ended_s - self.started_s) * 1000.0, 3),
            "fault": self.faults or None,
            "client": self.client,
        }


def _drop(request: web.BaseRequest, *, flush: bool) -> NoReturn:
    """Close the connection without (finishing) an answer; aiohttp treats this as a disconnect."""
    transport = request.transport
    if transport is not None:
        if flush:
            transport.close()
        else:
            transport.abort()
    raise asyncio.CancelledError


class EdgeHandler:
    def __init__(
        self,
        name: str,
        routes: ContentRoutes,
        faults: FaultInjector,
        log: RequestLog,
        clock: Clock,
        origin_latency_ms: float,
        monotonic: Callable[[], float],
        sleep: Callable[[float], Awaitable[None]],
    ) -> None:
        self._name = name
        self._routes = routes
        self._faults = faults
        self._log = log
        self._clock = clock
        self._origin_latency_ms = origin_latency_ms
        self._monotonic = monotonic
        self._sleep = sleep

    async def __call__(self, request: web.BaseRequest) -> web.StreamResponse:
        record = _Record(
            ts=self._clock.now(),
            started_s=self._monotonic(),
            method=request.method,
            path=redact_path(request.raw_path),
            client=request.remote,
            range=request.headers.get("Range"),
        )
        try:
            return await self._serve(request, record)
        except ConnectionError:
            raise asyncio.CancelledError from None  # the client went away mid-answer
        finally:
            self._log.record(record.entry(self._name, self._monotonic()))

    async def _serve(self, request: web.BaseRequest, record: _Record) -> web.StreamResponse:
        raw_path = request.raw_path.partition("?")[0]
        is_segment = (raw_path.startswith(MEDIA_PREFIX)
                      and raw_path.lower().endswith(SEGMENT_SUFFIXES))
        gate = self._faults.hang_gate(is_segment)
        if gate is not None:
            record.faults.append("hang")
            await self._faults.hold(gate)
            _drop(request, flush=False)
        pacer = self._faults.pacer(is_segment)
        delay_ms = self._faults.latency_ms(is_segment)
        if delay_ms > 0:
            record.faults.append("latency")
        if pacer is not None:
            delay_ms += pacer.latency_ms()
        if delay_ms > 0:
            await self._sleep(delay_ms / 1000.0)
        status = self._faults.error_status(is_segment)
        if status is not None:
            record.faults.append("error")
            message = f"{self._name} is failing this request (injected error fault)"
            reply = error_reply(status, "injected_fault", message)
        else:
            reply = self._routes.route(
                request.method, raw_path, request.query, request.headers.get("Range")
            )
        try:
            if reply.cache == "MISS":
                await self._sleep(self._origin_latency_ms / 1000.0)
            return await self._send(request, reply, record, is_segment)
        finally:
            reply.source.close()

    async def _send(
        self, request: web.BaseRequest, reply: Reply, record: _Record, is_segment: bool
    ) -> web.StreamResponse:
        size = reply.source.size
        start, length = (0, size) if reply.byte_range is None else (
            reply.byte_range.start,
            reply.byte_range.length,
        )
        resp = web.StreamResponse(status=reply.status, headers=reply.headers)
        resp.headers["Content-Type"] = reply.content_type
        resp.headers["X-Edge"] = self._name
        if reply.cache is not None:
            resp.headers["X-Cache"] = reply.cache
        resp.content_length = length
        record.status, record.cache = reply.status, reply.cache
        has_body = request.method != "HEAD" and length > 0
        plan = self._plan(reply, record, is_segment, start, length, has_body)
        await resp.prepare(request)
        if has_body:
            cut = await stream_body(resp, reply.source, start, length, plan, record.add_bytes)
            if cut:
                _drop(request, flush=True)
        await resp.write_eof()
        return resp

    def _plan(
        self, reply: Reply, record: _Record, is_segment: bool, start: int, length: int, body: bool
    ) -> BodyPlan:
        if not body:
            return BodyPlan()
        pacer = self._faults.pacer(is_segment)
        if pacer is not None:
            record.faults.append("slow")
        if reply.status not in (200, 206):
            return BodyPlan(pacer=pacer)
        cut_at = self._faults.cut_at(is_segment, length)
        if cut_at is not None:
            record.faults.append("truncate")
        flips = self._faults.corrupt_positions(reply.is_ts, reply.source.size)
        lo, hi = bisect.bisect_left(flips, start), bisect.bisect_left(flips, start + length)
        if hi > lo:
            record.faults.append("corrupt")
        return BodyPlan(pacer=pacer, cut_at=cut_at, flip_at=flips[lo:hi])
