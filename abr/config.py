"""Every tunable of the hysteresis policy, with its unit and default.

Thresholds in seconds of buffer are given *at the reference cap* (``reference_buffer_s``, 60 s:
the cap they were tuned at) and scale with the session's buffer cap, each with a floor in
segments (:class:`Thresholds`), so a 15 s or 25 s cap gets the same shape of policy instead of
thresholds it can never reach.
"""

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
    estimate (or the probe, see ``probe_startup``). Default 0.5 (the buffer still grows by half
    a segment per segment)."""
    up_safety: float = 1.25
    """Step up to rung r only while the estimate is at least this × r's bitrate. Default 1.25."""
    up_dwell_s: float = 15.0
    """Headroom credit needed to step up, seconds at the reference cap (scaled, at least two
    segments). Credit grows by the time the estimate shows the headroom and shrinks by
    ``headroom_decay`` × the time it does not, so a short dip costs a little credit instead of
    resetting it. Default 15."""
    headroom_decay: float = 2.0
    """Credit lost per second without headroom (ratio). Default 2: a dip must be outlasted
    twice over; the credit never exceeds the dwell, so a sustained drop empties it."""
    up_min_buffer_s: float = 10.0
    """Buffer needed to step up on throughput, seconds. Default 10 (at the reference cap;
    scaled, at least one segment)."""
    reservoir_s: float = 8.0
    """Step down at once if the buffer projected after the next download falls below this
    (and is falling), seconds. Default 8 (at the reference cap; scaled, at least one segment)."""
    cushion_s: float = 20.0
    """Above reservoir + cushion the buffer is comfortable: the current rung is held through
    throughput dips and the buffer may fund a step up, seconds. Default 20 (at the reference
    cap; scaled, at least one segment)."""
    buffer_up_horizon_s: float = 30.0
    """A buffer-funded step up must keep the buffer above reservoir + cushion for this much
    media at the cautious (percentile) estimate, seconds. Default 30 (at the reference cap;
    scaled, at least one segment)."""
    payback_segments: float = 4.0
    """A buffer-funded step up must last at least this many segments: the floor of
    ``buffer_up_horizon_s``, in segments. QoE_lin charges |Δbitrate| per switch, so a step up
    that is undone costs 2 × Δ and gains Δ per segment played at the higher rung: it pays only
    if it lasts more than two segments (3 is the break-even by reasoning); the horizon is judged
    at an estimate, so one segment more keeps a margin for its error. Swept 3/4/5 on half A at
    15 s: 4 cut switches most while QoE stayed within 0.2 points and every QoE target held (5
    lost one); confirmed on half B (2026-12-04). Binds at small caps: at 15 s, and at 30 s
    with 4 s segments (16 s instead of 15 s); at 60 s the scaled horizon is 7.5 envivio / 10
    bbb4k segments. Default 4."""
    percentile: PercentileConfig = field(default_factory=PercentileConfig)
    """The cautious estimate that judges buffer-funded steps up: the 20th percentile of the last
    20 samples, weighted by transfer time (see :class:`abr.percentile.PercentileConfig`)."""
    max_buffer_s: float = 60.0
    """The buffer cap when the caller does not pass one to ``start``, seconds. Default 60. Near
    it the client would idle, wasting throughput, so the buffer may fund steps up judged with
    the EWMA estimate (see ``full_buffer_margin_s``)."""
    reference_buffer_s: float = 60.0
    """The cap the seconds-valued thresholds are given at (the cap they were tuned at), seconds.
    At a cap C each of them is × C / this, never below its floor. Default 60."""
    blind_start_rung: int | None = None
    """Without a persisted estimate, the first segment's highest rung (the player: 0, its whole
    download is on the time to first frame); None: from ``default_estimate_bps``. Default
    None."""
    probe_startup: bool = True
    """During startup, judge steps up on the latest download alone (the probe) when it is
    higher than the EWMA: the first downloads of a low rung are short, and a slow first
    sample would otherwise hold the EWMA down for many segments on a fast link. Default True."""
    restart_after_stall: bool = True
    """After a stall (the time since the last ``choose`` exceeded the buffer it had), the
    startup rule applies again until the buffer reaches ``up_min_buffer_s``: with the buffer
    empty the situation is a start, and the EWMA is held down by the outage's long sample, so
    without it the rung climbs back one dwell per rung (``lte_report_train_0002`` at 15 s:
    1, 2, 3, 4, 5 over five segments). The step down the stall brings does not end it. No new
    constant (the startup rule's own); by reasoning, checked on half A, confirmed on half B
    (2026-12-05). Default True."""
    full_buffer_margin_s: float = 8.0
    """Within this of ``max_buffer_s`` the buffer is *full*: a buffer-funded step up is judged
    with the EWMA estimate instead of the cautious percentile, seconds. Default 8 (at the
    reference cap; scaled, at least one segment)."""
    startup_abandon_budget_s: float = 4.0
    """Before the first segment has arrived nothing can stall, only the start is delayed: the
    first download is abandoned only if finishing it would take longer than this, seconds.
    Default 4."""
    endgame_horizon_s: float = 60.0
    """When the title's length is known (``segment_count`` given to ``start``) and at most this
    much media is left to fetch, the endgame rules apply: the buffer is spent on the last
    segments instead of being carried to the end (see :class:`abr.hysteresis.HysteresisPolicy`),
    seconds at the reference cap (scaled). Default 60 (a full buffer). 0 turns the endgame
    off."""
    abandon_margin_s: float = 1.0
    """Abandon a download whose remaining time would leave less than this in the buffer,
    seconds. Default 1."""
    abandon_prior_s: float = 0.5
    """Seconds of the measured estimate blended into an in-flight download's own rate when
    judging abandonment (see ``HysteresisPolicy.abandon_rate_bps``). The rate over a download's
    first half-second predicted the rest badly: at a 15 s cap about two in three abandonments
    dropped downloads that would have arrived before the buffer ran out. Default 0.5 (=
    ``abandon_min_elapsed_s``: at the first judgement the download and the estimate weigh the
    same; by reasoning, checked on half A, confirmed on half B, 2026-12-04). 0 turns it off."""
    abandon_min_elapsed_s: float = 0.5
    """Do not judge a download younger than this, seconds. Default 0.5."""
    estimator: EstimatorConfig = field(default_factory=EstimatorConfig)
    """The throughput estimator's tunables (see :class:`abr.estimator.EstimatorConfig`)."""


