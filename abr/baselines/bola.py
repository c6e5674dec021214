"""BOLA, after Spiteri, Urgaonkar and Sitaraman, "BOLA: Near-Optimal Bitrate Adaptation for Online
Videos" (INFOCOM 2016; IEEE/ACM ToN 2020), as dash.js v3's ``BolaRule`` runs it (BOLA-E).

Each rung m gets utility ``v_m = ln(S_m) + 1 - ln(S_1)`` (lowest = 1). With buffer level Q the
rung maximising ``(V * (v_m + gp) - Q) / S_m`` is fetched. ``gp`` and ``V`` follow dash.js's
``calculateBolaParameters``: the lowest rung up to ``MINIMUM_BUFFER_S`` (10 s), the top rung from
the buffer target. The buffer target is the largest buffer the client can have when it makes a
request (max buffer minus one segment), so BOLA uses the whole buffer like Sabre's BOLA does.

dash.js's additions, all kept:

* **Start**: the first segment at dash.js's initial bitrate (1000 kbit/s), then the throughput
  rung (0.9 × the estimate) until one segment is buffered. While starting, the *placeholder
  buffer* is set to the virtual buffer BOLA needs to choose that rung
  (``minBufferLevelForQuality``), so the step into steady state keeps the rung instead of
  dropping to the lowest.
* **Placeholder buffer** in steady state: the score uses buffer + placeholder. Time spent idle
  since the last download finished (here: at the buffer cap) is added to it; when
  buffer + placeholder exceeds the level at which the chosen rung stops being optimal
  (``maxBufferLevelForQuality``) the placeholder is drawn down first (dash.js's "delay" path;
  the voluntary idling beyond that is left out, the simulator's buffer cap replaces it). A
  rebuffer resets it to 0 (``onBufferEmpty``).
* **BOLA-O**: a step *up* beyond the throughput rung is limited to max(throughput rung, last rung).
* **InsufficientBufferRule** (which dash.js runs next to BOLA and takes the minimum of): after the
  first two segments, at most the rung for 0.5 × throughput × buffer / segment duration.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from abr.base import PolicyBase
from abr.baselines.throughput import ThroughputRule
from abr.interface import Decision

MINIMUM_BUFFER_S = 10.0
MINIMUM_BUFFER_PER_LEVEL_S = 2.0
INSUFFICIENT_BUFFER_SAFETY_FACTOR = 0.5
INSUFFICIENT_BUFFER_IGNORE_SEGMENTS = 2


@dataclass(frozen=True)
class BolaConfig:
    max_buffer_s: float = 60.0
    """The client's buffer cap, seconds; the buffer target is this minus one segment.
    Default 60."""
    oscillation_guard: bool = True
    """Apply BOLA-O (dash.js does). Default True."""
    placeholder: bool = True
    """Use dash.js's placeholder buffer (BOLA-E). Default True."""
    insufficient_buffer_rule: bool = True
    """Cap by dash.js's InsufficientBufferRule. Default True."""


def insufficient_buffer_cap(throughput: ThroughputRule, buffer_s: float) -> int | None:
    """dash.js ``InsufficientBufferRule``: the rung for 0.5 × throughput × buffer / segment,
    None while it is ignored (no estimate or the first two segments)."""
    estimate = throughput.estimate_bps
    if estimate is None or throughput.samples < INSUFFICIENT_BUFFER_IGNORE_SEGMENTS:
        return None
    bps = estimate * buffer_s / throughput.segment_duration_s * INSUFFICIENT_BUFFER_SAFETY_FACTOR
    return throughput.rung_for_bitrate(bps)


