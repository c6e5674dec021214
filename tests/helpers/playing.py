"""Playing a title through the real control plane, edges and libmpv, for the end-to-end tests
(``tests/integration/test_playback_e2e.py``, ``test_cmaf_playback.py``)."""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

import httpx

from player.api import ControlPlaneClient
from player.buffer import BufferConfig
from player.bundled import ReadyInfo
from player.mpv_seam import create_mpv
from player.scheduler_config import SchedulerConfig
from player.session import PlaybackSession, SessionConfig
from player.telemetry import TelemetryConfig

_accounts = itertools.count()


@asynccontextmanager
async def playing(ready: ReadyInfo, title: str = "long", *, speed: float = 1.0,
                  before_play: Callable[[ControlPlaneClient, str], Awaitable[None]] | None = None,
                  **config: Any) -> AsyncIterator[PlaybackSession]:
    mpv = create_mpv(vo="null", ao="null")
    try:
        async with ControlPlaneClient(ready.base_url) as cp:
            n = next(_accounts)
            await cp.register_device(f"e2e{n}-{time.time_ns()}@edgeplay.test", "edgeplay-pw",
                                     "pytest", create_account=True)
            profile = (await cp.profiles())[0]["id"]
            cfg = SessionConfig(telemetry=TelemetryConfig(flush_interval_s=1.0), **config)
            session = PlaybackSession(cp, title, profile, mpv, config=cfg)
            if before_play is not None:
                await before_play(cp, profile)
            try:
                await session.play()
                if speed != 1.0:
                    mpv.set("speed", speed)
                yield session
            finally:
                await session.stop()
    finally:
        mpv.terminate()


async def until(condition: Any, timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.02)


def events(session: PlaybackSession, kind: str) -> list[dict[str, Any]]:
    return [e for e in session.telemetry.events if e["type"] == kind]


def fault_mid_stream(ready: ReadyInfo, fault: dict[str, Any],
                     **config: Any) -> PlaybackSession:
    """Play ``long`` at 12x, inject ``fault`` into the edge of the last fetch once 8 s are
    played with 8 s buffered: no stall after it, a failover away from that edge. ``config``:
    more :class:`SessionConfig` fields (``stream_format="dash"``)."""
    injected_fetches = 0

    async def main() -> tuple[PlaybackSession, str, int, float, int]:
        nonlocal injected_fetches
        # A buffer well short of the title, so segments are still being fetched after the fault.
        # The buffer runs from the segment mpv reads (one ahead of the one playing): at 8 s
        # played that is segment 3, and a 30 s target had already fetched up to segment 10 of
        # 12; on a loaded machine the check below saw 12 s played, everything was fetched and
        # the fault met no request. 16 s leaves 5 segments to fetch at 8 s, 3 at 16 s.
        short_buffer = SchedulerConfig(buffer=BufferConfig(target_s=16.0))
        async with playing(ready, speed=12, start_over=True, scheduler=short_buffer,
                           **config) as session:
            scheduler = session.scheduler
            assert scheduler is not None
            await until(lambda: session.position_s >= 8.0 and scheduler.buffer_s >= 8.0, 10,
                        "8 s played with 8 s buffered")
            injected_at = len(session.telemetry.events)
            injected_fetches = len(scheduler.fetched)
            last, _, victim = scheduler.fetched[-1]
            assert last + 1 < scheduler.segment_count, f"nothing left to fetch: {last}"
            rung = scheduler.rung or 0
            buffered = scheduler.buffer_s
            async with httpx.AsyncClient(base_url=ready.admin_url,
                                         headers=ready.admin_headers) as client:
                (await client.post(f"/admin/edges/{victim}/faults", json=fault)
                 ).raise_for_status()
            assert await asyncio.wait_for(session.wait_ended(), 20) == "eof"
            return session, victim, rung, buffered, injected_at

    session, victim, rung, buffered, injected_at = asyncio.run(main())
    report = session.report()
    assert buffered >= 8.0
    stalls = [e for e in session.telemetry.events[injected_at:]
              if e["type"] == "rebuffer_start" and e["cause"] == "stall"]
    assert stalls == [], stalls
    away = [f for f in report.failovers if f.edge_from == victim]
    fetched = session.scheduler.fetched if session.scheduler is not None else []
    assert away, f"no failover away from {victim}: {report.failovers}; fetched {fetched}"
    downs = [e for e in events(session, "rendition_switch")
             if e["from"] is not None and e["to"] < e["from"]]
    assert len(downs) <= 1 and all(e["to"] >= rung - 1 for e in downs), downs
    print(f"\n[e2e] {fault['kind']}: {away[0].cause} detected in {away[0].detection_ms:.1f} ms, "
          f"{victim} → {away[0].edge_to}, buffer {buffered:.1f} s, downs {len(downs)}, "
          f"{len(fetched) - injected_fetches} segments fetched after the fault")
    return session
