"""Monotonic time that moves only when the code under test sleeps (``monotonic=``/``sleep=``)."""

from __future__ import annotations

import asyncio


class FakeTime:
    """Pass ``monotonic`` and ``sleep`` where the code takes them: every sleep returns at once,
    after moving the clock by what it asked for, and is recorded in ``sleeps``. Meant for one
    paced activity at a time (concurrent sleepers would add up)."""

    def __init__(self, now_s: float = 100.0) -> None:
        self.now_s = now_s
        self.sleeps: list[float] = []

    def monotonic(self) -> float:
        return self.now_s

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now_s += max(0.0, seconds)
        await asyncio.sleep(0)  # still a suspension point, as a real sleep is
