"""The product policy: hysteresis ABR with a buffer-based middle and abandonment.

Every threshold in seconds of buffer is the config's value at the reference cap (60 s) scaled to
the session's buffer cap (``start(max_buffer_s=...)``), never below its floor in segments
(:class:`abr.config.Thresholds`); a cap too small for them gives an :class:`AbrCapWarning`.

* **Start** from the persisted estimate of the last session (``startup_safety`` of it), else
  from ``blind_start_rung`` when set (the player: the lowest), else ``default_estimate_bps``.
* **Startup**: until the buffer first reaches ``up_min_buffer_s`` (and no step down happened),
  step straight up to any rung the measured estimate, or the latest download alone (the probe)
  when that is higher, covers ``1 / startup_up_safety`` times over: a fast link reaches its
  rung within a few segments, and the buffer still grows while the ladder is climbed. After a
  stall (``restart_after_stall``) the startup rule applies again: an empty buffer is a start.
* **Step down at once** when the buffer projected after fetching the current rung
  (``buffer - (ttfb + bits / estimate) + segment``) is below ``reservoir_s`` and falling: to the
  highest lower rung whose projection stays at or above the reservoir (or the buffer, if lower),
  else the lowest.
* **Hold** otherwise. Above ``reservoir_s + cushion_s`` (BBA's cushion) the buffer rides out
  throughput dips: the projection check, not the estimate, decides.
* **Step up** to the highest rung whose headroom credit (time with the estimate at least
  ``up_safety`` × its bitrate, minus ``headroom_decay`` × the time without) has reached
  ``up_dwell_s``, once the buffer holds ``up_min_buffer_s``; or, above the cushion, to the
  highest rung the buffer can fund for ``buffer_up_horizon_s`` of media (at least
  ``payback_segments``: a step undone sooner costs more in switches than it gains) while staying
  above the cushion, judged with a cautious estimate (the lower of the EWMA pair and a sliding
  20th percentile) just above the cushion, the EWMA estimate once the buffer is *full* (within
  ``full_buffer_margin_s`` of the cap: there the alternative is idling, which wastes throughput
  for sure), and in between an estimate that moves from the one to the other as the buffer
  deepens (a deeper buffer absorbs more of the estimate's spread).
* **Abandon** an in-flight download whose remaining time (at its own rate blended with
  ``abandon_prior_s`` seconds of the estimate) would leave less than ``abandon_margin_s`` in
  the buffer, naming the highest lower rung that would arrive in time.
  The first download (nothing buffered, so nothing can stall) only when it would take longer
  than ``startup_abandon_budget_s``.
* **Endgame** (a title of known length): once at most ``endgame_horizon_s`` of media is left to
  fetch, a step down is skipped while the current rung can still fetch every remaining segment
  in time, and once per session the policy steps up to the highest rung that can, keeping
  ``reservoir_s`` to spare.
* Segment sizes: the manifest's (``segment_sizes_bits`` in ``start``, or ``segment_bits`` in
  ``choose``) when given, else bitrate × duration.
* Never above ``max_rung``.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence

from abr.base import PolicyBase
from abr.config import HysteresisConfig, Thresholds
from abr.interface import Decision
from abr.ladder import highest_rung_at_most
from abr.percentile import SlidingPercentileEstimator


class AbrCapWarning(UserWarning):
    """The buffer cap is too small for the policy's thresholds (they still apply, at their
    floors, but the buffer-funded steps up cannot fire)."""


class HysteresisPolicy(PolicyBase):
    name = "hysteresis"

    def __init__(
        self, config: HysteresisConfig | None = None, initial_estimate_bps: float | None = None
    ) -> None:
        self.config = config or HysteresisConfig()
        super().__init__(self.config.estimator)
        self.initial_estimate_bps = initial_estimate_bps
        self.percentile = SlidingPercentileEstimator(self.config.percentile)
        self.thresholds = Thresholds.scaled(self.config, self.config.max_buffer_s, 1.0)
        self.cap_warning: str | None = None
        self._credit_s: list[float] = []
        self._last_sample_s: float | None = None
        self._probe_bps: float | None = None
        self._in_startup = True
        self._restarted = False  # the startup rule applies again after a stall
        self._completed = 0
        self._abandon: tuple[int, int] | None = None  # (from rung, to rung) until reported
        self._refetch: int | None = None  # the rung a dropped download is replaced by
        self._endgame_stepped_up = False
        self._chosen_index: int | None = None
        self._last_choice: tuple[float, float] | None = None  # (now_s, buffer_s) of the last choose

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
        cap_s = self.config.max_buffer_s if max_buffer_s is None else float(max_buffer_s)
        self.thresholds = Thresholds.scaled(self.config, cap_s, self.segment_duration_s)
        self.cap_warning = None
        if cap_s < self.thresholds.needed_cap_s:
            self.cap_warning = (
                f"buffer cap {cap_s:g} s is below the {self.thresholds.needed_cap_s:g} s the "
                f"thresholds need with {self.segment_duration_s:g} s segments (reservoir + "
                "cushion + full-buffer margin): the buffer can never fund a step up"
            )
            warnings.warn(self.cap_warning, AbrCapWarning, stacklevel=2)
        self._credit_s = [0.0] * len(self.bitrates_bps)
        self._last_sample_s = None
        self._probe_bps = None
        self._in_startup = True
        self._restarted = False
        self._completed = 0
        self._abandon = None
        self._refetch = None
        self._endgame_stepped_up = False
        self._chosen_index = None
        self._last_choice = None

    # -- measurements ---------------------------------------------------------------------------

    @property
    def estimate_bps(self) -> float | None:
        measured = self.estimator.estimate_bps()
        return measured if measured is not None else self.initial_estimate_bps

    def _working_estimate_bps(self) -> float:
        estimate = self.estimate_bps
        return estimate if estimate is not None else self.config.default_estimate_bps

    def on_download_complete(
        self, rung: int, bytes_: int, seconds: float, ttfb_s: float, now_s: float
    ) -> None:
        super().on_download_complete(rung, bytes_, seconds, ttfb_s, now_s)
        if self._abandon is not None:  # the report of the dropped download
            self._refetch = self._abandon[1]
            self._abandon = None
        else:
            self._refetch = None
            if bytes_ > 0:
                self._completed += 1
        self.percentile.sample(bytes_, seconds, ttfb_s)
        transfer_s = seconds - min(max(ttfb_s, 0.0), seconds)
        if bytes_ >= self.config.estimator.min_sample_bytes and transfer_s > 0:
            self._probe_bps = 8.0 * bytes_ / transfer_s
        self._add_credit(now_s, seconds)

    def _add_credit(self, now_s: float, seconds: float) -> None:
        """Headroom credit per rung for the time since the last sample (see ``up_dwell_s``)."""
        measured = self.estimator.estimate_bps()
        last = self._last_sample_s
        # a sample stands for the wall time since the last one, and at least the segment it
        # fetched: on a fast link downloads are short and the buffer grows by a segment each
        dt_s = max(seconds if last is None else now_s - last, self.segment_duration_s)
        self._last_sample_s = now_s
        dwell_s = self.thresholds.up_dwell_s
        need = self.config.up_safety
        for index, bps in enumerate(self.bitrates_bps):
            credit = self._credit_s[index]
            if measured is not None and measured >= bps * need:
                credit = min(credit + dt_s, dwell_s)
            else:
                credit = max(credit - self.config.headroom_decay * dt_s, 0.0)
            self._credit_s[index] = credit

    def headroom_s(self, rung: int, now_s: float = 0.0) -> float:
        """The headroom credit of ``rung``, seconds (at most the dwell)."""
        return self._credit_s[rung]

    # -- decisions --------------------------------------------------------------------------------

    def projected_buffer_s(
        self, rung: int, buffer_s: float, estimate_bps: float, segment_index: int | None = None
    ) -> float:
        """Buffer after fetching one segment of ``rung`` at ``estimate_bps``."""
        bits = self.segment_bits(rung, segment_index)
        fetch_s = self.estimator.ttfb_s() + bits / estimate_bps
        return buffer_s - fetch_s + self.segment_duration_s

    def choose(
        self,
        segment_index: int,
        buffer_s: float,
        now_s: float,
        segment_bits: Sequence[int] | None = None,
    ) -> Decision:
        if self._refetch is not None:  # a choose after an abandonment names the same rung
            return self._decide(self._refetch, "down: abandoned")
        self.note_segment(segment_index, segment_bits)
        self._chosen_index = segment_index
        restart = self._stalled_since_last(buffer_s, now_s) and self.config.restart_after_stall
        if restart:
            self._in_startup = self._restarted = True
        current = self.last_rung
        decision = self._choose_steady(segment_index, buffer_s, now_s)
        if restart:  # the step down a stall brings does not end the restart
            self._in_startup = self._restarted = True
        if current is None or self._in_startup or current > self.top_rung:
            return decision
        left = self._segments_left(segment_index)
        if left is None:
            return decision
        estimate = self._cautious_estimate_bps()
        finishes = self.finishes_in_time(current, left, buffer_s, estimate, 0.0)
        if decision.rung < current and finishes:
            return self._decide(current, "end: current rung finishes the title")
        if not self._endgame_stepped_up and left >= 2:  # a switch for the last segment buys nothing
            spare_s = self.thresholds.reservoir_s
            for higher in range(self.top_rung, max(decision.rung, current), -1):
                if self.finishes_in_time(higher, left, buffer_s, estimate, spare_s):
                    self._endgame_stepped_up = True
                    return self._decide(higher, "end: buffer spent on the last segments")
        return decision

    def _stalled_since_last(self, buffer_s: float, now_s: float) -> bool:
        """Whether playback ran dry since the last ``choose``: the time since then is longer
        than the buffer it had (the buffer plays out while the next download is fetched). An
        empty buffer then is the start (or a stall already seen), not a new stall."""
        last = self._last_choice
        self._last_choice = (now_s, buffer_s)
        return last is not None and last[1] > 0 and now_s - last[0] > last[1] + 1e-6

    def _segments_left(self, segment_index: int) -> int | None:
        """Segments still to fetch (this one included) when the endgame applies, else None."""
        if self.segment_count is None:
            return None
        left = self.segment_count - segment_index
        if left <= 0 or left * self.segment_duration_s > self.thresholds.endgame_horizon_s:
            return None
        return left

    def _cautious_estimate_bps(self) -> float:
        """The lower of the EWMA pair and the sliding percentile (the EWMA alone without one)."""
        estimate = self._working_estimate_bps()
        percentile = self.percentile.estimate_bps()
        return estimate if percentile is None else min(estimate, percentile)

    def finishes_in_time(
        self, rung: int, left: int, buffer_s: float, estimate_bps: float, spare_s: float
    ) -> bool:
        """Whether fetching the last ``left`` segments at ``rung``, back to back at
        ``estimate_bps``, lands each one before playback needs it with ``spare_s`` to spare.

        Each fetch takes ``f`` = ttfb + bits / estimate and adds one segment of media. If ``f``
        is at most a segment the buffer never falls after the first fetch; otherwise the last
        segment is the tightest: ``left × f − (left − 1) × segment ≤ buffer − spare``."""
        segment_s = self.segment_duration_s
        fetch_s = self.estimator.ttfb_s() + self.segment_bits(rung) / estimate_bps
        need_s = fetch_s if fetch_s <= segment_s else left * fetch_s - (left - 1) * segment_s
        return need_s <= buffer_s - spare_s

    def _start_rung(self) -> Decision:
        cfg = self.config
        if self.estimate_bps is None and cfg.blind_start_rung is not None:
            return self._decide(cfg.blind_start_rung, "startup: no estimate")
        estimate = self._working_estimate_bps() * cfg.startup_safety
        return self._decide(highest_rung_at_most(self.bitrates_bps, estimate, self.top_rung),
                            "startup")

    def _choose_steady(self, k: int, buffer_s: float, now_s: float) -> Decision:
        cfg = self.config
        th = self.thresholds
        estimate = self._working_estimate_bps()
        top = self.top_rung
        current = self.last_rung
        if current is None:
            return self._start_rung()
        if current > top:
            return self._decide(top, "cap")
        if self._in_startup and buffer_s >= th.up_min_buffer_s:
            self._in_startup = self._restarted = False
        if self._in_startup and self.estimator.has_estimate():
            probe = self._probe_bps if cfg.probe_startup and self._probe_bps else 0.0
            startup_bps = max(estimate, probe) * cfg.startup_up_safety
            rung = highest_rung_at_most(self.bitrates_bps, startup_bps, top)
            if rung > current:
                why = "up: headroom after a stall" if self._restarted else "up: startup headroom"
                return self._decide(rung, why)
        floor_s = min(th.reservoir_s, buffer_s)
        if self.projected_buffer_s(current, buffer_s, estimate, k) < floor_s:
            rung = 0
            for lower in range(current - 1, -1, -1):
                if self.projected_buffer_s(lower, buffer_s, estimate, k) >= floor_s:
                    rung = lower
                    break
            self._in_startup = self._restarted = False
            return self._decide(rung, "down: buffer at risk")
        if current < top and buffer_s >= th.up_min_buffer_s:
            for higher in range(top, current, -1):
                if self._credit_s[higher] >= th.up_dwell_s:
                    return self._decide(higher, "up: sustained headroom")
        comfortable_s = th.reservoir_s + th.cushion_s
        percentile = self.percentile.estimate_bps()
        if current < top and buffer_s >= comfortable_s and percentile is not None:
            funding = self.funding_estimate_bps(buffer_s, estimate, percentile)
            for higher in range(top, current, -1):
                drain_per_media_s = self.bitrates_bps[higher] / funding - 1.0
                if buffer_s - th.buffer_up_horizon_s * drain_per_media_s >= comfortable_s:
                    return self._decide(higher, "up: buffer funds it")
        return self._decide(current, "hold")

    def funding_estimate_bps(
        self, buffer_s: float, estimate_bps: float, percentile_bps: float
    ) -> float:
        """The estimate a buffer-funded step up is judged with: the cautious one (the lower of
        the EWMA and the percentile) at reservoir + cushion, the EWMA once the buffer is full
        (within ``full_buffer_margin_s`` of the cap), and in between a share of the gap that
        grows linearly with the buffer. The deeper the buffer, the more of the estimate's
        spread (EWMA − 20th percentile, wide on a bursty link) it can absorb, so the less of
        that margin the step keeps."""
        th = self.thresholds
        cautious = min(percentile_bps, estimate_bps)
        low_s = th.reservoir_s + th.cushion_s
        full_s = th.max_buffer_s - th.full_buffer_margin_s
        if buffer_s >= full_s:
            return estimate_bps
        if full_s <= low_s or buffer_s <= low_s:
            return cautious
        share = (buffer_s - low_s) / (full_s - low_s)
        return cautious + share * (estimate_bps - cautious)

    def should_abandon(
        self,
        rung: int,
        bytes_so_far: int,
        total_bytes: int,
        elapsed_s: float,
        buffer_s: float,
        now_s: float,
    ) -> int | None:
        """See :meth:`abr.interface.AbrPolicy.should_abandon`: None changes nothing; a rung
        becomes the current one and the next ``on_download_complete`` is taken as the dropped
        download's report (not a completed segment)."""
        choice = self._abandon_choice(rung, bytes_so_far, total_bytes, elapsed_s, buffer_s)
        if choice is not None:
            self.last_rung = choice
            self._abandon = (rung, choice)
        return choice

    def abandon_rate_bps(self, bytes_so_far: int, transfer_s: float) -> float:
        """The rate the rest of an in-flight download is expected at: its own bits so far and
        ``abandon_prior_s`` seconds of the measured estimate, over its transfer time plus those
        seconds. A download's first half-second says little (a short dip, a slow start), so the
        estimate weighs as much as that at first and less the longer the download runs. The
        first download (no measured estimate yet) is judged on its own rate."""
        bits = 8.0 * max(bytes_so_far, 1)
        prior_s = self.config.abandon_prior_s
        estimate = self.estimator.estimate_bps()
        if prior_s <= 0 or estimate is None or self._completed == 0:
            return bits / transfer_s
        return (bits + estimate * prior_s) / (transfer_s + prior_s)

    def _abandon_choice(
        self, rung: int, bytes_so_far: int, total_bytes: int, elapsed_s: float, buffer_s: float
    ) -> int | None:
        cfg = self.config
        if rung <= 0 or elapsed_s < cfg.abandon_min_elapsed_s or bytes_so_far >= total_bytes:
            return None
        transfer_s = elapsed_s - min(self.estimator.ttfb_s(), elapsed_s)
        if transfer_s <= 0:
            return None
        rate_bps = self.abandon_rate_bps(bytes_so_far, transfer_s)
        remaining_s = 8.0 * (total_bytes - bytes_so_far) / rate_bps
        if self._completed == 0:  # nothing buffered yet: only the start is delayed
            budget_s = cfg.startup_abandon_budget_s
        elif buffer_s > self.thresholds.reservoir_s + self.thresholds.cushion_s:
            return None  # a comfortable buffer: decide later, knowing more (an outage may end)
        else:
            budget_s = buffer_s - cfg.abandon_margin_s
        if remaining_s <= budget_s:
            return None
        k = self._chosen_index
        current_bits = self.segment_bits(rung, k)

        def fetch_s(lower: int) -> float:  # the same segment at ``lower``, at the rate so far
            bits = 8.0 * total_bytes * self.segment_bits(lower, k) / current_bits
            return self.estimator.ttfb_s() + bits / rate_bps

        for lower in range(rung - 1, -1, -1):
            seconds = fetch_s(lower)
            if seconds <= budget_s and seconds < remaining_s:
                return lower
        if fetch_s(0) >= remaining_s * 0.5:
            return None
        return 0
