"""One edge cache: an aiohttp server on its own loopback port, with faults set at run time.

The port is chosen once (port 0 picks a free one at the first start) and kept for the edge's
lifetime: ``kill`` closes the listening socket and drops every open connection; clearing it
listens again on the same port. Each (re)start builds a fresh low-level ``web.Server``, with
handler cancellation on, so a dropped connection cancels its handler.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import TextIO

from aiohttp import web

from controlplane.catalog import Catalog
from controlplane.clock import Clock
from controlplane.edge.faults import Fault
from controlplane.edge.handler import EdgeHandler
from controlplane.edge.injector import FaultInjector
from controlplane.edge.requestlog import RequestLog
from controlplane.edge.routes import ContentRoutes
from controlplane.signing import UrlSigner

SHUTDOWN_TIMEOUT_S = 0.5
"""How long stopping waits for handlers after their connections were dropped (s; default 0.5)."""


class Edge:
    def __init__(
        self,
        name: str,
        *,
        catalog: Catalog,
        signer: UrlSigner,
        clock: Clock,
        key_uri: Callable[[str], str],
        cached_titles: frozenset[str],
        host: str = "127.0.0.1",
        port: int = 0,
        log_stream: TextIO | None = None,
        origin_latency_ms: float = 20.0,
        monotonic: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.name = name
        self.host = host
        self.port = port
        self.cached_titles = cached_titles
        self.requests = RequestLog(log_stream)
        self._injector = FaultInjector(monotonic, sleep)
        routes = ContentRoutes(name, catalog, signer, key_uri, cached_titles)
        self._handler = EdgeHandler(
            name, routes, self._injector, self.requests, clock, origin_latency_ms, monotonic, sleep
        )
        self._runner: web.ServerRunner | None = None
        self._server: web.Server | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def alive(self) -> bool:
        """Listening (False before start, while killed and after stop)."""
        return self._runner is not None

    @property
    def faults(self) -> tuple[Fault, ...]:
        return self._injector.active

    @property
    def held_requests(self) -> int:
        """Requests held by a hang fault right now."""
        return self._injector.held

    def caches(self, title_id: str) -> bool:
        return title_id in self.cached_titles

    async def start(self) -> None:
        if not self._injector.is_active("kill"):
            await self._listen()

    async def stop(self) -> None:
        """Stop listening, release hung requests and drop every connection."""
        self._injector.release_hung()
        await self._go_down()

    async def set_fault(self, fault: Fault) -> None:
        self._injector.set(fault)
        if fault.kind == "kill":
            await self._go_down()

    async def clear_faults(self, kind: str | None = None) -> None:
        """Clear one kind of fault, or all of them; clearing kill listens again."""
        was_killed = self._injector.is_active("kill")
        self._injector.clear(kind)
        if was_killed and not self._injector.is_active("kill"):
            await self._listen()

    async def _listen(self) -> None:
        if self._runner is not None:
            return
        server = web.Server(self._handler, handler_cancellation=True, access_log=None)
        runner = web.ServerRunner(server, shutdown_timeout=SHUTDOWN_TIMEOUT_S)
        await runner.setup()
        site = web.TCPSite(runner, self.host, self.port, reuse_address=True)
        try:
            await site.start()
        except OSError:
            await runner.cleanup()
            raise
        self.port = int(runner.addresses[0][1])
        self._runner, self._server = runner, server

    async def _go_down(self) -> None:
        runner, server = self._runner, self._server
        if runner is None or server is None:
            return
        self._runner = self._server = None
        for site in list(runner.sites):
            await site.stop()  # stop accepting first: new connections are refused from here on
        for conn in server.connections:
            if conn.transport is not None:
                conn.transport.abort()
        await runner.cleanup()
