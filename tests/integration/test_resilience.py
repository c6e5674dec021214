"""Resilience against the real control plane and edges (fault admin API): a healthy-but-slow
server plays without a failover, and an edge slower than the lowest rendition is left for a
healthy one. Nothing here is timed: the numbers are tests/bench/engine_failover.py's."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import httpx
import pytest

from player.bundled import ReadyInfo
from tests.conftest import StartControlPlane
from tests.helpers.fake_catalog import RENDITIONS, make_fake_catalog
from tests.integration.test_scheduler_failover import SEGMENT_BYTES, SEGMENTS, check_no_stall, play


@pytest.fixture(scope="module")
def ready(start_module_controlplane: StartControlPlane,
          tmp_path_factory: pytest.TempPathFactory) -> ReadyInfo:
    root = tmp_path_factory.mktemp("resilience-catalog")
    make_fake_catalog(root, titles=4, segments=SEGMENTS, segment_bytes=SEGMENT_BYTES,
                      encrypted=True)
    return start_module_controlplane(catalog_args=("--catalog-dir", str(root))).ready


@pytest.fixture
def faults(ready: ReadyInfo) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=ready.admin_url, headers=ready.admin_headers,
                      timeout=5.0) as admin:
        try:
            yield admin
        finally:
            for name, _ in ready.edges:
                admin.delete(f"/admin/edges/{name}/faults")


def test_a_server_slow_to_its_first_byte_plays_without_a_failover(
        ready: ReadyInfo, faults: httpx.Client) -> None:
    # Every edge (so every playlist, segment, health check) answers 0.4 s late: slow, not dead.
    for name, _ in ready.edges:
        faults.post(f"/admin/edges/{name}/faults",
                    json={"kind": "latency", "ms": 400}).raise_for_status()
    run = asyncio.run(play(ready, None, stop_at=8))
    assert run.error is None and run.played == 8
    failovers = [e for e in run.events if e["type"] == "failover"]
    assert failovers == []


def test_an_edge_slower_than_the_lowest_rung_is_left_for_a_healthy_one(
        ready: ReadyInfo, faults: httpx.Client) -> None:
    lowest_kbps = min(r.bandwidth_bps for r in RENDITIONS) / 1000
    run = asyncio.run(play(ready, {"kind": "slow", "rate_kbps": lowest_kbps / 3}))
    check_no_stall(run)
    away = [e for e in run.events if e["type"] == "failover" and e["from"] == run.victim]
    assert away, "stayed on the edge slower than the lowest rendition"
    assert away[0]["cause"] == "slow" and away[0]["to"] not in (None, run.victim)
    assert away[0]["resume_from_byte"] > 0  # what the slow edge delivered is kept
    switches = [e for e in run.events if e["type"] == "rendition_switch" and e["from"]]
    assert not [e for e in switches if e["to"] < e["from"]]  # left the edge, kept the rung

