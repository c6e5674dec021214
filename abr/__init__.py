"""Bitrate adaptation: estimators, the hysteresis policy, baselines, trace simulator, QoE, bench.

Standard library only; no I/O in the policies. The player depends on :class:`AbrPolicy` and
:class:`Decision` (the interface) and builds a :class:`HysteresisPolicy`; everything else is the
lab that proves the policy is good (see docs/abr.md).
"""

from abr.config import HysteresisConfig, Thresholds
from abr.estimator import EstimatorConfig, EwmaEstimator
from abr.hysteresis import AbrCapWarning, HysteresisPolicy
from abr.interface import AbrPolicy, Decision
from abr.percentile import PercentileConfig, SlidingPercentileEstimator

__all__ = [
    "AbrCapWarning",
    "AbrPolicy",
    "Decision",
    "EstimatorConfig",
    "EwmaEstimator",
    "HysteresisConfig",
    "HysteresisPolicy",
    "PercentileConfig",
    "SlidingPercentileEstimator",
    "Thresholds",
]
