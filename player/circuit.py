"""A per-edge circuit breaker: closed → open → half-open → closed.

- **closed**: requests go through; ``failure_threshold`` failures in a row, or one hard failure
  (refused connection, timeout on a probe), open it.
- **open**: no requests for a cool-down that starts at ``cooldown_s`` and grows by
  ``cooldown_growth`` each time the breaker trips again without having closed (capped at
  ``max_cooldown_s``).
- **half-open** (the cool-down has passed): :meth:`allow` lets one trial request through; its
  success closes the breaker (and resets the cool-down), its failure opens it again. A trial that
  reports nothing within ``trial_timeout_s`` is given up and another may go.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass


class State(enum.Enum):
    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half-open"


@dataclass(frozen=True)
class CircuitConfig:
    failure_threshold: int = 3
    """Soft failures in a row that open the breaker (count). Default 3."""
    cooldown_s: float = 2.0
    """First open period (seconds). Default 2.0."""
    cooldown_growth: float = 2.0
    """Factor applied to the open period each time it trips again before closing. Default 2.0."""
    max_cooldown_s: float = 30.0
    """Longest open period (seconds). Default 30.0."""
    trial_timeout_s: float = 10.0
    """A half-open trial that reports nothing for this long (seconds) frees the slot.
    Default 10.0."""


class CircuitBreaker:
    def __init__(self, config: CircuitConfig, clock: Callable[[], float]) -> None:
        """``clock``: monotonic seconds."""
        self.config = config
        self._clock = clock
        self._open = False
        self._failures = 0
        self._trips = 0
        self._opened_at = 0.0
        self._trial_started_at: float | None = None

    @property
    def cooldown_s(self) -> float:
        """The current (or next) open period."""
        c = self.config
        return min(c.max_cooldown_s, c.cooldown_s * c.cooldown_growth ** max(0, self._trips - 1))

    @property
    def state(self) -> State:
        if not self._open:
            return State.CLOSED
        if self._clock() - self._opened_at >= self.cooldown_s:
            return State.HALF_OPEN
        return State.OPEN

    @property
    def reopens_in_s(self) -> float:
        """Seconds until an open breaker turns half-open (0 when not open)."""
        if self.state is not State.OPEN:
            return 0.0
        return self._opened_at + self.cooldown_s - self._clock()

    @property
    def trips(self) -> int:
        """Times the breaker opened since it last closed."""
        return self._trips

    @property
    def consecutive_failures(self) -> int:
        return self._failures

    def available(self) -> bool:
        """Would :meth:`allow` say yes (without taking the half-open trial)?"""
        state = self.state
        if state is State.CLOSED:
            return True
        if state is State.OPEN:
            return False
        started = self._trial_started_at
        return started is None or self._clock() - started >= self.config.trial_timeout_s

    def allow(self) -> bool:
        """May a request go now? In half-open this takes the one trial slot."""
        if not self.available():
            return False
        if self.state is State.HALF_OPEN:
            self._trial_started_at = self._clock()
        return True

    def record_success(self) -> None:
        self._open = False
        self._failures = 0
        self._trips = 0
        self._trial_started_at = None

    def record_failure(self, hard: bool = False) -> None:
        self._failures += 1
        half_open = self.state is State.HALF_OPEN
        if half_open or (not self._open and (hard or
                                             self._failures >= self.config.failure_threshold)):
            self._trip()

    def _trip(self) -> None:
        self._open = True
        self._trips += 1
        self._opened_at = self._clock()
        self._trial_started_at = None
