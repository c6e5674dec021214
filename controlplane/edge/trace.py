"""Bandwidth traces in the Sabre network format (``../shared/traces``).

A trace is a JSON list of consecutive constant-bandwidth segments::

    [{"duration_ms": 1010, "bandwidth_kbps": 2928.6, "latency_ms": 80}, ...]

``bandwidth_kbps`` is kbit/s, which is the same as bit/ms. ``latency_ms`` is the time to first byte
of a request that starts while the segment is current (optional here, default 0). A trace plays in
order and wraps around at its end, as Sabre does.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

MAX_TRACE_SEGMENTS = 100_000
"""Refuse traces longer than this (the longest shared trace has a few thousand segments)."""


@dataclass(frozen=True)
class TraceSegment:
    duration_ms: float
    bandwidth_kbps: float
    latency_ms: float = 0.0


class TraceFormatError(ValueError):
    """The trace is not a non-empty list of valid segments; the message says which and why."""


def _field(entry: dict[str, object], name: str, index: int, *, required: bool) -> float:
    value = entry.get(name, None if required else 0.0)
    if value is None:
        raise TraceFormatError(f"trace[{index}] has no {name}")
    if isinstance(value, bool) or not isinstance(value, int | float) or value != value:
        raise TraceFormatError(f"trace[{index}].{name} must be a number, got {value!r}")
    if value < 0 or value == float("inf"):
        raise TraceFormatError(f"trace[{index}].{name} must be finite and >= 0, got {value!r}")
    return float(value)


def parse_trace(raw: object) -> tuple[TraceSegment, ...]:
    """Check a decoded trace and return its segments."""
    if not isinstance(raw, list) or not raw:
        raise TraceFormatError("a trace must be a non-empty JSON list of segments")
    if len(raw) > MAX_TRACE_SEGMENTS:
        raise TraceFormatError(f"a trace may have at most {MAX_TRACE_SEGMENTS} segments")
    segments = []
    for index, entry in enumerate(raw):
        if not isinstance(entry, dict):
            raise TraceFormatError(f"trace[{index}] must be an object, got {entry!r}")
        unknown = set(entry) - {"duration_ms", "bandwidth_kbps", "latency_ms"}
        if unknown:
            names = ", ".join(sorted(unknown))
            raise TraceFormatError(f"trace[{index}] has unknown fields: {names}")
        duration_ms = _field(entry, "duration_ms", index, required=True)
        if duration_ms <= 0:
            raise TraceFormatError(f"trace[{index}].duration_ms must be > 0")
        segments.append(
            TraceSegment(
                duration_ms=duration_ms,
                bandwidth_kbps=_field(entry, "bandwidth_kbps", index, required=True),
                latency_ms=_field(entry, "latency_ms", index, required=False),
            )
        )
    if not any(s.bandwidth_kbps > 0 for s in segments):
        raise TraceFormatError("a trace must have some bandwidth (every segment is 0 kbit/s)")
    return tuple(segments)


def load_trace(path: Path) -> tuple[TraceSegment, ...]:
    """Read and check a trace file."""
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise TraceFormatError(f"no trace file at {path}") from exc
    except (OSError, ValueError) as exc:
        raise TraceFormatError(f"trace file {path} is unreadable: {exc}") from exc
    return parse_trace(raw)
