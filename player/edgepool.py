"""The edges a session can fetch from: probing, health (one circuit breaker each) and ranking.

An edge is a pathway of the multivariant playlist (PATHWAY-ID = edge name); its base URL is the
scheme and host of that pathway's variant URIs.

**Ranking** (:meth:`EdgePool.ordered`), by the first difference in:

1. circuit state: closed, then half-open, then open;
2. measured performance, only when it is clearly worse than the best closed edge: an edge is
   demoted when its RTT exceeds the best RTT by more than ``rtt_slack_s``, or when its
   throughput is below ``slow_fraction`` of the best *and* below ``sufficient_throughput_bps``
   (an edge fast enough for every rendition is never demoted for speed), or when its latest
   throughput sample is below :attr:`EdgePool.useful_bps` (the lowest rendition's bitrate, set
   by the fetcher: not even the lowest rung plays in real time from it, so an edge that is
   merely unmeasured is a better bet);
3. steering priority (the last PATHWAY-PRIORITY applied; pathways it omits come after, in playlist
   order).

So steering decides among comparable edges: a 1 ms RTT difference never overrides it, a dead or
clearly slower edge does.

**Time to first byte.** The pool keeps each edge's last ``ttfb_window`` TTFB samples (the
fetcher reports them); :meth:`EdgePool.expected_ttfb_s` is their ``ttfb_percentile`` (and at
least the probed RTT); an edge with no sample of its own gets the best that the other edges
show (the same path: a slow origin makes every edge slow). The fetcher's timeouts and the
probe's ``GET /health`` limit grow with it, so a healthy-but-slow server is not mistaken for a
hung one.
"""

from __future__ import annotations

import asyncio
import collections
import logging
import math
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import httpx

from player.circuit import CircuitBreaker, CircuitConfig, State
from player.errors import NoEdgeError
from player.presentation import Multivariant

log = logging.getLogger("edge")

_HEALTH_RANK = {State.CLOSED: 0, State.HALF_OPEN: 1, State.OPEN: 2}


@dataclass(frozen=True)
class EdgePoolConfig:
    probe_top_k: int = 3
    """Edges probed by :meth:`EdgePool.probe` (count, the top of the ranking). Default 3."""
    health_timeout_s: float = 0.5
    """Limit for ``GET /health`` when probing (seconds); a timeout is a hard failure, so a hung
    edge is found within this time. Default 0.5."""
    probe_timeout_s: float = 1.0
    """Limit for the whole throughput probe (seconds); bytes read by then still count.
    Default 1.0."""
    probe_bytes: int = 256 * 1024
    """Size of the throughput probe (bytes). Default 262144 (256 KiB)."""
    rtt_slack_s: float = 0.05
    """RTT above the best edge's that still counts as comparable (seconds). Default 0.05."""
    slow_fraction: float = 0.5
    """Throughput below this fraction of the best edge's is "clearly slower" (0..1).
    Default 0.5."""
    sufficient_throughput_bps: float = 50e6
    """Throughput at which an edge is never demoted for speed (bits/s). Default 50e6."""
    throughput_ewma_alpha: float = 0.3
    """Weight of a new throughput sample in the per-edge average (0..1). Default 0.3."""
    ttfb_window: int = 20
    """TTFB samples kept per edge (count). Default 20."""
    ttfb_percentile: float = 0.9
    """The percentile of those samples an edge is expected to answer within (0..1).
    Default 0.9."""
    probe_path_factor: float = 2.0
    """The probe's ``GET /health`` limit is at least this × the edge's expected TTFB
    (factor). Default 2.0."""
    circuit: CircuitConfig = field(default_factory=CircuitConfig)
    """Circuit breaker tunables, shared by every edge."""


@dataclass(frozen=True)
class EdgeStatus:
    """A snapshot of one edge."""

    name: str
    base_url: str
    state: State
    steering_rank: int
    """0 = the steering server's first choice."""
    rtt_s: float | None
    throughput_bps: float | None
    last_error: str | None
    consecutive_failures: int
    ttfb_samples: int = 0
    """TTFB samples kept for this edge (0: never answered a fetch)."""
    too_slow: bool = False
    """Its latest throughput sample is below the pool's ``useful_bps``."""


@dataclass(frozen=True)
class ProbeResult:
    name: str
    rtt_s: float | None
    throughput_bps: float | None
    error: str | None