@dataclass(frozen=True)
class Thresholds:
    """The seconds-valued thresholds of one session: the config's, scaled to its buffer cap."""

    max_buffer_s: float
    reservoir_s: float
    cushion_s: float
    up_min_buffer_s: float
    up_dwell_s: float
    buffer_up_horizon_s: float
    full_buffer_margin_s: float
    endgame_horizon_s: float

    @classmethod
    def scaled(cls, cfg: HysteresisConfig, max_buffer_s: float, segment_s: float) -> Thresholds:
        """Each threshold × cap / ``reference_buffer_s``, at least one segment (the dwell and
        the startup threshold two, the buffer-funded horizon ``payback_segments``): a reservoir
        under one segment cannot cover the download in flight, a full margin under one segment
        is finer than the buffer moves, and a startup that ends at one segment ends before its
        first measured download can act."""
        scale = max_buffer_s / cfg.reference_buffer_s

        def at_least(value_s: float, floor_s: float) -> float:
            return max(value_s * scale, floor_s)

        return cls(
            max_buffer_s=max_buffer_s,
            reservoir_s=at_least(cfg.reservoir_s, segment_s),
            cushion_s=at_least(cfg.cushion_s, segment_s),
            up_min_buffer_s=at_least(cfg.up_min_buffer_s, 2 * segment_s),
            up_dwell_s=at_least(cfg.up_dwell_s, 2 * segment_s),
            buffer_up_horizon_s=at_least(
                cfg.buffer_up_horizon_s, max(1.0, cfg.payback_segments) * segment_s
            ),
            full_buffer_margin_s=at_least(cfg.full_buffer_margin_s, segment_s),
            endgame_horizon_s=cfg.endgame_horizon_s * scale,
        )

    @property
    def needed_cap_s(self) -> float:
        """The least cap at which the buffer can reach reservoir + cushion below the full-buffer
        zone (so both the cushion rule and the full-buffer rule can fire)."""
        return self.reservoir_s + self.cushion_s + self.full_buffer_margin_s
