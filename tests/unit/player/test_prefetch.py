"""Prefetch (player/prefetch.py) and its adoption at Play, against the in-memory control plane
and edges of test_session.py (httpx.MockTransport, every request logged) and a fake mpv."""

from __future__ import annotations

import asyncio
from collections import Counter
from typing import Any

import httpx

from player.api import ControlPlaneClient
from player.prefetch import Prefetcher, prefetch_start
from player.prefetched import PrefetchedStart
from player.session import PlaybackSession, SessionConfig
from player.telemetry import TelemetryConfig
from player.tokens import Credentials, MemoryStore
from tests.unit.player.test_session import CP, AutoMpv, World


class LoggedWorld(World):
    """The world, with every request it answers in :attr:`log` (method, URL, Range)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.log: list[tuple[str, str, str]] = []

    async def handle_async(self, request: httpx.Request) -> httpx.Response:
        self.log.append((request.method, str(request.url), request.headers.get("range", "")))
        return await super().handle_async(request)

    def media_requests(self) -> Counter[str]:
        """Edge requests for playlists and segments (not the control plane's, probes, health)."""
        return Counter(url for method, url, _ in self.log
                       if not url.startswith(CP) and url.endswith((".m3u8", ".ts")))


def control_plane(world: World) -> ControlPlaneClient:
    creds = Credentials("dev1", "access", "refresh", "acc1", None)
    return ControlPlaneClient(CP, store=MemoryStore(creds),
                              transport=httpx.MockTransport(world.handle_async))


def config(**kwargs: Any) -> SessionConfig:
    return SessionConfig(telemetry=TelemetryConfig(flush_interval_s=60), start_over=True,
                         post_telemetry=False, progress_interval_s=None, **kwargs)


async def prefetched(world: LoggedWorld, cp: ControlPlaneClient, title: str = "t1",
                     **kwargs: Any) -> PrefetchedStart:
    return await prefetch_start(cp, title, "p1", config=config(),
                                transport=httpx.MockTransport(world.handle_async), **kwargs)


async def play(world: LoggedWorld, cp: ControlPlaneClient,
               prefetch: PrefetchedStart | None, title: str = "t1") -> PlaybackSession:
    session = PlaybackSession(cp, title, "p1", AutoMpv(), config=config(), playback=prefetch)
    if prefetch is None or prefetch.usable_for(title, "p1", None) is not None:
        # a cold start: the session's own client (the world, logged)
        session._http = httpx.AsyncClient(transport=httpx.MockTransport(world.handle_async))
        session._own_http = True
    await session.play()
    await session.stop()
    return session


def test_a_prefetched_start_is_adopted_without_asking_again() -> None:
    world = LoggedWorld(announce=[4.0] * 6, inline=True)

    async def main() -> tuple[PrefetchedStart, PlaybackSession, Counter[str], int]:
        cp = control_plane(world)
        prefetch = await prefetched(world, cp)
        after_prefetch = world.media_requests()
        playbacks = world.playbacks
        session = await play(world, cp, prefetch)
        await cp.aclose()
        return prefetch, session, after_prefetch, playbacks

    prefetch, session, before, playbacks = asyncio.run(main())
    assert prefetch.adopted
    segments = [url for url in before if url.endswith(".ts")]
    assert len(segments) == 2 and all("/360p/" in url for url in segments)  # the start rung
    assert any(url.endswith("index.m3u8") for url in before)
    after = world.media_requests()
    # Nothing prefetched was asked for a second time; the session did use it.
    assert {url: after[url] for url in before} == dict(before)
    assert world.playbacks == playbacks == 1
    assert sum(1 for _, url, _ in world.log if "/v1/licenses/" in url) == 1
    assert session._replay is not None and set(session._replay.replayed) == set(before)
    assert "prefetched" in session.startup_ms
    # mpv is loaded first: its own opening overlaps the engine's reading of the (prefetched)
    # timeline and first segment; the manifest is the prefetch's reading, not parsed again.
    marks = session.startup_ms
    assert marks["mpv_load"] <= marks["timeline"] and marks["mpv_load"] <= marks["seg_request"]
    assert session.multivariant is prefetch.multivariant is not None


def test_a_stale_prefetch_is_dropped_and_the_start_is_cold() -> None:
    world = LoggedWorld(announce=[4.0] * 6, inline=True)
    now = [100.0]

    async def main() -> tuple[PrefetchedStart, PlaybackSession]:
        cp = control_plane(world)
        prefetch = await prefetched(world, cp, max_age_s=30.0, clock=lambda: now[0])
        now[0] += 31.0  # older than it may be
        session = await play(world, cp, prefetch)
        await cp.aclose()
        return prefetch, session

    prefetch, session = asyncio.run(main())
    assert session.error is None and "first_frame" in session.startup_ms
    assert session._replay is None and prefetch.closed and not prefetch.stored
    assert world.playbacks == 2  # its own POST /v1/playback
    counts = world.media_requests()
    assert any(n == 2 for url, n in counts.items() if url.endswith(".ts"))  # fetched again


def test_a_prefetch_whose_playback_answer_expires_is_not_used() -> None:
    world = LoggedWorld(announce=[4.0] * 6, inline=True)

    async def main() -> str | None:
        cp = control_plane(world)
        prefetch = await prefetched(world, cp)
        prefetch.wall_clock = lambda: 4e9  # past any expires_at
        prefetch.playback = _with_expiry(prefetch, 4e9 + 5)
        why = prefetch.usable_for("t1", "p1", None)
        await prefetch.aclose()
        await cp.aclose()
        return why

    assert asyncio.run(main()) == "its playback answer expires"


def _with_expiry(prefetch: PrefetchedStart, expires_at: float) -> Any:
    from dataclasses import replace
    return replace(prefetch.playback, expires_at=expires_at)


def test_a_prefetch_for_another_title_is_not_used() -> None:
    world = LoggedWorld(announce=[4.0] * 6, inline=True)

    async def main() -> tuple[PrefetchedStart, PlaybackSession, Prefetcher]:
        cp = control_plane(world)
        prefetch = await prefetched(world, cp, title="other")
        session = await play(world, cp, prefetch, title="t1")
        prefetcher = Prefetcher(config=config(),
                                transport=lambda: httpx.MockTransport(world.handle_async))
        await prefetcher.start(cp, "other", "p1")
        assert prefetcher.task is not None
        await asyncio.wait({prefetcher.task})
        taken = await prefetcher.take("t1", "p1")
        assert taken is None and prefetcher.task is None
        await cp.aclose()
        return prefetch, session, prefetcher

    prefetch, session, _ = asyncio.run(main())
    assert session._replay is None and prefetch.closed
    assert world.playbacks == 3  # the prefetch's, the session's own, the prefetcher's


def test_leaving_the_page_cancels_the_prefetch() -> None:
    world = LoggedWorld(announce=[4.0] * 6, inline=True)
    world.key_gate = asyncio.Event()  # the key never answers: the prefetch stays under way

    async def main() -> tuple[bool, list[asyncio.Task[Any]]]:
        cp = control_plane(world)
        prefetcher = Prefetcher(config=config(),
                                transport=lambda: httpx.MockTransport(world.handle_async))
        await prefetcher.start(cp, "t1", "p1")
        task = prefetcher.task
        assert task is not None
        await asyncio.sleep(0.05)
        assert not task.done()
        await prefetcher.cancel()  # the details page is left
        left = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
        await cp.aclose()
        return task.cancelled(), left

    cancelled, left = asyncio.run(main())
    assert cancelled and left == []


def test_one_prefetch_at_a_time_and_take_hands_over_the_right_one() -> None:
    world = LoggedWorld(announce=[4.0] * 6, inline=True)

    async def main() -> tuple[PrefetchedStart | None, PrefetchedStart | None]:
        cp = control_plane(world)
        prefetcher = Prefetcher(config=config(),
                                transport=lambda: httpx.MockTransport(world.handle_async))
        await prefetcher.start(cp, "a", "p1")
        first = prefetcher.task
        await prefetcher.start(cp, "t1", "p1")  # another title: the first one is dropped
        assert first is not None and first.done()
        taken = await prefetcher.take("t1", "p1", wait_s=5.0)
        again = await prefetcher.take("t1", "p1")
        if taken is not None:
            await taken.aclose()
        await cp.aclose()
        return taken, again

    taken, again = asyncio.run(main())
    assert taken is not None and taken.title_id == "t1" and taken.closed
    assert again is None
