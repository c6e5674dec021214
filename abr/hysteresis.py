"""The product policy: hysteresis ABR with a buffer-based middle and abandonment.

* **Start** from the persisted estimate of the last session, else ``default_estimate_bps``,
  using ``startup_safety`` of it.
* **Step down at once** when the buffer projected after fetching the current rung
  (``buffer - (ttfb + bits / estimate) + segment``) is below ``reservoir_s`` and falling: to the
  highest lower rung whose projection stays at or above the reservoir (or the buffer, if lower),
  else the lowest.
* **Startup**: until the buffer first reaches ``up_min_buffer_s`` (and no step down happened),
  step straight up to any rung the measured estimate covers ``1 / startup_up_safety`` times over,
  so the buffer still grows while the ladder is climbed without waiting out the dwell.
* **Hold** otherwise. Above ``reservoir_s + cushion_s`` (BBA's cushion) the buffer rides out
  throughput dips: the projection check, not the estimate, decides.
* **Step up** to the highest rung whose bitrate × ``up_safety`` the estimate has exceeded
  without a break for ``up_dwell_s``, once the buffer holds ``up_min_buffer_s``; or, above the
  cushion, to the highest rung the buffer can fund for ``buffer_up_horizon_s`` of media while
  staying above the cushion, judged with a cautious estimate (the lower of the EWMA pair and a
  sliding 20th percentile) so one fast burst does not buy a step that must be undone. A *full*
  buffer (within ``full_buffer_margin_s`` of the player's cap ``max_buffer_s``) is judged with
  the EWMA estimate instead: there the alternative is idling, which wastes throughput for sure.
* **Abandon** an in-flight download whose remaining time would leave less than
  ``abandon_margin_s`` in the buffer, naming the highest lower rung that would arrive in time.
  The first download (nothing buffered, so nothing can stall) only when it would take longer
  than ``startup_abandon_budget_s``.
* **Endgame** (a title of known length, ``segment_count`` given to ``start``): once at most
  ``endgame_horizon_s`` of media is left to fetch, the buffer no longer has to outlast an
  unknown future, only the title. A step down is skipped while the current rung can still fetch
  every remaining segment in time (back to back, at the cautious estimate), and once per
  session the policy steps up to the highest rung that can, keeping ``reservoir_s`` to spare.
  Without a length (live, or a driver that does not say) nothing changes.
* Never above ``max_rung``.
"""

from __future__ import annotations

from collections.abc import Sequence

from abr.base import PolicyBase
from abr.config import HysteresisConfig
from abr.interface import Decision
from abr.ladder import highest_rung_at_most
from abr.percentile import SlidingPercentileEstimator


