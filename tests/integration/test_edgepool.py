"""EdgePool against three real edges: probing, kill and hang detection, recovery."""

from __future__ import annotations

import asyncio
import time

import httpx
import pytest

from player.api import ControlPlaneClient
from player.bundled import ReadyInfo
from player.circuit import CircuitConfig, State
from player.edgepool import EdgePool, EdgePoolConfig, ProbeResult
from player.manifest import parse_multivariant
from player.presentation import Multivariant
from player.steering import SteeringClient
from tests.conftest import StartControlPlane

CONFIG = EdgePoolConfig(health_timeout_s=0.5, probe_timeout_s=1.0,
                        circuit=CircuitConfig(cooldown_s=0.3))


@pytest.fixture(scope="module")
def fleet(start_module_controlplane: StartControlPlane) -> ReadyInfo:
    """A control plane of our own: these tests inject faults into its edges."""
    return start_module_controlplane(edges=3).ready


def session(ready: ReadyInfo) -> tuple[Multivariant, tuple[str, ...]]:
    async def main() -> tuple[Multivariant, tuple[str, ...]]:
        async with ControlPlaneClient(ready.base_url) as client:
            await client.register_device("demo@edgeplay.test", "edgeplay", "pytest")
            profile = (await client.profiles())[0]["id"]
            playback = await client.start_playback("title0", profile)
            mv = parse_multivariant(await client.fetch_text(playback.manifest_url),
                                    playback.manifest_url)
            steering = SteeringClient(mv.steering_uri or "", client.fetch_json,
                                      clock=time.monotonic)
            return mv, (await steering.reload()).pathway_priority
    return asyncio.run(main())


def fault(admin: httpx.Client, edge: str, kind: str) -> None:
    admin.post(f"/admin/edges/{edge}/faults", json={"kind": kind}).raise_for_status()


async def probe_twice(mv: Multivariant, priority: tuple[str, ...],
                      between: object) -> tuple[EdgePool, list[str], list[ProbeResult]]:
    async with httpx.AsyncClient() as http:
        pool = EdgePool.from_multivariant(mv, http, config=CONFIG)
        pool.apply_steering(priority)
        first = await pool.probe()
        assert all(r.error is None for r in first), first
        assert all(r.rtt_s is not None and r.throughput_bps for r in first)
        before = [e.name for e in pool.ordered()]
        between(before[0])  # type: ignore[operator]
        return pool, before, await pool.probe()


def test_probe_ranks_all_three_then_a_killed_edge_goes_last(
        fleet: ReadyInfo, admin: httpx.Client) -> None:
    mv, priority = session(fleet)
    pool, before, _ = asyncio.run(probe_twice(mv, priority,
                                              lambda edge: fault(admin, edge, "kill")))
    assert set(before) == {"edge-1", "edge-2", "edge-3"}
    victim = before[0]
    after = pool.ordered()
    assert after[-1].name == victim and after[-1].state is State.OPEN
    assert "ConnectError" in (after[-1].last_error or "")
    assert [e.state for e in after[:2]] == [State.CLOSED, State.CLOSED]
    assert pool.best().name != victim and not pool.degraded


def test_a_hung_edge_is_detected_within_the_probe_timeout(
        fleet: ReadyInfo, admin: httpx.Client) -> None:
    mv, priority = session(fleet)
    pool, before, second = asyncio.run(probe_twice(mv, priority,
                                                   lambda edge: fault(admin, edge, "hang")))
    victim = before[0]
    last = pool.ordered()[-1]
    assert last.name == victim and last.state is State.OPEN
    assert "Timeout" in (last.last_error or "")
    # the same round measured the other two: the hung edge held up no one
    assert {r.name for r in second} == set(before)
    assert [r.name for r in second if r.error is None and r.throughput_bps] == [
        r.name for r in second if r.name != victim]


def test_a_revived_edge_closes_its_circuit_on_the_next_probe(
        fleet: ReadyInfo, admin: httpx.Client) -> None:
    mv, priority = session(fleet)

    offset_s = 0.0

    def clock() -> float:
        return time.monotonic() + offset_s

    async def main() -> None:
        nonlocal offset_s
        async with httpx.AsyncClient() as http:
            pool = EdgePool.from_multivariant(mv, http, config=CONFIG, clock=clock)
            pool.apply_steering(priority)
            victim = pool.ordered()[0].name
            fault(admin, victim, "kill")
            await pool.probe()
            assert pool.status(victim).state is State.OPEN
            admin.delete(f"/admin/edges/{victim}/faults").raise_for_status()
            offset_s += CONFIG.circuit.cooldown_s  # the pool's clock, past the cool-down
            await pool.probe()
            assert pool.status(victim).state is State.CLOSED
            assert pool.ordered()[0].name == victim  # steering's first choice again

    asyncio.run(main())
