"""The replayer: order, batches, back-off while the control plane is down, per-item errors."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import Any

import pytest

from player.errors import NetworkError
from player.sync.outbox import DROPPED, SYNCED, Outbox, ProgressEvent
from player.sync.sync import ProgressSync, SyncConfig


class FakeCp:
    def __init__(self) -> None:
        self.down = False
        self.batches: list[list[dict[str, Any]]] = []
        self.unknown: set[str] = set()

    async def progress_batch(self, items: Any) -> list[dict[str, Any]]:
        if self.down:
            raise NetworkError("The control plane is unreachable.", url="http://cp")
        self.batches.append(list(items))
        return [{"applied": False, "error": "unknown_title", "message": "no such title"}
                if i["title_id"] in self.unknown else {"applied": True, "progress": i}
                for i in items]


def put(box: Outbox, title: str, t_ms: int) -> None:
    box.put(ProgressEvent(profile_id="p", title_id=title, position_s=t_ms / 1000,
                          event_time_ms=t_ms, device_id="d"))


def test_drains_in_order_and_in_batches(tmp_path: Path) -> None:
    box, cp = Outbox(tmp_path), FakeCp()
    for i in range(12):
        put(box, f"t{i:02d}", 1000 + i)
    sync = ProgressSync(box, cp, config=SyncConfig(batch_size=5))
    assert asyncio.run(sync.drain())
    assert [len(b) for b in cp.batches] == [5, 5, 2]
    assert [i["title_id"] for b in cp.batches for i in b] == [f"t{i:02d}" for i in range(12)]
    assert box.pending_count() == 0 and sync.sent == 12


def test_a_permanent_item_error_drops_that_item_only(tmp_path: Path,
                                                     caplog: pytest.LogCaptureFixture) -> None:
    box, cp = Outbox(tmp_path), FakeCp()
    cp.unknown = {"gone"}
    put(box, "a", 1)
    put(box, "gone", 2)
    put(box, "b", 3)
    changed: list[ProgressEvent] = []
    sync = ProgressSync(box, cp, on_change=changed.extend)
    with caplog.at_level(logging.WARNING, "sync"):
        assert asyncio.run(sync.drain())
    assert box.get("p", "gone").state == DROPPED  # type: ignore[union-attr]
    assert box.get("p", "b").state == SYNCED  # type: ignore[union-attr]
    assert [e.title_id for e in changed] == ["a", "gone", "b"]
    assert any("gone dropped: unknown_title" in r.getMessage() for r in caplog.records)


def test_backs_off_while_down_and_replays_when_back(tmp_path: Path) -> None:
    box, cp = Outbox(tmp_path), FakeCp()
    cp.down = True
    put(box, "a", 1)
    slept: list[float] = []

    async def main() -> None:
        async def sleep(seconds: float) -> None:
            slept.append(seconds)
            if len(slept) == 5:
                cp.down = False  # back after five waits
            await asyncio.sleep(0)

        sync = ProgressSync(box, cp, sleep=sleep,
                            config=SyncConfig(backoff_initial_s=1, backoff_max_s=8))
        task = asyncio.ensure_future(sync.run())
        for _ in range(200):
            await asyncio.sleep(0)
            if box.pending_count() == 0:
                break
        assert sync.online is True and sync.failures == 0
        put(box, "b", 2)  # a new event wakes it at once
        sync.wake()
        for _ in range(50):
            await asyncio.sleep(0)
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)

    asyncio.run(main())
    assert slept == [1, 2, 4, 8, 8]
    assert [i["title_id"] for b in cp.batches for i in b] == ["a", "b"]


def test_wake_now_cuts_the_back_off_short(tmp_path: Path) -> None:
    box, cp = Outbox(tmp_path), FakeCp()
    cp.down = True
    put(box, "a", 1)

    async def main() -> None:
        sync = ProgressSync(box, cp, config=SyncConfig(backoff_initial_s=3600, backoff_max_s=3600))
        task = asyncio.ensure_future(sync.run())
        await asyncio.sleep(0.05)
        assert box.pending_count() == 1 and sync.delays_s == [3600]
        cp.down = False
        sync.wake(now=True)  # e.g. the control plane came back at a new URL
        await asyncio.sleep(0.05)
        assert box.pending_count() == 0
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)

    asyncio.run(main())
