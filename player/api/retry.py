"""When and how long to wait before trying a control-plane request again."""

from __future__ import annotations

import random
from dataclasses import dataclass

RETRYABLE_STATUS = frozenset({502, 503, 504})
"""Answers that mean "a proxy or the service is briefly unavailable": worth another try."""


@dataclass(frozen=True)
class RetryPolicy:
    """Tunables of :class:`player.api.ControlPlaneClient`'s retries and timeouts."""

    attempts: int = 4
    """Tries per request, the first included (count). Default 4."""
    base_delay_s: float = 0.25
    """Back-off before the second try (seconds); doubles each time. Default 0.25."""
    max_delay_s: float = 4.0
    """Cap on one back-off (seconds). Default 4.0."""
    jitter_fraction: float = 0.5
    """Each back-off is shortened by a random part of up to this fraction (0..1), so clients
    that failed together do not retry together. Default 0.5."""
    connect_timeout_s: float = 3.0
    """TCP connect timeout (seconds). Default 3.0."""
    read_timeout_s: float = 10.0
    """Timeout for each read of an answer (seconds). Default 10.0."""

    def delay_s(self, retry: int, rng: random.Random) -> float:
        """Back-off before retry number ``retry`` (1 = the second try)."""
        ceiling = min(self.max_delay_s, self.base_delay_s * 2.0 ** (retry - 1))
        return ceiling * (1.0 - self.jitter_fraction * rng.random())


IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "PUT", "DELETE", "OPTIONS"})
"""Methods retried after a timeout or a 502/503/504: repeating them changes nothing."""
