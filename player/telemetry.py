"""Structured playback events: to the log, to subscribers, and batched to the control plane.

One :class:`Telemetry` per playback session. ``emit(type, **fields)`` builds an event dict
(``type``, ``session_id``, ``title_id``, ``seq``, ``t_ms`` since the session started, ``at``
Unix seconds, then the fields), logs one line on ``player.telemetry``, calls every subscriber
(the UI's stats overlay; on the engine loop) and queues it for the control plane.

Event types the session emits (fields besides the common ones):

=====================  ======================================================================
``session_start``      ``start_index``, ``resume_position_s``, ``renditions``, ``edges``, ``format``
``first_frame``        ``ttff_ms``, ``rendition``, ``edge``
``rendition_switch``   ``from``, ``to`` (rungs; ``from`` None at start-up), ``rendition``,
                       ``bitrate_bps``, ``reason``, ``index``
``rebuffer_start``     ``index``, ``cause`` (``stall``, ``startup``, ``seek``)
``rebuffer_end``       ``index``, ``cause``, ``waited_ms``
``failover``           ``cause``, ``edge_from``, ``edge_to``, ``detection_ms``, ``index``,
                       ``resume_from_byte``, ``detail``
``seek``               ``from_s``, ``to_s``
``pause`` / ``resume``
``steering``           ``priority``, ``reason`` (``ttl``, ``degraded``, ``failover``)
``error``              ``code``, ``message``
``session_end``        ``reason`` (``eof``, ``stopped``, ``error``), ``position_s``,
                       ``played_s``, ``played_by_rung`` (``{rung: seconds}``), ``bitrates_bps``
=====================  ======================================================================

**Batching.** Events wait in a bounded queue (``queue_max``; the oldest are dropped and counted
in ``dropped``) and go to ``post`` (``ControlPlaneClient.post_telemetry``) every
``flush_interval_s`` or as soon as ``batch_events`` are waiting, and once more at ``close()``.
A failed post is logged once per streak and its events go back to the queue (still bounded):
telemetry never disturbs playback.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

log = logging.getLogger("player.telemetry")

Event = dict[str, Any]
Post = Callable[[Sequence[Event]], Awaitable[object]]
Subscriber = Callable[[Event], None]


@dataclass(frozen=True)
class TelemetryConfig:
    flush_interval_s: float = 10.0
    """Seconds between posts to the control plane. Default 10."""
    batch_events: int = 50
    """Post at once when this many events are waiting (count). Default 50."""
    max_batch: int = 500
    """Most events in one post (count; the protocol allows 1000). Default 500."""
    queue_max: int = 2000
    """Bound on waiting events; beyond it the oldest are dropped (count). Default 2000."""
    close_timeout_s: float = 2.0
    """How long ``close()`` may spend on the final post, seconds. Default 2."""


class Telemetry:
    """``Telemetry(session_id=…, title_id=…, post=cp.post_telemetry)``; ``start()``, ``emit()``,
    ``subscribe()``, ``await close()``. ``events`` keeps every event of the session (the QoE
    report is computed from it)."""

    def __init__(self, *, session_id: str = "", title_id: str = "", post: Post | None = None,
                 config: TelemetryConfig | None = None,
                 clock: Callable[[], float] = time.monotonic,
                 wall_clock: Callable[[], float] = time.time) -> None:
        self.config = config or TelemetryConfig()
        self.session_id = session_id
        self.title_id = title_id
        self._post = post
        self._clock = clock
        self._wall = wall_clock
        self._start = clock()
        self._seq = 0
        self._queue: deque[Event] = deque()
        self._subscribers: list[Subscriber] = []
        self._task: asyncio.Task[None] | None = None
        self._wake: asyncio.Event | None = None
        self._failing = False
        self._closed = False
        self.events: list[Event] = []
        """Every event emitted, in order."""
        self.dropped = 0
        """Events dropped from the full queue (never posted)."""
        self.posted = 0
        """Events the control plane accepted."""

    # --- producing -----------------------------------------------------------------------------

    def subscribe(self, callback: Subscriber) -> Callable[[], None]:
        """Call ``callback(event)`` for every later event; returns the unsubscribe function."""
        self._subscribers.append(callback)

        def unsubscribe() -> None:
            if callback in self._subscribers:
                self._subscribers.remove(callback)
        return unsubscribe

    def emit(self, type_: str, **fields: Any) -> Event:
        now = self._clock()
        event: Event = {"type": type_, "session_id": self.session_id,
                        "title_id": self.title_id, "seq": self._seq,
                        "t_ms": round((now - self._start) * 1000, 1),
                        "at": round(self._wall(), 3), **fields}
        self._seq += 1
        self.events.append(event)
        log.info("%s %s", type_, " ".join(f"{k}={v}" for k, v in fields.items()))
        for callback in list(self._subscribers):
            try:
                callback(event)
            except Exception:
                log.exception("telemetry subscriber failed on %s", type_)
        if self._post is not None and not self._closed:
            self._enqueue([event])
            if len(self._queue) >= self.config.batch_events and self._wake is not None:
                self._wake.set()
        return event

    def _enqueue(self, events: Sequence[Event], front: bool = False) -> None:
        if front:
            self._queue.extendleft(reversed(events))
        else:
            self._queue.extend(events)
        while len(self._queue) > self.config.queue_max:
            if front:
                self._queue.pop()  # the newest go when the old ones come back
            else:
                self._queue.popleft()
            self.dropped += 1

    @property
    def pending(self) -> int:
        """Events waiting for the next post."""
        return len(self._queue)

    # --- posting -------------------------------------------------------------------------------

    def start(self) -> None:
        """Start the periodic flush on the running loop (no-op without ``post``)."""
        if self._post is None or self._task is not None:
            return
        self._wake = asyncio.Event()
        self._task = asyncio.create_task(self._run(), name="telemetry")

    async def _run(self) -> None:
        assert self._wake is not None
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.config.flush_interval_s)
            self._wake.clear()
            await self.flush()

    async def flush(self) -> None:
        """Post what is waiting (in batches of ``max_batch``); failures requeue."""
        while self._queue and self._post is not None:
            batch = [self._queue.popleft()
                     for _ in range(min(len(self._queue), self.config.max_batch))]
            try:
                await self._post(batch)
            except asyncio.CancelledError:
                self._enqueue(batch, front=True)
                raise
            except Exception as exc:
                self._enqueue(batch, front=True)
                if not self._failing:
                    log.warning("telemetry post failed (%s: %s): keeping %d events for later",
                                type(exc).__name__, exc, len(self._queue))
                self._failing = True
                return
            self.posted += len(batch)
            if self._failing:
                log.info("telemetry post works again")
            self._failing = False

    async def close(self) -> None:
        """Stop the periodic flush and post what is left (bounded by ``close_timeout_s``)."""
        if self._closed:
            return
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        try:
            async with asyncio.timeout(self.config.close_timeout_s):
                await self.flush()
        except TimeoutError:
            log.warning("telemetry: final post timed out; %d events not sent", len(self._queue))
        self._closed = True
