"""The edge fleet: N edges in the control plane's process and event loop."""

from __future__ import annotations

import asyncio
import sys
import time
from collections.abc import Awaitable, Callable
from typing import TextIO

from aiohttp import web

from controlplane.catalog import Catalog
from controlplane.clock import Clock
from controlplane.edge.admin import add_admin_routes
from controlplane.edge.assignment import assign_titles
from controlplane.edge.server import Edge
from controlplane.signing import UrlSigner


class EdgeFleet:
    """Edges ``edge-1`` … ``edge-N`` on free loopback ports, each caching part of the catalog."""

    def __init__(
        self,
        catalog: Catalog,
        signer: UrlSigner,
        clock: Clock,
        key_uri: Callable[[str], str],
        count: int = 3,
        host: str = "127.0.0.1",
        log_stream: TextIO | None = sys.stderr,
        origin_latency_ms: float = 20.0,
        *,
        monotonic: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        if count < 1:
            raise ValueError("an edge fleet needs at least one edge")
        cached = assign_titles(catalog.titles, count)
        self.edges: list[Edge] = [
            Edge(
                f"edge-{index + 1}",
                catalog=catalog,
                signer=signer,
                clock=clock,
                key_uri=key_uri,
                cached_titles=cached[index],
                host=host,
                log_stream=log_stream,
                origin_latency_ms=origin_latency_ms,
                monotonic=monotonic,
                sleep=sleep,
            )
            for index in range(count)
        ]

    def edge(self, name: str) -> Edge:
        """The edge called ``name``; KeyError when there is none."""
        for edge in self.edges:
            if edge.name == name:
                return edge
        raise KeyError(name)

    async def start(self) -> None:
        """Listen on every edge (one after the other, so ports are picked deterministically)."""
        try:
            for edge in self.edges:
                await edge.start()
        except BaseException:
            await self.stop()
            raise

    async def stop(self) -> None:
        """Close every edge: listening sockets, open and hung connections."""
        await asyncio.gather(*(edge.stop() for edge in self.edges))

    def add_admin_routes(self, app: web.Application, prefix: str = "/admin") -> None:
        """Mount the fault/inspection API (see ``controlplane.edge.admin``) on ``app``."""
        add_admin_routes(app, self, prefix)
