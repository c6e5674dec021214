"""The Scheduler against the real control plane and edges: faults injected mid-stream.

A consumer plays like mpv through the bridge would (``on_request(k)`` then ``segment(k)``), at
``SPEED``× real time, after the buffer first reached its target. Each fault kind is injected on
the edge that served the latest segment; the stream must go on without a rebuffer, and the
failover's detection time is printed (run with ``-s`` to see it) and checked against loose bounds.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from player.api import ControlPlaneClient
from player.bundled import ReadyInfo
from player.decrypt import Decryptor, KeyCache
from player.edgepool import EdgePool
from player.fetcher import SegmentFetcher
from player.manifest import parse_multivariant
from player.presentation import Multivariant
from player.scheduler import Scheduler
from player.segments import SegmentSourceError
from player.steering import SteeringClient
from tests.conftest import StartControlPlane
from tests.helpers.fake_catalog import fake_segment, make_fake_catalog
from tests.helpers.policies import FixedPolicy

SEGMENTS = 30
SEGMENT_BYTES = 188 * 2000  # 376 KB: a fault lands mid-stream, not between titles
SPEED = 20.0                # media seconds per real second
TITLE = "title0"
RUNG = 1                    # 720p
_accounts = itertools.count()


@pytest.fixture(scope="module")
def catalog(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("sched-catalog")
    make_fake_catalog(root, titles=4, segments=SEGMENTS, segment_bytes=SEGMENT_BYTES,
                      encrypted=True)
    return root


@pytest.fixture(scope="module")
def fleet(start_module_controlplane: StartControlPlane, catalog: Path) -> ReadyInfo:
    return start_module_controlplane(catalog_args=("--catalog-dir", str(catalog))).ready


@dataclass
class Run:
    events: list[dict[str, Any]] = field(default_factory=list)
    waits: list[tuple[int, bool, float]] = field(default_factory=list)
    """(position, already buffered when asked, buffer_s before asking)."""
    hooks: list[str] = field(default_factory=list)
    victim: str | None = None
    error: BaseException | None = None
    played: int = 0


async def play(ready: ReadyInfo, fault: dict[str, Any] | list[str] | None, *,
               fault_at: int = 6, stop_at: int = 20) -> Run:
    """Play ``title0`` to ``stop_at``; at ``fault_at`` inject ``fault`` on the serving edge
    (a dict), or kill the listed edges (a list)."""
    run = Run()
    n = next(_accounts)
    async with ControlPlaneClient(ready.base_url) as cp, httpx.AsyncClient() as http, \
            httpx.AsyncClient(base_url=ready.admin_url,
                              headers=ready.admin_headers, timeout=5.0) as admin:
        await cp.register_device(f"sched{n}-{time.time_ns()}@edgeplay.test", "edgeplay-pw",
                                 "pytest", create_account=True)
        profile = (await cp.profiles())[0]["id"]
        playback = await cp.start_playback(TITLE, profile)

        async def multivariant(url: str) -> Multivariant:
            return parse_multivariant(await cp.fetch_text(url), url)

        mv = await multivariant(playback.manifest_url)
        steering = SteeringClient(mv.steering_uri or "", cp.fetch_json, clock=time.monotonic)
        pool = EdgePool.from_multivariant(mv, http)
        pool.apply_steering((await steering.reload()).pathway_priority)
        await pool.probe()

        async def refresh_urls() -> Multivariant:
            run.hooks.append("refresh_urls")
            return await multivariant(playback.manifest_url)

        async def reload_steering() -> tuple[str, ...]:
            run.hooks.append("reload_steering")
            return (await steering.reload()).pathway_priority

        async def reload_manifest() -> Multivariant:
            run.hooks.append("reload_manifest")
            fresh = await cp.start_playback(TITLE, profile)
            return await multivariant(fresh.manifest_url)

        policy = FixedPolicy(RUNG)
        fetcher = SegmentFetcher(http, pool, mv, Decryptor(KeyCache(cp.streaming_key)),
                                 policy, refresh_urls=refresh_urls,
                                 reload_steering=reload_steering,
                                 reload_manifest=reload_manifest)
        scheduler = Scheduler(fetcher, policy, on_event=run.events.append)
        await scheduler.start()
        try:
            target = scheduler.config.buffer.target_s
            deadline = time.monotonic() + 10
            while scheduler.buffer_s < target and time.monotonic() < deadline:
                await asyncio.sleep(0.01)  # the player starts once the buffer is full
            for k in range(stop_at):
                if k == fault_at and fault is not None:
                    run.victim = scheduler.fetched[-1][2]
                    victims = fault if isinstance(fault, list) else [run.victim]
                    body = {"kind": "kill"} if isinstance(fault, list) else fault
                    for name in victims:
                        (await admin.post(f"/admin/edges/{name}/faults", json=body)
                         ).raise_for_status()
                scheduler.on_request(k)
                before = scheduler.buffer_s
                buffered = k in scheduler.buffer
                data = await scheduler.segment(k)
                run.waits.append((k, buffered, before))
                rendition = scheduler.buffer.get(k)
                assert rendition is not None
                assert data == fake_segment(TITLE, rendition.rendition_id, k, SEGMENT_BYTES)
                run.played = k + 1
                await asyncio.sleep(scheduler.segment_durations_s[k] / SPEED)
        except SegmentSourceError as exc:
            run.error = exc.__cause__ or exc
        finally:
            await scheduler.stop()
    return run


def check_no_stall(run: Run) -> None:
    stalls = [(k, b) for k, buffered, b in run.waits if not buffered]
    assert stalls == [], f"asked for segments not buffered yet (position, buffer_s): {stalls}"
    assert not [e for e in run.events if e["type"] == "rebuffer_start"]
    assert run.error is None and run.played == 20


def detection(run: Run, causes: set[str]) -> tuple[str, float]:
    events = [e for e in run.events if e["type"] == "failover" and e["from"] == run.victim]
    assert events, "no failover away from the faulty edge"
    assert events[0]["cause"] in causes, events[0]
    return str(events[0]["cause"]), float(events[0]["detection_s"])


# How soon each fault is detected is measured by tests/bench/engine_failover.py.
@pytest.mark.parametrize(("fault", "causes"), [
    ({"kind": "kill"}, {"refused", "truncated"}),
    ({"kind": "error", "rate": 1.0}, {"http_5xx"}),
    ({"kind": "hang"}, {"ttfb_timeout"}),
    ({"kind": "truncate", "fraction": 0.5}, {"truncated"}),
    ({"kind": "corrupt", "bytes": 8}, {"corrupt"}),
], ids=["kill", "error", "hang", "truncate", "corrupt"])
def test_a_fault_on_the_serving_edge_fails_over_without_a_rebuffer(
        fleet: ReadyInfo, admin: httpx.Client, fault: dict[str, Any], causes: set[str]) -> None:
    run = asyncio.run(play(fleet, fault))
    check_no_stall(run)
    cause, detected = detection(run, causes)
    kind = fault["kind"]
    print(f"\n[detection] {kind} ({cause}): {detected * 1000:.1f} ms "
          f"(min buffer while playing {min(b for _, _, b in run.waits):.1f} s)")
    if kind == "truncate":
        resumed = [e for e in run.events if e["type"] == "failover" and e["resume_from_byte"]]
        assert resumed, "a truncated segment resumes with a Range request"


def test_every_edge_killed_ends_in_no_edge_error_after_the_reloads(
        fleet: ReadyInfo, admin: httpx.Client) -> None:
    run = asyncio.run(play(fleet, [name for name, _ in fleet.edges], stop_at=SEGMENTS))
    assert run.error is not None and type(run.error).__name__ == "NoEdgeError"
    assert run.hooks == ["reload_steering", "reload_manifest"]
    failures = run.error.failures  # type: ignore[attr-defined]
    assert set(failures) == {name for name, _ in fleet.edges}
    assert all("refused" in c or "truncated" in c for c in failures.values()), failures
    assert run.played >= 6  # what was buffered still played
    assert next(e for e in run.events if e["type"] == "error")["code"] == "no_edge"


def test_expired_signed_urls_are_refreshed_transparently(
        start_controlplane: StartControlPlane, catalog: Path) -> None:
    ready = start_controlplane(catalog_args=("--catalog-dir", str(catalog)),
                               policy=("signed_url_ttl_s=2",)).ready
    run = asyncio.run(play(ready, None, stop_at=SEGMENTS))
    assert run.error is None and run.played == SEGMENTS
    assert "refresh_urls" in run.hooks
    refreshes = [e for e in run.events if e["type"] == "failover" and e["cause"] == "url_refresh"]
    assert refreshes
    assert not [e for e in run.events if e["type"] == "rebuffer_start"]
