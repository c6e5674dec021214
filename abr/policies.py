"""The policies the bench knows, by name."""

from __future__ import annotations

from collections.abc import Callable

from abr.base import PolicyBase
from abr.baselines.bba import Bba
from abr.baselines.bola import Bola, BolaConfig
from abr.baselines.dynamic import Dynamic, DynamicConfig
from abr.baselines.throughput import ThroughputRule
from abr.config import HysteresisConfig
from abr.hysteresis import HysteresisPolicy
from abr.mpc import MpcConfig, RobustMpcPolicy

PolicyFactory = Callable[[float], PolicyBase]
"""Builds a fresh policy for a client whose buffer cap is the argument, seconds."""

POLICIES: dict[str, PolicyFactory] = {
    "hysteresis": lambda max_buffer_s: HysteresisPolicy(
        HysteresisConfig(max_buffer_s=max_buffer_s)
    ),
    "throughput": lambda max_buffer_s: ThroughputRule(),
    "bba": lambda max_buffer_s: Bba(),
    "bola": lambda max_buffer_s: Bola(BolaConfig(max_buffer_s=max_buffer_s)),
    "dynamic": lambda max_buffer_s: Dynamic(DynamicConfig(max_buffer_s=max_buffer_s)),
    "robust_mpc": lambda max_buffer_s: RobustMpcPolicy(MpcConfig(max_buffer_s=max_buffer_s)),
}
BASELINES = ("throughput", "bba", "bola", "dynamic")
