"""The engine's asyncio loop on one worker thread, and the way its results reach Qt.

``AsyncLoop`` owns the loop (``submit(coro)`` from any thread → ``concurrent.futures.Future``).
``Runner`` is what Qt code uses: ``runner.run(coro, ok, err, key="details")`` submits the
coroutine, and a done-callback (on the loop thread) posts the outcome to the GUI thread through
:class:`ui.post.GuiPoster`; ``ok``/``err`` then run on the GUI thread. With a ``key``, every new
call bumps that key's generation and an older result arriving later is dropped (the user navigated
away). The GUI thread never waits on the loop (except :meth:`AsyncLoop.stop` at exit).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import threading
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

from PySide6.QtCore import QObject, Signal

from ui.post import GuiPoster

log = logging.getLogger("ui")
T = TypeVar("T")


class AsyncLoop:
    """``loop = AsyncLoop(); loop.start(); loop.submit(coro); loop.stop()``."""

    def __init__(self, name: str = "engine") -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._main, name=name, daemon=True)

    def _main(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.loop.run_forever()

    def start(self) -> None:
        self._thread.start()

    @property
    def running(self) -> bool:
        return self._thread.is_alive()

    def submit(self, coro: Coroutine[Any, Any, T]) -> concurrent.futures.Future[T]:
        return asyncio.run_coroutine_threadsafe(coro, self.loop)

    def call_soon(self, fn: Callable[..., Any], *args: Any) -> None:
        self.loop.call_soon_threadsafe(fn, *args)

    def stop(self, timeout_s: float = 5.0) -> None:
        """Cancel what is left, shut the default executor down (joining its threads: work such
        as image decoding must not outlive the loop), stop the loop and join its thread. Called
        by the loop's owner at exit, after everything that submits to it has closed."""
        if not self._thread.is_alive():
            if not self.loop.is_closed() and not self.loop.is_running():
                self.loop.close()
            return

        async def wind_down() -> None:
            tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            for task in tasks:
                task.cancel()
            if tasks:
                await asyncio.wait(tasks, timeout=timeout_s)
            await self.loop.shutdown_asyncgens()
            await self.loop.shutdown_default_executor()

        try:
            self.submit(wind_down()).result(timeout_s * 2)
        except (concurrent.futures.TimeoutError, RuntimeError):
            log.warning("engine tasks did not finish within %.1f s", timeout_s * 2)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(timeout_s)
        if self._thread.is_alive():
            log.warning("the engine loop thread did not stop within %.1f s", timeout_s)
        else:
            self.loop.close()


class Runner(QObject):
    """Submits coroutines to the engine loop and delivers their outcome on the GUI thread.

    Signals:
        failed(BaseException): a call without its own ``err`` callback failed.
    """

    failed = Signal(object)

    def __init__(self, loop: AsyncLoop, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.aio = loop
        self._generations: dict[str, int] = {}
        self._poster = GuiPoster(self)

    def post(self, fn: Callable[[], None]) -> None:
        """Run ``fn`` on the GUI thread soon (callable from any thread); dropped after
        :meth:`close`."""
        self._poster.post(fn)

    def generation(self, key: str) -> int:
        return self._generations.get(key, 0)

    def invalidate(self, key: str) -> None:
        """Drop any result still on its way for ``key``."""
        self._generations[key] = self._generations.get(key, 0) + 1

    def run(self, coro: Coroutine[Any, Any, T], ok: Callable[[T], None] | None = None,
            err: Callable[[BaseException], None] | None = None, *,
            key: str | None = None) -> concurrent.futures.Future[T]:
        generation = None
        if key is not None:
            self.invalidate(key)
            generation = self._generations[key]
        future = self.aio.submit(coro)

        def done(f: concurrent.futures.Future[T]) -> None:  # on the loop thread
            def deliver() -> None:  # on the GUI thread
                if key is not None and self._generations.get(key) != generation:
                    log.debug("dropped a stale result for %s", key)
                    return
                if f.cancelled():
                    return
                exc = f.exception()
                if exc is not None:
                    if err is not None:
                        err(exc)
                    else:
                        self.failed.emit(exc)
                elif ok is not None:
                    ok(f.result())
            self.post(deliver)

        future.add_done_callback(done)
        return future

    def close(self) -> None:
        """Stop delivering results (the window is going away)."""
        self._poster.close()
