"""dash.js's DYNAMIC strategy: BOLA when the buffer is high, the throughput rule when it is low.

dash.js (``AbrController._updateDynamicAbrStrategy``) switches to BOLA once the buffer exceeds the
stable buffer time (12 s, ``DEFAULT_MIN_BUFFER_TIME``) and back to throughput when it falls to
half of it or below. Only the active rule is asked (BOLA enters through its own startup step, so
its placeholder buffer keeps the throughput rule's rung), and dash.js's InsufficientBufferRule
caps both, as it runs next to either.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from abr.base import PolicyBase
from abr.baselines.bola import Bola, BolaConfig, insufficient_buffer_cap
from abr.baselines.throughput import ThroughputRule
from abr.interface import Decision


@dataclass(frozen=True)
class DynamicConfig:
    switch_on_s: float = 12.0
    """Buffer above which BOLA takes over, seconds. Default 12 (dash.js ``stableBufferTime``)."""
    switch_off_s: float = 6.0
    """Buffer at or below which the throughput rule takes back over, seconds. Default 6
    (half)."""
    max_buffer_s: float = 60.0
    """The client's buffer cap, passed on to BOLA, seconds. Default 60."""


class Dynamic(PolicyBase):
    name = "dynamic"

    def __init__(self, config: DynamicConfig | None = None) -> None:
        super().__init__()
        self.config = config or DynamicConfig()
        self.bola = Bola(BolaConfig(max_buffer_s=self.config.max_buffer_s))
        self.throughput = ThroughputRule()
        self.using_bola = False

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
        self.bola.start(list(bitrates_bps), segment_duration_s)
        self.throughput.start(bitrates_bps, segment_duration_s)
        self.using_bola = False

    def on_download_complete(
        self, rung: int, bytes_: int, seconds: float, ttfb_s: float, now_s: float
    ) -> None:
        self.throughput.on_download_complete(rung, bytes_, seconds, ttfb_s, now_s)
        self.bola.on_download_complete(rung, bytes_, seconds, ttfb_s, now_s)

    @property
    def estimate_bps(self) -> float | None:
        return self.throughput.estimate_bps

    def choose(
        self,
        segment_index: int,
        buffer_s: float,
        now_s: float,
        segment_bits: Sequence[int] | None = None,
    ) -> Decision:
        if self.using_bola:
            self.using_bola = buffer_s > self.config.switch_off_s
        else:
            self.using_bola = buffer_s > self.config.switch_on_s
        for part in (self.bola, self.throughput):
            part.max_rung = self.max_rung
            part.last_rung = self.last_rung
        inner = self.bola if self.using_bola else self.throughput
        decision = inner.choose(segment_index, buffer_s, now_s)
        rung, reason = decision.rung, f"dynamic/{decision.reason}"
        self.throughput.max_rung = self.max_rung
        cap = insufficient_buffer_cap(self.throughput, buffer_s)
        if cap is not None and cap < rung:
            rung, reason = cap, "dynamic/insufficient buffer"
        return self._decide(rung, reason)
