"""BOLA, after Spiteri, Urgaonkar and Sitaraman, "BOLA: Near-Optimal Bitrate Adaptation for Online
Videos" (INFOCOM 2016; IEEE/ACM ToN 2020), as dash.js's ``BolaRule`` runs it.

Each rung m gets utility ``v_m = ln(S_m) + 1 - ln(S_1)`` (lowest = 1). With buffer level Q the
rung maximising ``(V * (v_m + gp) - Q) / S_m`` is fetched. ``gp`` and ``V`` follow dash.js's
``calculateBolaParameters``: the lowest rung up to ``MINIMUM_BUFFER_S`` (10 s), the top rung from
the buffer target. The buffer target is the largest buffer the client can have when it makes a
request (max buffer minus one segment), so BOLA uses the whole buffer like Sabre's BOLA does.

dash.js's BOLA-O guard: a step *up* beyond what the throughput supports (safe throughput = 0.9 ×
the estimate) is limited to max(throughput rung, last rung). Startup (until one segment is
buffered) uses the throughput rung, lowest rung without an estimate. Left out: BOLA-E's
placeholder buffer (for seeks and live) and dash.js's voluntary idle time, which the simulator's
buffer cap replaces.
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


@dataclass(frozen=True)
class BolaConfig:
    max_buffer_s: float = 60.0
    """The client's buffer cap, seconds; the buffer target is this minus one segment.
    Default 60."""
    oscillation_guard: bool = True
    """Apply BOLA-O (dash.js does). Default True."""


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

    def start(self, bitrates_bps: Sequence[int], segment_duration_s: float) -> None:
        super().start(bitrates_bps, segment_duration_s)
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

    def on_download_complete(
        self, rung: int, bytes_: int, seconds: float, ttfb_s: float, now_s: float
    ) -> None:
        self.throughput.on_download_complete(rung, bytes_, seconds, ttfb_s, now_s)

    @property
    def estimate_bps(self) -> float | None:
        return self.throughput.estimate_bps

    def rung_for_throughput(self) -> int | None:
        """The throughput rule's rung (same estimator and 0.9 safety, as in dash.js)."""
        self.throughput.max_rung = self.max_rung
        return self.throughput.rung_for_throughput()

    def choose(self, segment_index: int, buffer_s: float, now_s: float) -> Decision:
        if not self._steady and buffer_s >= self.segment_duration_s:
            self._steady = True
        throughput_rung = self.rung_for_throughput()
        if not self._steady:
            rung = 0 if throughput_rung is None else throughput_rung
            return self._decide(rung, "bola: startup")
        rung = self.rung_from_buffer(buffer_s)
        last = self.last_rung if self.last_rung is not None else 0
        if (
            self.config.oscillation_guard
            and throughput_rung is not None
            and rung > last
            and rung > throughput_rung
        ):
            return self._decide(max(throughput_rung, last), "bola-o: capped by throughput")
        return self._decide(rung, "bola: buffer")
