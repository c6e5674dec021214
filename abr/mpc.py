"""A RobustMPC-style planner (Yin et al., "A Control-Theoretic Approach for Dynamic Adaptive Video
Streaming over HTTP", SIGCOMM 2015), pruned so it is cheap in pure Python.

* :class:`RobustPredictor`: the harmonic mean of the last ``window`` throughput samples, divided
  by ``1 + `` the largest relative prediction error among the last ``window`` predictions
  (RobustMPC's lower bound on the coming throughput).
* :func:`plan_first_rung`: the rung sequence over ``horizon`` segments that maximises the
  predicted QoE_lin (``Σ bitrate − 4.3 × stall − |Δ bitrate|``, Mbit/s) plus an optional extra
  penalty per switch, under the simulator's buffer rules (time to first byte, the buffer cap);
  the first rung is returned. Pruning: only rungs within ``reach`` of the current one, and only
  *monotone* sequences (never up then down or down then up): with a constant predicted
  throughput an up-and-down plan pays the |Δ| term twice for bitrate a monotone plan can mostly
  have too. On the train set the full 6-rung search (reach 5) scored within 0.01 Mbit/s of reach
  2 on hsdpa and fcc and 0.12 lower on lte (docs/abr.md). A depth-first walk shares prefixes.
  An optional terminal term charges the plan for ending below a target buffer. With 6 rungs,
  reach 2 and a horizon of
  5 that is at most 247 sequences (about 600 tree nodes) per decision instead of 6^5 = 7776.
* :class:`RobustMpcPolicy`: the planner as a whole policy (first segment as the hysteresis policy
  starts, then the plan's first rung every segment; no abandonment). The bench runs it as a
  reference row (``robust_mpc``); it is not the product policy (docs/abr.md gives the numbers of
  every way of combining it with the hysteresis policy that was tried).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass

from abr.base import PolicyBase
from abr.interface import Decision
from abr.ladder import highest_rung_at_most
from abr.sim.qoe import REBUFFER_PENALTY


@dataclass(frozen=True)
class MpcConfig:
    horizon: int = 5
    """Segments planned ahead (RobustMPC's N). Default 5."""
    window: int = 5
    """Throughput samples in the harmonic mean and prediction errors remembered. Default 5."""
    reach: int = 2
    """Plans use only rungs within this many of the current one. Default 2."""
    switch_penalty: float = 0.0
    """Extra QoE cost of each planned switch, Mbit/s (on top of QoE_lin's |Δ bitrate|).
    Default 0."""
    terminal_buffer_s: float = 0.0
    """Buffer the plan should end with, seconds. Default 0 (RobustMPC has no such term)."""
    terminal_weight: float = 0.0
    """QoE cost per second the plan's final buffer falls short of ``terminal_buffer_s``,
    Mbit/s per second. Default 0."""
    min_sample_bytes: int = 16_000
    """Smaller downloads are not sampled, bytes. Default 16 000."""
    max_buffer_s: float = 60.0
    """The player's buffer cap, seconds. Default 60."""
    default_estimate_bps: float = 1_000_000.0
    """Throughput assumed for the first segment, bit/s. Default 1 000 000."""
    startup_safety: float = 0.75
    """The first rung is the highest at most this × the starting estimate. Default 0.75 (as the
    hysteresis policy starts)."""


class RobustPredictor:
    """Harmonic mean of recent throughput, discounted by the recent worst relative error."""

    def __init__(self, config: MpcConfig | None = None) -> None:
        self.config = config or MpcConfig()
        self._samples: deque[float] = deque(maxlen=self.config.window)
        self._errors: deque[float] = deque(maxlen=self.config.window)

    def sample(self, bytes_: int, seconds: float, ttfb_s: float = 0.0) -> None:
        if seconds <= 0 or bytes_ < self.config.min_sample_bytes:
            return
        transfer_s = max(seconds - min(max(ttfb_s, 0.0), seconds), 0.001)
        bps = 8.0 * bytes_ / transfer_s
        predicted = self.harmonic_mean_bps()
        if predicted is not None:
            self._errors.append(abs(predicted - bps) / bps)
        self._samples.append(bps)

    def harmonic_mean_bps(self) -> float | None:
        if not self._samples:
            return None
        return len(self._samples) / sum(1.0 / s for s in self._samples)

    def max_error(self) -> float:
        return max(self._errors, default=0.0)

    def robust_bps(self) -> float | None:
        """The harmonic mean / (1 + max recent relative error), or None before any sample."""
        mean = self.harmonic_mean_bps()
        return None if mean is None else mean / (1.0 + self.max_error())


def plan_first_rung(
    bitrates_bps: Sequence[int],
    segment_duration_s: float,
    buffer_s: float,
    current_rung: int,
    throughput_bps: float,
    ttfb_s: float,
    max_buffer_s: float,
    top_rung: int,
    config: MpcConfig | None = None,
) -> tuple[int, float]:
    """The first rung of the best monotone plan, and that plan's predicted QoE (Mbit/s, sum).

    Every planned segment takes ``ttfb_s + bitrate × segment / throughput_bps``; the buffer never
    exceeds ``max_buffer_s`` (the client idles). Ties go to the plan found first, which starts
    at the current rung."""
    cfg = config or MpcConfig()
    seg = segment_duration_s
    low = max(0, current_rung - cfg.reach)
    high = min(top_rung, current_rung + cfg.reach)
    if current_rung > top_rung:
        low, high = max(0, top_rung - cfg.reach), top_rung
    mbps = [b / 1e6 for b in bitrates_bps]
    fetch_s = [ttfb_s + b * seg / throughput_bps for b in bitrates_bps]
    cap = max_buffer_s
    penalty = cfg.switch_penalty
    horizon = max(1, cfg.horizon)
    terminal_s = cfg.terminal_buffer_s
    terminal_w = cfg.terminal_weight
    best_value = float("-inf")
    best_first = min(max(current_rung, low), high)
    # candidate first rungs: the current one first so ties keep it
    order = [best_first] + [r for r in range(high, low - 1, -1) if r != best_first]

    def walk(depth: int, rung: int, prev: int, buf: float, value: float, direction: int) -> float:
        """Best value of the plan's remaining segments from ``depth`` on, ``rung`` fetched now."""
        download = fetch_s[rung]
        stall = download - buf if download > buf else 0.0
        buf = (buf - download if download < buf else 0.0) + seg
        if buf > cap:
            buf = cap
        gain = mbps[rung] - REBUFFER_PENALTY * stall
        if rung != prev:
            gain -= abs(mbps[rung] - mbps[prev]) + penalty
        value += gain
        if depth + 1 == horizon:
            if buf < terminal_s:
                value -= terminal_w * (terminal_s - buf)
            return value
        best = float("-inf")
        if direction >= 0:
            for nxt in range(rung, high + 1):
                d = 0 if nxt == rung and direction == 0 else 1
                v = walk(depth + 1, nxt, rung, buf, value, d)
                if v > best:
                    best = v
        if direction <= 0:
            start = rung if direction < 0 else rung - 1
            for nxt in range(start, low - 1, -1):
                v = walk(depth + 1, nxt, rung, buf, value, -1)
                if v > best:
                    best = v
        return best

    for first in order:
        direction = 0 if first == current_rung else (1 if first > current_rung else -1)
        v = walk(0, first, current_rung, buffer_s, 0.0, direction)
        if v > best_value + 1e-12:
            best_value = v
            best_first = first
    return best_first, best_value


class RobustMpcPolicy(PolicyBase):
    """RobustMPC: every segment, the first rung of the best plan at the robust prediction."""

    name = "robust_mpc"

    def __init__(self, config: MpcConfig | None = None) -> None:
        self.config = config or MpcConfig()
        super().__init__()
        self.predictor = RobustPredictor(self.config)

    def start(
        self,
        bitrates_bps: Sequence[int],
        segment_duration_s: float,
        segment_count: int | None = None,
        *,
        max_buffer_s: float | None = None,
        segment_sizes_bits: Sequence[Sequence[int]] | None = None,
    ) -> None:
        super().start(
            bitrates_bps,
            segment_duration_s,
            segment_count,
            max_buffer_s=max_buffer_s,
            segment_sizes_bits=segment_sizes_bits,
        )
        self.predictor = RobustPredictor(self.config)

    def on_download_complete(
        self, rung: int, bytes_: int, seconds: float, ttfb_s: float, now_s: float
    ) -> None:
        super().on_download_complete(rung, bytes_, seconds, ttfb_s, now_s)
        self.predictor.sample(bytes_, seconds, ttfb_s)

    def choose(
        self,
        segment_index: int,
        buffer_s: float,
        now_s: float,
        segment_bits: Sequence[int] | None = None,
    ) -> Decision:
        cfg = self.config
        top = self.top_rung
        robust = self.predictor.robust_bps()
        if self.last_rung is None or robust is None:
            start_bps = cfg.default_estimate_bps * cfg.startup_safety
            return self._decide(highest_rung_at_most(self.bitrates_bps, start_bps, top), "startup")
        rung, _ = plan_first_rung(
            self.bitrates_bps,
            self.segment_duration_s,
            buffer_s,
            self.last_rung,
            robust,
            self.estimator.ttfb_s(),
            cfg.max_buffer_s,
            top,
            cfg,
        )
        return self._decide(rung, "mpc")