class Bola(PolicyBase):
    name = "bola"

    def __init__(self, config: BolaConfig | None = None) -> None:
        super().__init__()
        self.config = config or BolaConfig()
        self.throughput = ThroughputRule()
        self.utilities: tuple[float, ...] = ()
        self.gp = 0.0
        self.vp = 0.0
        self._steady = False
        self.placeholder_s = 0.0
        self._last_finish_s: float | None = None
        self._request_s = 0.0
        self._request_buffer_s = 0.0

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
        shift = 1.0 - math.log(self.bitrates_bps[0])
        self.utilities = tuple(math.log(b) + shift for b in self.bitrates_bps)
        target_s = max(
            self.config.max_buffer_s - segment_duration_s,
            MINIMUM_BUFFER_S + MINIMUM_BUFFER_PER_LEVEL_S * len(self.bitrates_bps),
        )
        top_utility = self.utilities[-1]
        if top_utility <= 1.0:  # a one-rung ladder
            self.gp, self.vp = 1.0, MINIMUM_BUFFER_S
        else:
            self.gp = (top_utility - 1.0) / (target_s / MINIMUM_BUFFER_S - 1.0)
            self.vp = MINIMUM_BUFFER_S / self.gp
        self._steady = False
        self.placeholder_s = 0.0
        self._last_finish_s = None
        self.throughput.start(bitrates_bps, segment_duration_s)

    def rung_from_buffer(self, buffer_s: float) -> int:
        best_rung, best_score = 0, -math.inf
        for rung in range(self.top_rung + 1):
            score = (self.vp * (self.utilities[rung] + self.gp) - buffer_s) / self.bitrates_bps[
                rung
            ]
            if score >= best_score:
                best_rung, best_score = rung, score
        return best_rung

    def min_buffer_for(self, rung: int) -> float:
        """dash.js ``minBufferLevelForQuality``: the least (virtual) buffer at which ``rung``
        scores at least as well as every lower rung, seconds."""
        level = 0.0
        b_q, u_q = self.bitrates_bps[rung], self.utilities[rung]
        for lower in range(rung):
            b_i, u_i = self.bitrates_bps[lower], self.utilities[lower]
            if u_i < u_q:
                level = max(level, self.vp * (self.gp + (b_q * u_i - b_i * u_q) / (b_q - b_i)))
        return level

    def max_buffer_for(self, rung: int) -> float:
        """dash.js ``maxBufferLevelForQuality``: ``V (v_m + gp)``, seconds."""
        return self.vp * (self.utilities[rung] + self.gp)

    def on_download_complete(
        self, rung: int, bytes_: int, seconds: float, ttfb_s: float, now_s: float
    ) -> None:
        self.throughput.on_download_complete(rung, bytes_, seconds, ttfb_s, now_s)
        if self._steady and now_s - self._request_s > self._request_buffer_s + 1e-9:
            self.placeholder_s = 0.0  # the buffer ran dry: dash.js's onBufferEmpty
        self._last_finish_s = now_s

    @property
    def estimate_bps(self) -> float | None:
        return self.throughput.estimate_bps

    def rung_for_throughput(self) -> int | None:
        """The throughput rule's rung (same estimator and 0.9 safety, as in dash.js)."""
        self.throughput.max_rung = self.max_rung
        return self.throughput.rung_for_throughput()

    def choose(
        self,
        segment_index: int,
        buffer_s: float,
        now_s: float,
        segment_bits: Sequence[int] | None = None,
    ) -> Decision:
        self._request_s, self._request_buffer_s = now_s, buffer_s
        throughput_rung = self.rung_for_throughput()
        if throughput_rung is None:
            self.throughput.max_rung = self.max_rung
            return self._decide(self.throughput.initial_rung(), "bola: initial bitrate")
        if not self._steady:
            rung, reason = throughput_rung, "bola: startup"
            if self.config.placeholder:
                self.placeholder_s = max(0.0, self.min_buffer_for(rung) - buffer_s)
            if buffer_s >= self.segment_duration_s:
                self._steady = True
        else:
            rung, reason = self._steady_rung(buffer_s, now_s, throughput_rung)
        if self.config.insufficient_buffer_rule:
            cap = insufficient_buffer_cap(self.throughput, buffer_s)
            if cap is not None and cap < rung:
                rung, reason = cap, "bola: insufficient buffer"
        return self._decide(rung, reason)

    def _steady_rung(self, buffer_s: float, now_s: float, throughput_rung: int) -> tuple[int, str]:
        if self.config.placeholder and self._last_finish_s is not None:
            self.placeholder_s += max(0.0, now_s - self._last_finish_s)
            self._last_finish_s = None
        rung = self.rung_from_buffer(buffer_s + self.placeholder_s)
        reason = "bola: buffer"
        last = self.last_rung if self.last_rung is not None else 0
        if self.config.oscillation_guard and rung > last and rung > throughput_rung:
            rung, reason = max(throughput_rung, last), "bola-o: capped by throughput"
        excess_s = buffer_s + self.placeholder_s - self.max_buffer_for(rung)
        if excess_s > 0:
            self.placeholder_s = max(0.0, self.placeholder_s - excess_s)
        return rung, reason
