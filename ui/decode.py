"""A small pool of worker threads for image work (decoding and scaling ``QImage``s off the GUI
thread), with one owner that closes it.

``pool.run(fn, *args)`` is awaited on the engine loop; :meth:`DecodePool.close` cancels what has
not started and waits for what has, so no decode is still running when the objects it feeds go
away (a decode outliving its owner, in a thread nobody joined, crashed test teardowns).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


class DecodePoolClosed(RuntimeError):
    """The pool was closed: the work was not done."""


class DecodePool:
    def __init__(self, name: str, workers: int = 2) -> None:
        self.name = name
        self._pool = concurrent.futures.ThreadPoolExecutor(max_workers=workers,
                                                           thread_name_prefix=name)
        self._closed = False

    async def run(self, fn: Callable[..., T], *args: object) -> T:
        if self._closed:
            raise DecodePoolClosed(f"{self.name} is closed")
        try:
            return await asyncio.get_running_loop().run_in_executor(self._pool, fn, *args)
        except RuntimeError as exc:  # shut down between the check and the submit
            if self._closed:
                raise DecodePoolClosed(f"{self.name} is closed") from exc
            raise

    @property
    def closed(self) -> bool:
        return self._closed

    def close(self) -> None:
        """Cancel queued work, wait for running work, join the threads. Idempotent."""
        self._closed = True
        self._pool.shutdown(wait=True, cancel_futures=True)
