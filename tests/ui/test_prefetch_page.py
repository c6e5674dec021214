"""The details page prefetches the title Play will start (on the engine loop); leaving the page
drops it, another title replaces it."""

from __future__ import annotations

import asyncio
from typing import Any

from .conftest import FakeControlPlane, Harness, make_title


class SlowPlaybackControlPlane(FakeControlPlane):
    """``POST /v1/playback`` never answers: a prefetch stays under way until it is dropped."""

    def __init__(self) -> None:
        super().__init__()
        self.asked: list[str] = []

    async def start_playback(self, title_id: str, profile_id: str, format: str = "hls") -> Any:
        self.asked.append(title_id)
        await asyncio.Event().wait()


def _tasks(h: Harness) -> list[asyncio.Task[Any]]:
    async def tasks() -> list[asyncio.Task[Any]]:
        return [t for t in asyncio.all_tasks() if t is not asyncio.current_task()
                and "prefetch_start" in repr(t.get_coro())]
    return h.aio.submit(tasks()).result(3.0)


def test_the_details_page_prefetches_and_leaving_it_drops_the_prefetch(
        qtbot: Any, harness: Harness) -> None:
    cp = SlowPlaybackControlPlane()
    harness.window.backend.client = cp  # type: ignore[assignment]
    prefetcher = harness.window.controller.prefetcher
    harness.window.open_title(make_title(1))
    qtbot.waitUntil(lambda: cp.asked == ["t1"], timeout=3000)
    first = prefetcher.task
    assert first is not None and not first.done() and len(_tasks(harness)) == 1
    harness.window.open_title(make_title(2), keep_trail=True)  # another title replaces it
    qtbot.waitUntil(lambda: cp.asked == ["t1", "t2"], timeout=3000)
    assert first.cancelled() and len(_tasks(harness)) == 1
    harness.window.show_page("home")  # the page is left without Play
    qtbot.waitUntil(lambda: prefetcher.task is None and not _tasks(harness), timeout=3000)
