"""Every tunable of the hysteresis policy, with its unit and default."""

from __future__ import annotations

from dataclasses import dataclass, field

from abr.estimator import EstimatorConfig
from abr.percentile import PercentileConfig


@dataclass(frozen=True)
class HysteresisConfig:
    default_estimate_bps: float = 1_000_000.0
    """Throughput assumed before any sample when no persisted estimate is given, bit/s.
    Default 1 000 000 (a conservative 1 Mbit/s)."""
    startup_safety: float = 0.75
    """Share of the starting estimate the first rung may use. Default 0.75."""
    startup_up_safety: float = 0.5
    """During startup, step up to rung r when r's bitrate is at most this × the measured
    estimate. Default 0.5 (the buffer still grows by half a segment per segment)."""
    up_safety: float = 1.25
    """Step up to rung r only while the estimate is at least this × r's bitrate. Default 1.25."""
    up_dwell_s: float = 15.0
    """How long that headroom must have lasted before stepping up, seconds. Default 15."""
    up_min_buffer_s: float = 10.0
    """Buffer needed to step up on throughput, seconds. Default 10."""
    reservoir_s: float = 8.0
    """Step down at once if the buffer projected after the next download falls below this
    (and is falling), seconds. Default 8."""
    cushion_s: float = 20.0
    """Above reservoir + cushion the buffer is comfortable: the current rung is held through
    throughput dips and the buffer may fund a step up, seconds. Default 20."""
    buffer_up_horizon_s: float = 30.0
    """A buffer-funded step up must keep the buffer above reservoir + cushion for this much
    media at the cautious (percentile) estimate, seconds. Default 30."""
    percentile: PercentileConfig = field(default_factory=PercentileConfig)
    """The cautious estimate that judges buffer-funded steps up: the 20th percentile of the last
    20 samples, weighted by transfer time (see :class:`abr.percentile.PercentileConfig`)."""
    max_buffer_s: float = 60.0
    """The player's buffer cap, seconds. Default 60. Near it the client would idle, wasting
    throughput, so the buffer may fund steps up judged with the EWMA estimate (see
    ``full_buffer_margin_s``)."""
    full_buffer_margin_s: float = 8.0
    """Within this of ``max_buffer_s`` the buffer is *full*: a buffer-funded step up is judged
    with the EWMA estimate instead of the cautious percentile, seconds. Default 8."""
    startup_abandon_budget_s: float = 4.0
    """Before the first segment has arrived nothing can stall, only the start is delayed: the
    first download is abandoned only if finishing it would take longer than this, seconds.
    Default 4."""
    endgame_horizon_s: float = 60.0
    """When the title's length is known (``segment_count`` given to ``start``) and at most this
    much media is left to fetch, the endgame rules apply: the buffer is spent on the last
    segments instead of being carried to the end (see :class:`abr.hysteresis.HysteresisPolicy`),
    seconds. Default 60 (a full buffer). 0 turns the endgame off."""
    abandon_margin_s: float = 1.0
    """Abandon a download whose remaining time would leave less than this in the buffer,
    seconds. Default 1."""
    abandon_min_elapsed_s: float = 0.5
    """Do not judge a download younger than this, seconds. Default 0.5."""
    estimator: EstimatorConfig = field(default_factory=EstimatorConfig)
    """The throughput estimator's tunables (see :class:`abr.estimator.EstimatorConfig`)."""
