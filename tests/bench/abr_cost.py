"""ABR decision cost: what one ``choose`` / one MPC plan costs on the engine's loop (docs/abr.md).

``python tests/bench/abr_cost.py [--runs 200] [--json]``

* **MPC worst case**: ``plan_first_rung`` on a ten-rung ladder, a 5-segment horizon and the
  current rung mid-ladder (the widest pruned search the player can ask for); median and worst of
  ``--runs`` plans. Budget: median under 2 ms.
* **Hysteresis**: ``HysteresisPolicy.choose`` with a warm estimator; mean per call over 2,000
  calls, best of ``--runs // 20`` rounds. Budget: under 200 µs.

Exits 1 when a budget is missed (both run on the engine's asyncio loop once per segment).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from abr.config import HysteresisConfig  # noqa: E402
from abr.hysteresis import HysteresisPolicy  # noqa: E402
from abr.mpc import MpcConfig, plan_first_rung  # noqa: E402

TEN_RUNGS = [230_000, 331_000, 477_000, 688_000, 991_000, 1_427_000, 2_056_000, 2_962_000,
             5_027_000, 6_000_000]
LADDER = [300_000, 750_000, 1_200_000, 1_850_000, 2_850_000, 4_300_000]
MPC_BUDGET_MS = 2.0
CHOOSE_BUDGET_US = 200.0


def mpc_ms(runs: int) -> list[float]:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        plan_first_rung(TEN_RUNGS, 3.0, 20.0, 5, 2.5e6, 0.05, 60.0, 9, MpcConfig())
        times.append((time.perf_counter() - start) * 1000)
    return times


def choose_us(rounds: int) -> float:
    policy = HysteresisPolicy(HysteresisConfig())
    policy.start(LADDER, 4.0)
    for k in range(20):
        policy.on_download_complete(2, int(3e6 * 2.0 / 8), 2.0, 0.0, 2.0 * k)
    policy.choose(0, 0.0, 0.0)
    best = float("inf")
    for _ in range(rounds):
        start = time.perf_counter()
        for k in range(2000):
            policy.choose(k, 30.0 + (k % 20), 40.0 + k)
        best = min(best, (time.perf_counter() - start) / 2000 * 1e6)
    return best


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    plans = mpc_ms(args.runs)
    result: dict[str, Any] = {
        "mpc_plan_ms": {"median": round(statistics.median(plans), 3),
                        "worst": round(max(plans), 3), "runs": args.runs,
                        "budget_median": MPC_BUDGET_MS},
        "hysteresis_choose_us": {"per_call": round(choose_us(max(1, args.runs // 20)), 1),
                                 "budget": CHOOSE_BUDGET_US},
    }
    mpc, hyst = result["mpc_plan_ms"], result["hysteresis_choose_us"]
    failures = []
    if mpc["median"] >= MPC_BUDGET_MS:
        failures.append(f"MPC plan median {mpc['median']} ms >= {MPC_BUDGET_MS} ms")
    if hyst["per_call"] >= CHOOSE_BUDGET_US:
        failures.append(f"hysteresis choose {hyst['per_call']} µs >= {CHOOSE_BUDGET_US} µs")
    result["ok"] = not failures
    if args.json:
        print(json.dumps(result))
    else:
        print(f"MPC worst-case plan (10 rungs, horizon 5): median {mpc['median']} ms, "
              f"worst {mpc['worst']} ms over {mpc['runs']} plans (budget: median < "
              f"{MPC_BUDGET_MS} ms)")
        print(f"hysteresis choose: {hyst['per_call']} µs per call (budget < "
              f"{CHOOSE_BUDGET_US:.0f} µs)")
        for failure in failures:
            print(f"FAIL: {failure}", file=sys.stderr)
    return 0 if not failures else 1


if __name__ == "__main__":
    sys.exit(main())
