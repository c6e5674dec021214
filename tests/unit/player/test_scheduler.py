"""Scheduler against fake edges: filling to the target, seeks, events, errors, stop."""

from __future__ import annotations

import asyncio
import warnings
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest

from player.buffer import BufferConfig
from player.decrypt import Decryptor, KeyCache
from player.edgepool import EdgePool, edges_of
from player.fetcher import SegmentFetcher
from player.scheduler import Scheduler
from player.scheduler_config import SchedulerConfig
from player.segments import SegmentSource, SegmentSourceError
from tests.unit.player.test_fetcher import EDGES, FAST, KEY, FixedPolicy, World, plaintext

CONFIG = SchedulerConfig(buffer=BufferConfig(target_s=12.0, back_buffer_s=4.0))


async def run(world: World, body: Callable[[Scheduler, list[dict[str, Any]]], Awaitable[None]],
              *, policy: FixedPolicy | None = None, config: SchedulerConfig = CONFIG,
              start_index: int = 0, with_hooks: bool = True) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = []
    policy = policy or FixedPolicy()

    async def fetch_key(uri: str) -> bytes:
        return KEY

    async def reload_manifest() -> Any:
        world.calls.append("reload_manifest")
        return world.multivariant()

    async def reload_steering() -> Any:
        world.calls.append("reload_steering")
        return None

    async with httpx.AsyncClient(transport=httpx.MockTransport(world.handler)) as http:
        mv = world.multivariant()
        fetcher = SegmentFetcher(
            http, EdgePool(edges_of(mv), http), mv, Decryptor(KeyCache(fetch_key)),
            policy, config=FAST,
            reload_steering=reload_steering if with_hooks else None,
            reload_manifest=reload_manifest if with_hooks else None)
        scheduler = Scheduler(fetcher, policy, config=config,
                              start_index=start_index, on_event=events.append)
        await scheduler.start()
        try:
            await body(scheduler, events)
        finally:
            await scheduler.stop()
        leftovers = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
        assert leftovers == [], leftovers
    return events


async def settle(scheduler: Scheduler, rounds: int = 50) -> None:
    for _ in range(rounds):
        await asyncio.sleep(0.005)
        if not scheduler._inflight:
            return


def fetched_indices(world: World) -> list[int]:
    return [int(p.rsplit("_", 1)[1][:5]) for _, p, _ in world.requests if p.endswith(".ts")]


def test_it_is_a_segment_source_and_fills_to_the_target_then_stops() -> None:
    world = World(segments=12)

    async def body(s: Scheduler, events: list[dict[str, Any]]) -> None:
        assert isinstance(s, SegmentSource)
        assert s.segment_count == 12 and list(s.segment_durations_s) == [4.0] * 12
        await settle(s)
        assert s.buffer_s == 12.0 and s.buffer.indices == [0, 1, 2]
        assert await s.segment(0) == plaintext("360p", 0)
        s.on_request(1)
        await settle(s)
        assert s.buffer.indices == [0, 1, 2, 3] and s.buffer_s == 12.0

    events = asyncio.run(run(world, body))
    assert fetched_indices(world) == [0, 1, 2, 3]
    assert events[0]["type"] == "rendition_switch" and events[0]["reason"] == "fixed"
    assert not [e for e in events if e["type"].startswith("rebuffer")]


def test_policy_is_started_with_the_ladder_and_capped() -> None:
    world = World(segments=6)
    policy = FixedPolicy(rung=1)

    async def body(s: Scheduler, events: list[dict[str, Any]]) -> None:
        assert policy.started == ((800_000, 2_500_000), 4.0)
        assert policy.segment_count == 6  # the title's length, for the policy's endgame
        assert policy.max_buffer_s == s.config.buffer.target_s  # the cap it really fetches to
        await settle(s)
        first = s.buffer.get(0)
        assert first is not None and first.rendition_id == "720p"
        s.max_rung = 0
        assert policy.max_rung == 0
        s.on_request(1)
        await settle(s)
        segment = s.buffer.get(3)
        assert segment is not None and segment.rendition_id == "360p"
        assert await s.segment(3) == plaintext("360p", 3)

    events = asyncio.run(run(world, body, policy=policy))
    switches = [(e["from"], e["to"]) for e in events if e["type"] == "rendition_switch"]
    assert switches == [(None, 1), (1, 0)]


def test_a_seek_inside_the_buffer_keeps_it_and_a_far_seek_flushes() -> None:
    world = World(segments=30)

    async def body(s: Scheduler, events: list[dict[str, Any]]) -> None:
        await settle(s)
        s.on_request(2)  # inside
        await settle(s)
        assert s.buffer.indices == [1, 2, 3, 4]  # 1 stays in the 4 s back-buffer
        assert not [e for e in events if e["type"] == "seek" and e["flushed"]]
        s.on_request(20)  # far outside
        assert len(s.buffer) == 0
        await settle(s)
        assert s.buffer.indices == [20, 21, 22]
        assert await s.segment(20) == plaintext("360p", 20)

    events = asyncio.run(run(world, body))
    assert fetched_indices(world) == [0, 1, 2, 3, 4, 20, 21, 22]
    seeks = [e for e in events if e["type"] == "seek"]
    assert [(e["index"], e["flushed"]) for e in seeks] == [(2, False), (20, True)]


