"""Every thread has an owner that stops it, and results reach Qt on the GUI thread only."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import pytest

from ui.aio import AsyncLoop, Runner
from ui.decode import DecodePool, DecodePoolClosed
from ui.post import GuiPoster


def test_posts_from_many_threads_run_on_the_gui_thread_in_order(qtbot: Any) -> None:
    poster = GuiPoster()
    ran: list[tuple[int, int, bool]] = []

    def worker(n: int) -> None:
        for i in range(300):
            poster.post(lambda n=n, i=i: ran.append(  # type: ignore[misc]
                (n, i, threading.current_thread() is threading.main_thread())))

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    qtbot.waitUntil(lambda: len(ran) == 1200, timeout=10000)
    assert all(on_gui for _, _, on_gui in ran)
    for n in range(4):
        assert [i for m, i, _ in ran if m == n] == list(range(300))  # each thread's order kept
    poster.close()


def test_a_closed_poster_runs_nothing(qtbot: Any) -> None:
    poster = GuiPoster()
    ran: list[int] = []
    poster.post(lambda: ran.append(1))
    poster.close()
    poster.post(lambda: ran.append(2))
    qtbot.wait(50)
    assert ran == [] and poster.pending() == 0


def test_one_failing_callable_does_not_stall_the_rest(qtbot: Any) -> None:
    poster = GuiPoster()
    ran: list[str] = []

    def boom() -> None:
        raise ValueError("boom")

    with qtbot.capture_exceptions() as caught:
        poster.post(boom)
        poster.post(lambda: ran.append("after"))
        qtbot.waitUntil(lambda: ran == ["after"], timeout=5000)
    assert [type(e[1]) for e in caught] == [ValueError]
    poster.post(lambda: ran.append("later"))
    qtbot.waitUntil(lambda: ran == ["after", "later"], timeout=5000)
    poster.close()


def test_decode_pool_close_waits_for_work_under_way() -> None:
    loop = AsyncLoop("decode-test")
    loop.start()
    pool = DecodePool("decode-test-pool", workers=1)
    started, release = threading.Event(), threading.Event()
    finished: list[str] = []

    def slow() -> str:
        started.set()
        release.wait(30)
        finished.append(threading.current_thread().name)
        return "done"

    future = loop.submit(pool.run(slow))
    assert started.wait(30)
    closer = threading.Thread(target=pool.close)
    closer.start()
    closer.join(0.2)
    assert closer.is_alive(), "close() returned while a decode was still running"
    release.set()
    closer.join(30)
    assert not closer.is_alive() and finished
    assert future.result(30) == "done"
    assert not [t for t in threading.enumerate() if t.name.startswith("decode-test-pool")]
    with pytest.raises(DecodePoolClosed):
        loop.submit(pool.run(slow)).result(30)
    loop.stop()


def test_stopping_the_loop_joins_its_default_executor() -> None:
    loop = AsyncLoop("executor-test")
    loop.start()
    seen: list[threading.Thread] = []

    async def work() -> None:
        await asyncio.to_thread(lambda: seen.append(threading.current_thread()))

    loop.submit(work()).result(30)
    assert seen and seen[0].is_alive()  # an idle executor thread stays until shut down
    loop.stop()
    assert not seen[0].is_alive()
    assert not loop.running and loop.loop.is_closed()


def test_results_are_delivered_on_the_gui_thread(qtbot: Any) -> None:
    loop = AsyncLoop("runner-test")
    loop.start()
    runner = Runner(loop)
    where: list[bool] = []

    async def answer() -> int:
        return 42

    runner.run(answer(), lambda _: where.append(
        threading.current_thread() is threading.main_thread()))
    qtbot.waitUntil(lambda: bool(where), timeout=10000)
    assert where == [True]
    runner.close()
    loop.stop()
