"""``ClientGone.wait``: the awaited work has an owner even when the waiter is cancelled."""

from __future__ import annotations

import asyncio
import gc
from typing import Any

from player.http_loopback import ClientGone


def _unretrieved(main: Any) -> list[dict[str, Any]]:
    """Run ``main(loop_errors)`` and return what reached the loop's exception handler."""
    seen: list[dict[str, Any]] = []

    async def runner() -> None:
        asyncio.get_running_loop().set_exception_handler(lambda _loop, ctx: seen.append(ctx))
        await main()
        gc.collect()  # a task nobody retrieved reports itself when it is collected
        await asyncio.sleep(0)

    asyncio.run(runner())
    return seen


def test_a_failure_that_lands_as_the_waiter_is_cancelled_is_still_retrieved() -> None:
    """The source fails in the same loop turn as the server cancels the response (the
    engine tearing down while a segment streams to mpv): nobody awaits the inner task then,
    and asyncio would print "Task exception was never retrieved" with a traceback."""
    async def main() -> None:
        client = ClientGone(asyncio.StreamReader(), poll_s=60.0)
        gate = asyncio.Event()

        async def source() -> bytes:
            await gate.wait()
            raise ConnectionAbortedError("segment 0: download dropped")

        waiter = asyncio.ensure_future(client.wait(source()))
        for _ in range(3):  # the waiter is parked on the source's task
            await asyncio.sleep(0)
        gate.set()  # the source fails on the next turn…
        waiter.cancel()  # …and the waiter is cancelled on that same turn
        await asyncio.gather(waiter, return_exceptions=True)
        assert waiter.cancelled()

    assert [ctx.get("message") for ctx in _unretrieved(main)] == []


def test_a_source_still_running_when_the_waiter_is_cancelled_is_cancelled_too() -> None:
    async def main() -> None:
        client = ClientGone(asyncio.StreamReader(), poll_s=60.0)
        started = asyncio.Event()
        inner: list[asyncio.Task[Any]] = []

        async def source() -> bytes:
            task = asyncio.current_task()
            assert task is not None
            inner.append(task)
            started.set()
            await asyncio.sleep(60)
            return b"never"

        waiter = asyncio.ensure_future(client.wait(source()))
        await started.wait()
        waiter.cancel()
        await asyncio.gather(waiter, return_exceptions=True)
        await asyncio.sleep(0)
        assert inner[0].cancelled()

    assert _unretrieved(main) == []


def test_a_result_comes_back_and_a_failure_is_raised() -> None:
    async def main() -> None:
        client = ClientGone(asyncio.StreamReader(), poll_s=60.0)

        async def ok() -> bytes:
            return b"data"

        async def bad() -> bytes:
            raise ValueError("bad")

        assert await client.wait(ok()) == b"data"
        try:
            await client.wait(bad())
        except ValueError:
            pass
        else:
            raise AssertionError("the failure was swallowed")

    assert _unretrieved(main) == []
