"""Quality of experience of one session.

QoE_lin (Pensieve, Mao et al. SIGCOMM 2017) per segment k, in Mbit/s::

    q_k = R_k - 4.3 * rebuffer_s_k - |R_k - R_(k-1)|

where ``R_k`` is the nominal bitrate of segment k's rung in Mbit/s and ``rebuffer_s_k`` the stall
while segment k was being fetched after playback had started (the first segment has no switch
term). A session's QoE_lin is the mean of q_k over its segments, so movies of different lengths
compare on the same Mbit/s scale.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass

REBUFFER_PENALTY = 4.3
"""Mbit/s of QoE lost per second of rebuffering (Pensieve's QoE_lin for this ladder scale)."""


@dataclass(frozen=True)
class SegmentRecord:
    rung: int
    bitrate_bps: int
    rebuffer_s: float
    download_s: float
    abandoned: int = 0


@dataclass(frozen=True)
class SessionQoe:
    qoe_lin: float
    """Mean per-segment QoE_lin, Mbit/s."""
    avg_bitrate_bps: float
    rebuffer_s: float
    rebuffer_ratio: float
    """Rebuffer time over (rebuffer time + media time)."""
    rebuffer_events: int
    switches: int
    switches_per_min: float
    """Rung changes per minute of media."""
    startup_delay_s: float


def qoe_lin_terms(bitrates_bps: Sequence[int], rebuffers_s: Sequence[float]) -> list[float]:
    """Per-segment QoE_lin, Mbit/s."""
    terms = []
    previous_mbps: float | None = None
    for bps, stall_s in zip(bitrates_bps, rebuffers_s, strict=True):
        mbps = bps / 1e6
        switch = 0.0 if previous_mbps is None else abs(mbps - previous_mbps)
        terms.append(mbps - REBUFFER_PENALTY * stall_s - switch)
        previous_mbps = mbps
    return terms


def summarize(
    records: Sequence[SegmentRecord], segment_duration_s: float, startup_delay_s: float
) -> SessionQoe:
    if not records:
        raise ValueError("no segments")
    terms = qoe_lin_terms([r.bitrate_bps for r in records], [r.rebuffer_s for r in records])
    media_s = len(records) * segment_duration_s
    rebuffer_s = sum(r.rebuffer_s for r in records)
    events = sum(1 for r in records if r.rebuffer_s > 1e-9)
    switches = sum(1 for a, b in itertools.pairwise(records) if a.rung != b.rung)
    return SessionQoe(
        qoe_lin=sum(terms) / len(terms),
        avg_bitrate_bps=sum(r.bitrate_bps for r in records) / len(records),
        rebuffer_s=rebuffer_s,
        rebuffer_ratio=rebuffer_s / (rebuffer_s + media_s),
        rebuffer_events=events,
        switches=switches,
        switches_per_min=switches / (media_s / 60.0),
        startup_delay_s=startup_delay_s,
    )
