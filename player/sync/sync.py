"""``ProgressSync``: drains the outbox to the control plane, in order, whenever it answers.

``run()`` (a task on the engine loop) sleeps until :meth:`wake` (a new event) and then sends the
pending rows, oldest ``seq`` first, in ``POST /v1/progress/batch`` requests of up to
``batch_size`` items. Per item: applied, or not applied because a newer event is already stored
(another device won by event time) → ``synced``; an item error (``not_found`` profile,
``unknown_title``, ``bad_request``) is permanent → ``dropped`` with one warning on ``sync``, and
never blocks the queue. A failed request (control plane down, 5xx, signed out) keeps everything
pending and backs off (``backoff_initial_s`` doubling to ``backoff_max_s``); :meth:`wake` with
``now=True`` (the control plane is back at a new URL, the user signed in) cuts the wait short.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Protocol

from player.sync.outbox import DROPPED, SYNCED, Outbox, ProgressEvent

log = logging.getLogger("sync")


class BatchClient(Protocol):
    """What the replayer needs of :class:`player.api.ControlPlaneClient`."""

    async def progress_batch(self, items: Any) -> list[dict[str, Any]]: ...


@dataclass(frozen=True)
class SyncConfig:
    batch_size: int = 500
    """Items per ``POST /v1/progress/batch`` (the protocol's maximum). Default 500."""
    backoff_initial_s: float = 0.5
    """Wait after the first failed request, seconds; doubles per failure. Default 0.5."""
    backoff_max_s: float = 30.0
    """Longest wait between two tries while the control plane is down, seconds. Default 30."""
    retry_interval_s: float = 60.0
    """Even without a wake-up, look for pending rows this often, seconds. Default 60."""


class ProgressSync:
    """``ProgressSync(outbox, cp)``; ``task = loop.create_task(sync.run())``; ``sync.wake()``.

    ``account_id`` (a callable, so it follows sign-in) limits the replay to that account's rows.
    ``on_change(events)`` is called (on the loop) with the events that changed state.
    """

    def __init__(self, outbox: Outbox, cp: BatchClient, *, config: SyncConfig | None = None,
                 account_id: Callable[[], str | None] = lambda: None,
                 on_change: Callable[[list[ProgressEvent]], None] | None = None,
                 sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.outbox = outbox
        self.cp = cp
        self.config = config or SyncConfig()
        self._account_id = account_id
        self.on_change = on_change
        self._sleep = sleep
        self._clock = clock
        self._wake: asyncio.Event | None = None
        self._kick: asyncio.Event | None = None
        self.failures = 0
        """Failed requests in a row (0 while the control plane answers)."""
        self.delays_s: list[float] = []
        """Every back-off wait chosen (tests, logs)."""
        self.sent = 0
        """Items sent since start (counted once per answer)."""
        self.online: bool | None = None
        """Whether the last request got an answer; None before the first."""

    def _events(self) -> tuple[asyncio.Event, asyncio.Event]:
        if self._wake is None or self._kick is None:
            self._wake, self._kick = asyncio.Event(), asyncio.Event()
        return self._wake, self._kick

    def wake(self, now: bool = False) -> None:
        """New events to send (call on the loop). ``now``: also cut a back-off short."""
        wake, kick = self._events()
        wake.set()
        if now:
            kick.set()

    async def run(self) -> None:
        """Forever: wait for a wake-up (or ``retry_interval_s``), drain, back off on failure."""
        wake, kick = self._events()
        wake.set()  # whatever a previous run (or a crash) left pending goes first
        while True:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self.config.retry_interval_s):
                    await wake.wait()
            wake.clear()
            kick.clear()
            if await self.drain():
                continue
            delay = min(self.config.backoff_max_s,
                        self.config.backoff_initial_s * 2 ** (self.failures - 1))
            self.delays_s.append(delay)
            log.info("control plane unreachable (%d failure(s)): %d progress event(s) pending, "
                     "next try in %.1f s", self.failures, self.outbox.pending_count(), delay)
            await self._wait(delay, kick)
            wake.set()

    async def _wait(self, delay_s: float, kick: asyncio.Event) -> None:
        sleeper = asyncio.ensure_future(self._sleep(delay_s))
        kicked = asyncio.ensure_future(kick.wait())
        try:
            await asyncio.wait({sleeper, kicked}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in (sleeper, kicked):
                task.cancel()
            await asyncio.gather(sleeper, kicked, return_exceptions=True)

    async def drain(self) -> bool:
        """Send every pending row; True when the queue is empty (or only newer rows arrived
        meanwhile), False when a request failed (everything unsent stays pending)."""
        while True:
            batch = self.outbox.pending(self.config.batch_size, self._account_id())
            if not batch:
                return True
            try:
                results = await self.cp.progress_batch([e.wire() for e in batch])
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                self.failures += 1
                if self.online is not False:
                    log.warning("progress sync failed, keeping %d event(s): %s",
                                self.outbox.pending_count(), exc)
                self.online = False
                return False
            if self.online is False:
                log.info("control plane answers again: replaying the outbox")
            self.failures, self.online = 0, True
            self.sent += len(batch)
            marks: list[tuple[ProgressEvent, str, str | None]] = []
            for event, result in zip(batch, results, strict=False):
                error = result.get("error") if isinstance(result, dict) else "bad_answer"
                if error:
                    log.warning("progress for %s/%s dropped: %s (%s)", event.profile_id,
                                event.title_id, error, result.get("message", "")
                                if isinstance(result, dict) else "")
                    marks.append((event, DROPPED, str(error)))
                else:
                    marks.append((event, SYNCED, None))
            # An answer shorter than the batch leaves the rest pending for the next round.
            self.outbox.mark(marks)
            if self.on_change is not None:
                self.on_change([e for e, _, _ in marks])
            if len(results) < len(batch):
                log.warning("the batch answer had %d of %d results", len(results), len(batch))
                self.failures += 1
                return False