class HysteresisPolicy(PolicyBase):
    name = "hysteresis"

    def __init__(
        self, config: HysteresisConfig | None = None, initial_estimate_bps: float | None = None
    ) -> None:
        self.config = config or HysteresisConfig()
        super().__init__(self.config.estimator)
        self.initial_estimate_bps = initial_estimate_bps
        self._headroom_since_s: list[float | None] = []
        self.percentile = SlidingPercentileEstimator(self.config.percentile)
        self._in_startup = True
        self._completed = 0
        self._abandoned_rung: int | None = None
        self._endgame_stepped_up = False

    def start(
        self,
        bitrates_bps: Sequence[int],
        segment_duration_s: float,
        segment_count: int | None = None,
    ) -> None:
        super().start(bitrates_bps, segment_duration_s, segment_count)
        self._headroom_since_s = [None] * len(self.bitrates_bps)
        self._in_startup = True
        self._completed = 0
        self._abandoned_rung = None
        self._endgame_stepped_up = False

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
        if bytes_ > 0 and self._abandoned_rung is None:
            self._completed += 1
        self._abandoned_rung = None
        self.percentile.sample(bytes_, seconds, ttfb_s)
        measured = self.estimator.estimate_bps()
        for index, bps in enumerate(self.bitrates_bps):
            if measured is not None and measured >= bps * self.config.up_safety:
                if self._headroom_since_s[index] is None:
                    self._headroom_since_s[index] = now_s
            else:
                self._headroom_since_s[index] = None

    def headroom_s(self, rung: int, now_s: float) -> float:
        """How long the estimate has exceeded ``rung``'s bitrate × ``up_safety``, seconds."""
        since_s = self._headroom_since_s[rung]
        return 0.0 if since_s is None else now_s - since_s

    # -- decisions --------------------------------------------------------------------------------

    def projected_buffer_s(self, rung: int, buffer_s: float, estimate_bps: float) -> float:
        """Buffer after fetching one segment of ``rung`` at ``estimate_bps``."""
        bits = self.bitrates_bps[rung] * self.segment_duration_s
        fetch_s = self.estimator.ttfb_s() + bits / estimate_bps
        return buffer_s - fetch_s + self.segment_duration_s

    def choose(self, segment_index: int, buffer_s: float, now_s: float) -> Decision:
        current = self.last_rung
        decision = self._choose_steady(buffer_s, now_s)
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
            for higher in range(self.top_rung, max(decision.rung, current), -1):
                if self.finishes_in_time(higher, left, buffer_s, estimate, self.config.reservoir_s):
                    self._endgame_stepped_up = True
                    return self._decide(higher, "end: buffer spent on the last segments")
        return decision

    def _segments_left(self, segment_index: int) -> int | None:
        """Segments still to fetch (this one included) when the endgame applies, else None."""
        if self.segment_count is None:
            return None
        left = self.segment_count - segment_index
        if left <= 0 or left * self.segment_duration_s > self.config.endgame_horizon_s:
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
        fetch_s = self.estimator.ttfb_s() + self.bitrates_bps[rung] * segment_s / estimate_bps
        need_s = fetch_s if fetch_s <= segment_s else left * fetch_s - (left - 1) * segment_s
        return need_s <= buffer_s - spare_s

    def _choose_steady(self, buffer_s: float, now_s: float) -> Decision:
        cfg = self.config
        estimate = self._working_estimate_bps()
        top = self.top_rung
        current = self.last_rung
        if current is None:
            rung = highest_rung_at_most(self.bitrates_bps, estimate * cfg.startup_safety, top)
            return self._decide(rung, "startup")
        if current > top:
            return self._decide(top, "cap")
        if self._in_startup and buffer_s >= cfg.up_min_buffer_s:
            self._in_startup = False
        if self._in_startup and self.estimator.has_estimate():
            rung = highest_rung_at_most(self.bitrates_bps, estimate * cfg.startup_up_safety, top)
            if rung > current:
                return self._decide(rung, "up: startup headroom")
        floor_s = min(cfg.reservoir_s, buffer_s)
        if self.projected_buffer_s(current, buffer_s, estimate) < floor_s:
            rung = 0
            for lower in range(current - 1, -1, -1):
                if self.projected_buffer_s(lower, buffer_s, estimate) >= floor_s:
                    rung = lower
                    break
            self._in_startup = False
            return self._decide(rung, "down: buffer at risk")
        if current < top and buffer_s >= cfg.up_min_buffer_s:
            for higher in range(top, current, -1):
                if self.headroom_s(higher, now_s) >= cfg.up_dwell_s:
                    return self._decide(higher, "up: sustained headroom")
        comfortable_s = cfg.reservoir_s + cfg.cushion_s
        cautious = self.percentile.estimate_bps()
        if current < top and buffer_s >= comfortable_s and cautious is not None:
            full = buffer_s >= cfg.max_buffer_s - cfg.full_buffer_margin_s
            cautious = estimate if full else min(cautious, estimate)
            for higher in range(top, current, -1):
                drain_per_media_s = self.bitrates_bps[higher] / cautious - 1.0
                if buffer_s - cfg.buffer_up_horizon_s * drain_per_media_s >= comfortable_s:
                    return self._decide(higher, "up: buffer funds it")
        return self._decide(current, "hold")

    def should_abandon(
        self,
        rung: int,
        bytes_so_far: int,
        total_bytes: int,
        elapsed_s: float,
        buffer_s: float,
        now_s: float,
    ) -> int | None:
        cfg = self.config
        if rung <= 0 or elapsed_s < cfg.abandon_min_elapsed_s or bytes_so_far >= total_bytes:
            return None
        transfer_s = elapsed_s - min(self.estimator.ttfb_s(), elapsed_s)
        if transfer_s <= 0:
            return None
        rate_bps = 8.0 * max(bytes_so_far, 1) / transfer_s
        remaining_s = 8.0 * (total_bytes - bytes_so_far) / rate_bps
        if self._completed == 0:  # nothing buffered yet: only the start is delayed
            budget_s = cfg.startup_abandon_budget_s
        else:
            budget_s = buffer_s - cfg.abandon_margin_s
        if remaining_s <= budget_s:
            return None
        choice = None
        for lower in range(rung - 1, -1, -1):
            lower_bytes = total_bytes * self.bitrates_bps[lower] / self.bitrates_bps[rung]
            fetch_s = self.estimator.ttfb_s() + 8.0 * lower_bytes / rate_bps
            if fetch_s <= budget_s and fetch_s < remaining_s:
                choice = lower
                break
        if choice is None:
            lowest_bytes = total_bytes * self.bitrates_bps[0] / self.bitrates_bps[rung]
            lowest_s = self.estimator.ttfb_s() + 8.0 * lowest_bytes / rate_bps
            if lowest_s >= remaining_s * 0.5:
                return None
            choice = 0
        self.last_rung = choice
        self._abandoned_rung = rung
        return choice