@dataclass
class _Edge:
    name: str
    base_url: str
    breaker: CircuitBreaker
    order: int
    rtt_s: float | None = None
    throughput_bps: float | None = None
    last_error: str | None = None
    last_sample_bps: float | None = None
    ttfbs: collections.deque[float] = field(default_factory=collections.deque)


def edges_of(multivariant: Multivariant) -> dict[str, str]:
    """pathway id → edge base URL (scheme://host:port of its first variant), in playlist order."""
    out = {}
    for pathway in multivariant.pathways:
        parts = urlsplit(pathway.variants[0].uri)
        out[pathway.id] = f"{parts.scheme}://{parts.netloc}"
    return out


def _describe(exc: BaseException) -> str:
    text = str(exc)
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


class EdgePool:
    def __init__(self, edges: Mapping[str, str], http: httpx.AsyncClient, *,
                 config: EdgePoolConfig | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        """``edges``: pathway id → base URL, in playlist order. ``clock``: monotonic seconds."""
        self.config = config or EdgePoolConfig()
        self._http = http
        self._clock = clock
        self._edges: dict[str, _Edge] = {}
        self._priority: dict[str, int] = {}
        self.useful_bps: float | None = None
        """Least throughput that plays the lowest rendition in real time (bit/s); an edge whose
        latest sample is below it ranks after the other closed edges. None: no such rule."""
        self.load_allowance_s: Callable[[], float] = lambda: 0.0
        """Seconds that CPU load adds to a timeout now (the scheduler's
        :class:`~player.loadlag.LoopLag`)."""
        self.set_edges(edges)

    @classmethod
    def from_multivariant(cls, multivariant: Multivariant, http: httpx.AsyncClient, *,
                          config: EdgePoolConfig | None = None,
                          clock: Callable[[], float] = time.monotonic) -> EdgePool:
        return cls(edges_of(multivariant), http, config=config, clock=clock)

    def set_edges(self, edges: Mapping[str, str]) -> None:
        """Replace the edge list (a reloaded manifest); edges kept by name keep their health."""
        old = self._edges
        self._edges = {}
        for order, (name, url) in enumerate(edges.items()):
            edge = old.get(name) or _Edge(name, url, CircuitBreaker(self.config.circuit,
                                                                    self._clock), order)
            edge.base_url, edge.order = url.rstrip("/"), order
            self._edges[name] = edge

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(self._edges)

    def base_url(self, name: str) -> str:
        return self._edges[name].base_url

    # --- steering ------------------------------------------------------------------------------

    def apply_steering(self, priority: Sequence[str]) -> None:
        known = [p for p in priority if p in self._edges]
        unknown = [p for p in priority if p not in self._edges]
        if unknown:
            log.info("steering names unknown pathways %s: ignored", ",".join(unknown))
        self._priority = {name: rank for rank, name in enumerate(known)}
        log.info("steering priority %s", ",".join(known))

    def _steering_rank(self, edge: _Edge) -> int:
        return self._priority.get(edge.name, len(self._priority) + edge.order)

    # --- ranking -------------------------------------------------------------------------------

    def _too_slow(self, edge: _Edge) -> bool:
        return (self.useful_bps is not None and edge.last_sample_bps is not None
                and edge.last_sample_bps < self.useful_bps)

    def _demoted(self, edge: _Edge, best_rtt: float | None, best_tput: float | None) -> bool:
        c = self.config
        if self._too_slow(edge):
            return True
        if (edge.rtt_s is not None and best_rtt is not None
                and edge.rtt_s > best_rtt + c.rtt_slack_s):
            return True
        return (edge.throughput_bps is not None and best_tput is not None
                and edge.throughput_bps < c.slow_fraction * best_tput
                and edge.throughput_bps < c.sufficient_throughput_bps)

    def _ranked(self) -> list[_Edge]:
        closed = [e for e in self._edges.values() if e.breaker.state is State.CLOSED]
        rtts = [e.rtt_s for e in closed if e.rtt_s is not None]
        tputs = [e.throughput_bps for e in closed if e.throughput_bps is not None]
        best_rtt, best_tput = (min(rtts) if rtts else None), (max(tputs) if tputs else None)

        def key(edge: _Edge) -> tuple[int, int, int, int]:
            return (_HEALTH_RANK[edge.breaker.state], int(self._demoted(edge, best_rtt, best_tput)),
                    self._steering_rank(edge), edge.order)
        return sorted(self._edges.values(), key=key)

    def _status(self, edge: _Edge) -> EdgeStatus:
        return EdgeStatus(edge.name, edge.base_url, edge.breaker.state, self._steering_rank(edge),
                          edge.rtt_s, edge.throughput_bps, edge.last_error,
                          edge.breaker.consecutive_failures, len(edge.ttfbs),
                          self._too_slow(edge))

    def ordered(self) -> list[EdgeStatus]:
        """Every edge, best first (open circuits last)."""
        return [self._status(e) for e in self._ranked()]

    def status(self, name: str) -> EdgeStatus:
        return self._status(self._edges[name])

    def best(self, exclude: Iterable[str] = ()) -> EdgeStatus:
        """The edge to fetch from next; takes the half-open trial slot if it picks such an edge.

        Raises :class:`NoEdgeError` (every edge with its last error) when none may be used.
        """
        skip = set(exclude)
        for edge in self._ranked():
            if edge.name not in skip and edge.breaker.allow():
                return self._status(edge)
        failures = {e.name: e.last_error or ("excluded" if e.name in skip
                                             else f"circuit {e.breaker.state.value}")
                    for e in self._edges.values()}
        log.warning("no usable edge: %s", failures)
        raise NoEdgeError(failures)

    def healthy_other_than(self, edge: str) -> bool:
        """Is some other edge closed and not known to be too slow?"""
        return any(e.name != edge and e.breaker.state is State.CLOSED and not self._too_slow(e)
                   for e in self._edges.values())

    @property
    def degraded(self) -> bool:
        """Fewer than two healthy (closed) edges, or none when there is one: reload steering."""
        healthy = sum(e.breaker.state is State.CLOSED for e in self._edges.values())
        return healthy < min(2, len(self._edges))

    # --- health reports ------------------------------------------------------------------------

    def report_success(self, edge: str, bytes_: int, seconds: float) -> None:
        """A fetch of ``bytes_`` bytes took ``seconds`` (from request to last byte)."""
        e = self._edges[edge]
        was = e.breaker.state
        e.breaker.record_success()
        if was is not State.CLOSED:
            log.info("%s recovered: circuit closed", edge)
        self.report_throughput(edge, bytes_, seconds)

    def report_throughput(self, edge: str, bytes_: int, seconds: float) -> None:
        """A throughput sample (a finished fetch, or one the ABR abandoned) without a verdict
        on the edge's health."""
        e = self._edges[edge]
        if seconds <= 0 or bytes_ <= 0:
            return
        sample = bytes_ * 8 / seconds
        alpha = self.config.throughput_ewma_alpha
        e.throughput_bps = (sample if e.throughput_bps is None
                            else alpha * sample + (1 - alpha) * e.throughput_bps)
        was_slow = self._too_slow(e)
        e.last_sample_bps = sample
        if self._too_slow(e) and not was_slow:
            log.warning("%s too slow: %.0f kbit/s, under the lowest rendition's %.0f kbit/s",
                        edge, sample / 1000, (self.useful_bps or 0) / 1000)

    def report_ttfb(self, edge: str, seconds: float) -> None:
        """A request to ``edge`` got its response headers after ``seconds``."""
        samples = self._edges[edge].ttfbs
        samples.append(seconds)
        while len(samples) > max(1, self.config.ttfb_window):
            samples.popleft()

    def _percentile(self, edge: _Edge) -> float | None:
        if not edge.ttfbs:
            return None
        ordered = sorted(edge.ttfbs)
        rank = math.ceil(self.config.ttfb_percentile * len(ordered))
        return ordered[min(len(ordered), max(1, rank)) - 1]

    def ttfb_measured(self, edge: str) -> bool:
        """Has ``edge`` itself answered a request yet?"""
        return bool(self._edges[edge].ttfbs)

    def expected_ttfb_s(self, edge: str) -> float | None:
        """The TTFB ``edge`` should answer within (module docstring), None: nothing known."""
        e = self._edges[edge]
        own = self._percentile(e)
        if own is None:
            others = [p for p in map(self._percentile, self._edges.values()) if p is not None]
            own = min(others) if others else None
        if own is None:
            return e.rtt_s
        return max(own, e.rtt_s or 0.0)

    def report_failure(self, edge: str, cause: str, hard: bool = False) -> None:
        """A fetch or probe failed; ``hard`` (refused, timed out) opens the circuit at once."""
        e = self._edges[edge]
        was = e.breaker.state
        e.last_error = cause
        e.breaker.record_failure(hard)
        now = e.breaker.state
        if now is not was or now is State.OPEN:
            log.warning("%s failed (%s%s): circuit %s for %.1f s", edge, cause,
                        ", hard" if hard else "", now.value, e.breaker.reopens_in_s)
        else:
            log.info("%s failed (%s): %d in a row", edge, cause, e.breaker.consecutive_failures)

    # --- probing -------------------------------------------------------------------------------

    async def probe(self, k: int | None = None) -> list[ProbeResult]:
        """Probe the top ``k`` edges in parallel (RTT, then throughput) and feed the results in."""
        targets = [e.name for e in self._ranked()][: k or self.config.probe_top_k]
        results = await asyncio.gather(*(self._probe_one(self._edges[n]) for n in targets))
        for r in results:
            log.info("probe %s: rtt %s, throughput %s%s", r.name,
                     "-" if r.rtt_s is None else f"{r.rtt_s * 1000:.1f} ms",
                     "-" if r.throughput_bps is None else f"{r.throughput_bps / 1e6:.1f} Mbit/s",
                     f", failed ({r.error})" if r.error else "")
        return list(results)

    async def _probe_one(self, edge: _Edge) -> ProbeResult:
        start = self._clock()
        limit = self.health_timeout_s(edge.name)
        try:
            response = await self._http.get(edge.base_url + "/health", timeout=limit)
        except httpx.TransportError as exc:
            # Refused, reset or silent past the timeout: a hard failure.
            return self._probe_failed(edge, _describe(exc), hard=True)
        edge.rtt_s = self._clock() - start
        if response.status_code != 200:
            return self._probe_failed(edge, f"health answered {response.status_code}",
                                      hard=False)
        try:
            throughput = await self._throughput(edge)
        except (httpx.TransportError, TimeoutError) as exc:
            return self._probe_failed(edge, f"throughput probe: {_describe(exc)}", hard=True)
        except _ProbeStatusError as exc:
            return self._probe_failed(edge, str(exc), hard=False)
        edge.breaker.record_success()
        if throughput is not None:
            edge.throughput_bps = edge.last_sample_bps = throughput
        edge.last_error = None
        return ProbeResult(edge.name, edge.rtt_s, throughput, None)

    def health_timeout_s(self, edge: str) -> float:
        """The probe's limit for ``GET /health``: ``health_timeout_s``, or more on a path
        that answers slowly, plus what CPU load adds."""
        c = self.config
        expected = self.expected_ttfb_s(edge) or 0.0
        return max(c.health_timeout_s, c.probe_path_factor * expected) + self.load_allowance_s()

    def _probe_failed(self, edge: _Edge, cause: str, hard: bool) -> ProbeResult:
        self.report_failure(edge.name, f"probe: {cause}", hard=hard)
        return ProbeResult(edge.name, edge.rtt_s, None, cause)

    async def _throughput(self, edge: _Edge) -> float | None:
        """Bits/s over the bytes after the first chunk (time to first byte excluded)."""
        c = self.config
        url = f"{edge.base_url}/v1/probe"
        # Its time to first byte is not measured, so a slow path lengthens the limit.
        limit = self.health_timeout_s(edge.name) - c.health_timeout_s + c.probe_timeout_s
        start = self._clock()
        first_at: float | None = None
        first_len = total = 0
        try:
            async with asyncio.timeout(limit):
                async with self._http.stream("GET", url, params={"bytes": str(c.probe_bytes)},
                                             timeout=limit) as response:
                    if response.status_code != 200:
                        raise _ProbeStatusError(
                            f"throughput probe answered {response.status_code}")
                    async for chunk in response.aiter_bytes():
                        if first_at is None:
                            first_at, first_len = self._clock(), len(chunk)
                        total += len(chunk)
        except (TimeoutError, httpx.TimeoutException):
            # A slow link: the bytes read by then still measure it (nothing at all: hung).
            if first_at is None or total <= first_len:
                raise TimeoutError("no probe bytes in time") from None
        end = self._clock()
        if first_at is not None and end > first_at and total > first_len:
            return (total - first_len) * 8 / (end - first_at)
        if end > start and total:  # everything came in one chunk
            return total * 8 / (end - start)
        return None


class _ProbeStatusError(Exception):
    pass
