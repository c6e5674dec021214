"""An asyncio loop on a background thread, for driving async servers from synchronous tests.

    with LoopThread() as loop:
        fleet = EdgeFleet(...)
        loop.run(fleet.start())
        ...                      # talk to it with a synchronous httpx.Client
        loop.run(fleet.stop())
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine
from types import TracebackType
from typing import Any, TypeVar

T = TypeVar("T")


class LoopThread:
    def __init__(self, name: str = "test-loop") -> None:
        self._name = name
        self.loop = asyncio.new_event_loop()
        self._thread: threading.Thread | None = None

    def __enter__(self) -> LoopThread:
        self._thread = threading.Thread(target=self._main, name=self._name, daemon=True)
        self._thread.start()
        return self

    def _main(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.loop.run_forever()

    def run(self, coro: Coroutine[Any, Any, T], timeout_s: float = 30.0) -> T:
        """Run ``coro`` on the loop and wait for its result (re-raising its exception)."""
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout_s)

    def call(self, fn: Any, *args: Any) -> None:
        """Schedule a plain callable on the loop thread."""
        self.loop.call_soon_threadsafe(fn, *args)

    async def _cancel_leftovers(self) -> None:
        tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await self.loop.shutdown_asyncgens()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            self.run(self._cancel_leftovers(), timeout_s=10.0)
        finally:
            self.loop.call_soon_threadsafe(self.loop.stop)
            if self._thread is not None:
                self._thread.join(timeout=10.0)
            self.loop.close()
