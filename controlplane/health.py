"""The control plane's own view of edge health, which steering ranks by.

Every ``health_interval_s`` each edge's ``/health`` is fetched with a short timeout. An edge that
fails ``health_failures_to_down`` checks in a row is down and is ranked last until a check
succeeds again; its round-trip time (EWMA) breaks ties between healthy edges.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

import aiohttp

log = logging.getLogger("controlplane.health")


@dataclass
class EdgeStatus:
    name: str
    url: str
    up: bool = True
    consecutive_failures: int = 0
    rtt_ms: float | None = None
    last_error: str | None = None
    checked_at: float | None = None

    def record(self, ok: bool, rtt_ms: float, error: str | None, failures_to_down: int) -> None:
        self.checked_at = time.time()
        if ok:
            self.consecutive_failures = 0
            self.last_error = None
            self.rtt_ms = rtt_ms if self.rtt_ms is None else 0.7 * self.rtt_ms + 0.3 * rtt_ms
            if not self.up:
                log.info("edge %s is back up", self.name)
            self.up = True
            return
        self.consecutive_failures += 1
        self.last_error = error
        if self.up and self.consecutive_failures >= failures_to_down:
            log.warning("edge %s is down: %s", self.name, error)
            self.up = False


@dataclass
class EdgeHealth:
    edges: dict[str, EdgeStatus] = field(default_factory=dict)

    def track(self, name: str, url: str) -> None:
        self.edges[name] = EdgeStatus(name, url)

    def ranked(self, names: Sequence[str], prefer: Sequence[str] = ()) -> list[str]:
        """Up before down, then edges in ``prefer`` (e.g. caching the title), then by RTT."""

        def key(name: str) -> tuple[bool, bool, float, str]:
            status = self.edges.get(name)
            up = status.up if status else True
            rtt = status.rtt_ms if status and status.rtt_ms is not None else 1e9
            return (not up, name not in prefer, rtt, name)

        return sorted(names, key=key)

    def snapshot(self) -> list[dict[str, object]]:
        return [vars(s).copy() for s in self.edges.values()]


async def monitor(health: EdgeHealth, interval_s: float, timeout_s: float, failures: int) -> None:
    """Check every tracked edge forever; cancel the task to stop."""
    timeout = aiohttp.ClientTimeout(total=timeout_s)
    async with aiohttp.ClientSession(timeout=timeout) as session:
        while True:
            await asyncio.gather(*(_check(session, s, failures) for s in health.edges.values()))
            await asyncio.sleep(interval_s)


async def _check(session: aiohttp.ClientSession, status: EdgeStatus, failures: int) -> None:
    started = time.perf_counter()
    try:
        async with session.get(f"{status.url}/health") as resp:
            await resp.read()
            ok, error = resp.status == 200, f"HTTP {resp.status}"
    except (TimeoutError, aiohttp.ClientError, OSError) as exc:
        ok, error = False, type(exc).__name__ if isinstance(exc, TimeoutError) else str(exc)
    status.record(ok, (time.perf_counter() - started) * 1000, None if ok else error, failures)
