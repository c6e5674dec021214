"""The engine's asyncio loop on one worker thread, and the way its results reach Qt.

``AsyncLoop`` owns the loop (``submit(coro)`` from any thread → ``concurrent.futures.Future``).
``Runner`` is what Qt code uses: ``runner.run(coro, ok, err, key="details")`` submits the
coroutine, and a done-callback (on the loop thread) posts the outcome to the GUI thread through a
queued signal; ``ok``/``err`` then run on the GUI thread. With a ``key``, every new call bumps that
key's generation and an older result arriving later is dropped (the user navigated away). The GUI
thread never waits on the loop (except :meth:`AsyncLoop.stop` at exit).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import threading
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

from PySide6.QtCore import QObject, Qt, Signal

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
        """Cancel what is left, stop the loop and join the thread (at exit only)."""
        if not self._thread.is_alive():
            return

        async def cancel_all() -> None:
            tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            for task in tasks:
                task.cancel()
            if tasks:
                await asyncio.wait(tasks, timeout=timeout_s)

        try:
            self.submit(cancel_all()).result(timeout_s)
        except (concurrent.futures.TimeoutError, RuntimeError):
            log.warning("engine tasks did not finish within %.1f s", timeout_s)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(timeout_s)
        if not self._thread.is_alive():
            self.loop.close()


class Runner(QObject):
    """Submits coroutines to the engine loop and delivers their outcome on the GUI thread.

    Signals:
        failed(BaseException): a call without its own ``err`` callback failed.
    """

    failed = Signal(object)
    _deliver = Signal(object)

    def __init__(self, loop: AsyncLoop, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.aio = loop
        self._generations: dict[str, int] = {}
        self._closed = False
        self._deliver.connect(self._on_deliver, Qt.ConnectionType.QueuedConnection)

    def post(self, fn: Callable[[], None]) -> None:
        """Run ``fn`` on the GUI thread soon (callable from any thread)."""
        self._deliver.emit(fn)

    def _on_deliver(self, fn: Callable[[], None]) -> None:
        if not self._closed:
            fn()

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
        self._closed = True
