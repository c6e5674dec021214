"""The faults active on one edge and their run-time state.

Setting a fault of a kind that is already active replaces it (and restarts its state: the error
sequence, the trace clock). Clearing ``hang`` releases every connection it holds. ``kill`` is
stored here too, but the edge itself stops and restarts listening (see ``server.Edge``).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from controlplane.edge.faults import (
    CorruptFault,
    ErrorFault,
    Fault,
    HangFault,
    LatencyFault,
    SlowFault,
    TruncateFault,
)
from controlplane.edge.throttle import FixedRate, Pacer, RateSchedule, TraceRate


class FaultInjector:
    def __init__(
        self,
        monotonic: Callable[[], float],
        sleep: Callable[[float], Awaitable[None]],
    ) -> None:
        self._monotonic = monotonic
        self._sleep = sleep
        self._faults: dict[str, Fault] = {}
        self._errors_seen = 0
        self._pacer: Pacer | None = None
        self._hang_release: asyncio.Event | None = None
        self.held = 0
        """Requests waiting on the hang fault right now."""

    @property
    def active(self) -> tuple[Fault, ...]:
        return tuple(self._faults.values())

    def is_active(self, kind: str) -> bool:
        return kind in self._faults

    def set(self, fault: Fault) -> None:
        self.clear(fault.kind)
        self._faults[fault.kind] = fault
        if isinstance(fault, ErrorFault):
            self._errors_seen = 0
        elif isinstance(fault, SlowFault):
            schedule: RateSchedule
            if fault.rate_kbps is not None:
                schedule = FixedRate(fault.rate_kbps)
            else:
                schedule = TraceRate(fault.trace)
            self._pacer = Pacer(schedule, self._monotonic, self._sleep)
        elif isinstance(fault, HangFault):
            self._hang_release = asyncio.Event()

    def clear(self, kind: str | None = None) -> None:
        """Clear one kind, or every fault when ``kind`` is None."""
        kinds = list(self._faults) if kind is None else [kind]
        for name in kinds:
            if self._faults.pop(name, None) is None:
                continue
            if name == "slow":
                self._pacer = None
            elif name == "hang":
                self.release_hung()

    def release_hung(self) -> None:
        """Let go of every hung request; later requests hang again if the fault is still set."""
        if self._hang_release is not None:
            self._hang_release.set()
        self._hang_release = asyncio.Event() if "hang" in self._faults else None

    def _applies(self, kind: str, is_segment: bool) -> Fault | None:
        fault = self._faults.get(kind)
        if fault is None or (fault.paths == "segments" and not is_segment):
            return None
        return fault

    def hang_gate(self, is_segment: bool) -> asyncio.Event | None:
        """An event to wait on forever-until-cleared, when a hang applies."""
        return self._hang_release if self._applies("hang", is_segment) else None

    async def hold(self, gate: asyncio.Event) -> None:
        """Wait at a hang gate, counted in :attr:`held` meanwhile."""
        self.held += 1
        try:
            await gate.wait()
        finally:
            self.held -= 1

    def latency_ms(self, is_segment: bool) -> float:
        fault = self._applies("latency", is_segment)
        return fault.ms if isinstance(fault, LatencyFault) else 0.0

    def pacer(self, is_segment: bool) -> Pacer | None:
        return self._pacer if self._applies("slow", is_segment) else None

    def error_status(self, is_segment: bool) -> int | None:
        """The injected 5xx status for this request, or None; advances the error sequence."""
        fault = self._applies("error", is_segment)
        if not isinstance(fault, ErrorFault):
            return None
        n = self._errors_seen
        self._errors_seen += 1
        return fault.status if fault.hits(n) else None

    def cut_at(self, is_segment: bool, length: int) -> int | None:
        fault = self._applies("truncate", is_segment)
        return fault.cut_at(length) if isinstance(fault, TruncateFault) else None

    def corrupt_positions(self, is_segment: bool, size: int) -> tuple[int, ...]:
        """File offsets to flip; only media segments (.ts, .m4s) are corrupted, whatever the
        scope."""
        fault = self._applies("corrupt", is_segment)
        if not is_segment or not isinstance(fault, CorruptFault):
            return ()
        return fault.positions(size)
