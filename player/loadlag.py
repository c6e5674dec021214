"""How late the event loop runs: the CPU-load signal of the failover timeouts.

A response that is ready in the socket still needs the loop to read it; on a loaded machine (a
one-core CPU hog on two cores, mpv decoding, a big decryption) the loop runs late, and so would a
fixed timeout measured from the request: it fails over a healthy edge (measured: a seek under a
one-core hog caused a rebuffer and two false failovers at a 0.30 s TTFB timeout).

:class:`LoopLag` sleeps ``interval_s`` over and over on the loop and records how much later than
asked it woke up. :attr:`LoopLag.lag_s` is the largest such lag over the last ``window_s``
seconds; :attr:`LoopLag.allowance_s` (``factor`` × that, at most ``max_allowance_s``) is what
every TTFB and stall timeout adds (:func:`player.failover.adaptive_timeout_s`). The scheduler
owns one per session: :meth:`start` with it, :meth:`stop` (awaited) on its way out.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

log = logging.getLogger("edge")


@dataclass(frozen=True)
class LagConfig:
    interval_s: float = 0.05
    """How often the loop's lateness is sampled (seconds). Default 0.05."""
    window_s: float = 5.0
    """Samples older than this are forgotten (seconds). Default 5.0."""
    factor: float = 3.0
    """Multiple of the recent worst lag added to every timeout (factor). Default 3.0."""
    max_allowance_s: float = 0.5
    """Most that load may add to a timeout (seconds): with the 1 s floor of an edge not heard
    from yet, a hung edge is still left within 1.5 s however loaded the CPU. Default 0.5."""


class LoopLag:
    """``lag = LoopLag(); lag.start()`` on the running loop; ``lag.allowance_s``;
    ``await lag.stop()``. ``clock`` and ``sleep`` are injectable (tests advance them)."""

    def __init__(self, config: LagConfig | None = None, *,
                 clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], Awaitable[object]] = asyncio.sleep) -> None:
        self.config = config or LagConfig()
        self._clock = clock
        self._sleep = sleep
        self._samples: collections.deque[tuple[float, float]] = collections.deque()
        self._task: asyncio.Task[None] | None = None

    def record(self, lag_s: float) -> None:
        """One sample: the loop woke ``lag_s`` seconds late (now)."""
        now = self._clock()
        self._samples.append((now, max(0.0, lag_s)))
        self._forget(now)

    def _forget(self, now: float) -> None:
        while self._samples and now - self._samples[0][0] > self.config.window_s:
            self._samples.popleft()

    @property
    def lag_s(self) -> float:
        """The worst lateness over the last ``window_s`` (0 when none was seen)."""
        self._forget(self._clock())
        return max((lag for _, lag in self._samples), default=0.0)

    @property
    def allowance_s(self) -> float:
        """What a timeout adds for load now (seconds)."""
        return min(self.config.factor * self.lag_s, self.config.max_allowance_s)

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run(), name="loop-lag")

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _run(self) -> None:
        interval = self.config.interval_s
        while True:
            asked = self._clock()
            await self._sleep(interval)
            lag = self._clock() - asked - interval
            if lag > 0.05:
                log.debug("event loop ran %.0f ms late", lag * 1000)
            self.record(lag)
