"""The last session's throughput estimate, kept on disk so the next start does not begin blind.

A session that ends hands its ABR estimate (``policy.estimate_bps``) to :meth:`EstimateStore.save`;
the next session, in this process or after a restart, starts from :meth:`EstimateStore.load`
(``SessionConfig.initial_estimate_bps``), so a fast link reaches its rung from the first
segments instead of playing them at the lowest one (docs/abr.md, *The player's start*).

What is trusted: an estimate younger than ``max_age_s`` (6 h by default: older, the device may
be on another network — a laptop moved from home to a café) and not from the future (the clock
moved back); a finite value, clamped to [``FLOOR_BPS``, ``CEILING_BPS``]. Anything else — no file,
a malformed or tampered one, an unwritable folder — is "nothing measured": the policy's blind
start, never an error. The file is the user's own (0600 in a 0700 folder), written atomically.
"""

from __future__ import annotations

import json
import logging
import math
import os
import time
from collections.abc import Callable
from pathlib import Path

from player.private import private_file

log = logging.getLogger("player.estimate")

MAX_AGE_S = 6 * 3600.0
"""An estimate older than this is not used."""
FLOOR_BPS = 50_000.0
CEILING_BPS = 10_000_000_000.0
MAX_FILE_BYTES = 4096


class EstimateStore:
    """``store.load()`` → bit/s or None; ``store.save(bps)``. ``clock`` is wall time (epoch
    seconds): the estimate must survive a restart, which a monotonic clock does not."""

    def __init__(self, path: Path, *, clock: Callable[[], float] = time.time,
                 max_age_s: float = MAX_AGE_S) -> None:
        self.path = path
        self.clock = clock
        self.max_age_s = max_age_s

    def load(self) -> float | None:
        try:
            with self.path.open("rb") as f:
                raw = json.loads(f.read(MAX_FILE_BYTES + 1)[:MAX_FILE_BYTES])
            bps = float(raw["estimate_bps"])
            at = float(raw["measured_at"])
        except FileNotFoundError:
            return None
        except (OSError, ValueError, TypeError, KeyError) as exc:
            log.info("the saved throughput estimate is unreadable (%s): starting blind", exc)
            return None
        age_s = self.clock() - at
        if not (math.isfinite(bps) and math.isfinite(at)) or bps <= 0:
            return None
        if age_s < -60 or age_s > self.max_age_s:
            log.info("the saved throughput estimate is %.0f s old: starting blind", age_s)
            return None
        return min(CEILING_BPS, max(FLOOR_BPS, bps))

    def save(self, estimate_bps: float | None) -> None:
        """Keep ``estimate_bps`` (ignored when None, not finite or not positive)."""
        if estimate_bps is None or not math.isfinite(estimate_bps) or estimate_bps <= 0:
            return
        body = json.dumps({"estimate_bps": round(float(estimate_bps)),
                           "measured_at": round(self.clock(), 3)})
        try:
            tmp = private_file(self.path.with_suffix(".tmp"))
            tmp.write_text(body, encoding="utf-8")
            os.replace(tmp, self.path)
        except OSError as exc:  # a full disk or a read-only folder: the next start is blind
            log.info("could not save the throughput estimate: %s", exc)