def test_start_index_and_end_of_stream() -> None:
    world = World(segments=6)

    async def body(s: Scheduler, events: list[dict[str, Any]]) -> None:
        await settle(s)
        assert s.buffer.indices == [4, 5] and s.ended
        with pytest.raises(IndexError):
            await s.segment(6)

    events = asyncio.run(run(world, body, start_index=4))
    assert [e["type"] for e in events].count("end_of_stream") == 1


def test_waiting_for_a_segment_is_a_rebuffer_and_pause_keeps_fetching() -> None:
    world = World(segments=8)
    gate = asyncio.Event()
    original = world.handler

    async def slow(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("seg_00000.ts"):
            await gate.wait()
        return await original(request)

    world.handler = slow  # type: ignore[method-assign]

    async def body(s: Scheduler, events: list[dict[str, Any]]) -> None:
        waiter = asyncio.create_task(s.segment(0))
        await asyncio.sleep(0.02)
        gate.set()
        assert await waiter == plaintext("360p", 0)
        s.pause()
        await settle(s)
        assert s.paused and s.buffer_s == 12.0  # filled while paused
        s.resume()

    events = asyncio.run(run(world, body))
    kinds = [e["type"] for e in events]
    assert kinds.index("rebuffer_start") < kinds.index("rebuffer_end")
    [end] = [e for e in events if e["type"] == "rebuffer_end"]
    assert end["waited_s"] >= 0.015
    assert "pause" in kinds and "resume" in kinds


def test_failovers_are_events_and_playback_goes_on() -> None:
    world = World(segments=6, faults={"e1": "5xx"})

    async def body(s: Scheduler, events: list[dict[str, Any]]) -> None:
        await settle(s)
        assert await s.segment(0) == plaintext("360p", 0)

    events = asyncio.run(run(world, body))
    failovers = [e for e in events if e["type"] == "failover"]
    assert failovers and failovers[0]["from"] == "e1" and failovers[0]["cause"] == "http_5xx"


def test_every_edge_down_ends_the_stream_with_an_error() -> None:
    world = World(segments=6, faults={e: "refuse" for e in EDGES})

    async def body(s: Scheduler, events: list[dict[str, Any]]) -> None:
        with pytest.raises(SegmentSourceError) as info:
            await s.segment(0)
        assert s.error is not None and "No streaming server" in str(info.value)

    async def with_timeline() -> list[dict[str, Any]]:
        # the timeline must load first: let it, then kill everything
        events: list[dict[str, Any]] = []
        faults = dict(world.faults)
        world.faults.clear()
        original = world.handler

        async def later(request: httpx.Request) -> httpx.Response:
            if request.url.path.endswith(".ts"):
                world.faults.update(faults)
            return await original(request)

        world.handler = later  # type: ignore[method-assign]
        events = await run(world, body)
        return events

    events = asyncio.run(with_timeline())
    assert [c for c in world.calls if c.startswith("reload")] == ["reload_steering",
                                                                   "reload_manifest"]
    [error] = [e for e in events if e["type"] == "error"]
    assert error["code"] == "no_edge"


def test_abandonment_refetches_the_segment_at_the_lower_rung() -> None:
    world = World(segments=4, faults={})
    policy = FixedPolicy(rung=1, abandon_to=0)

    async def body(s: Scheduler, events: list[dict[str, Any]]) -> None:
        assert await s.segment(0) == plaintext("360p", 0)

    world.faults["e1"] = "stall"  # 720p never completes on e1; the policy abandons it
    events = asyncio.run(run(world, body, policy=policy))
    abandons = [e for e in events if e["type"] == "abandon"]
    assert abandons and abandons[0]["lower"] == 0
    assert any(e["type"] == "rendition_switch" and e["to"] == 0 for e in events)


def test_parallel_fetch_when_low_and_the_estimate_allows() -> None:
    world = World(segments=8)
    config = SchedulerConfig(buffer=BufferConfig(target_s=12.0), parallel_fetch=True)
    seen: list[int] = []

    async def body(s: Scheduler, events: list[dict[str, Any]]) -> None:
        await asyncio.sleep(0)  # the loop's first round
        seen.append(len(s._inflight))
        await settle(s)
        seen.append(len(s._inflight))
        assert s.buffer_s == 12.0

    asyncio.run(run(world, body, config=config))
    assert seen[0] == 2 and seen[-1] == 0


def test_stop_cancels_everything_cleanly() -> None:
    world = World(segments=8, faults={"e1": "hang", "e2": "hang", "e3": "hang"})
    world.faults.clear()
    original = world.handler

    async def hanging(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith(".ts"):
            await asyncio.sleep(3600)
        return await original(request)

    world.handler = hanging  # type: ignore[method-assign]

    async def body(s: Scheduler, events: list[dict[str, Any]]) -> None:
        waiter = asyncio.create_task(s.segment(0))
        await asyncio.sleep(0.01)
        await s.stop()
        with pytest.raises(SegmentSourceError):
            await waiter

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        asyncio.run(run(world, body, config=SchedulerConfig(
            buffer=BufferConfig(target_s=12.0))))
