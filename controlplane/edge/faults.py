"""The fault model: what an admin can inject into one edge, parsed from admin JSON.

Every fault is a frozen dataclass with a ``kind`` and a ``paths`` scope: ``"all"`` (default) or
``"segments"`` (only media segments: ``.ts`` and ``.m4s`` responses). :func:`parse_fault` turns
the admin API's JSON into a fault or raises :class:`FaultError` with a message fit for a 400
answer. The run-time state of a fault (the error sequence, the pacer, hung connections) lives in
:mod:`controlplane.edge.injector`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, Literal

from controlplane.edge.trace import TraceFormatError, TraceSegment, load_trace, parse_trace

Scope = Literal["all", "segments"]
SCOPES: tuple[Scope, ...] = ("all", "segments")


class FaultError(ValueError):
    """The admin asked for a fault that does not exist or has invalid parameters."""


@dataclass(frozen=True)
class KillFault:
    """Stop listening: new connections are refused, open ones dropped."""

    kind: ClassVar[str] = "kill"
    paths: Scope = "all"

    def params(self) -> dict[str, Any]:
        return {}


@dataclass(frozen=True)
class HangFault:
    """Read the request, never answer; clearing the fault closes the hung connections."""

    kind: ClassVar[str] = "hang"
    paths: Scope = "all"

    def params(self) -> dict[str, Any]:
        return {}


@dataclass(frozen=True)
class SlowFault:
    """Pace response bodies to a fixed rate or a replayed bandwidth trace (one link per edge)."""

    kind: ClassVar[str] = "slow"
    rate_kbps: float | None = None
    """Fixed rate in kbit/s; None when a trace is replayed."""
    trace: tuple[TraceSegment, ...] = ()
    trace_file: str | None = None
    paths: Scope = "all"

    def params(self) -> dict[str, Any]:
        if self.rate_kbps is not None:
            return {"rate_kbps": self.rate_kbps}
        period_ms = sum(s.duration_ms for s in self.trace)
        out: dict[str, Any] = {"trace_segments": len(self.trace), "trace_period_ms": period_ms}
        if self.trace_file is not None:
            out["trace_file"] = self.trace_file
        return out


@dataclass(frozen=True)
class ErrorFault:
    """Answer a fraction of requests with a 5xx status, in an exact, deterministic sequence."""

    kind: ClassVar[str] = "error"
    rate: float = 1.0
    """Fraction of requests (0..1) that fail; default 1.0."""
    status: int = 503
    paths: Scope = "all"

    def params(self) -> dict[str, Any]:
        return {"rate": self.rate, "status": self.status}

    def hits(self, n: int) -> bool:
        """Whether the n-th (0-based) request it applies to fails.

        Request n fails when floor((n+1)*rate) > floor(n*rate): after any k requests exactly
        floor(k*rate) have failed, so rate 0.5 fails the 2nd, 4th, 6th... request.
        """
        eps = 1e-9
        return math.floor((n + 1) * self.rate + eps) > math.floor(n * self.rate + eps)


@dataclass(frozen=True)
class TruncateFault:
    """Send the full Content-Length header but close the connection early."""

    kind: ClassVar[str] = "truncate"
    after_bytes: int | None = None
    fraction: float | None = None
    paths: Scope = "all"

    def params(self) -> dict[str, Any]:
        if self.after_bytes is not None:
            return {"after_bytes": self.after_bytes}
        return {"fraction": self.fraction}

    def cut_at(self, length: int) -> int | None:
        """Body bytes to send before closing, or None when the body is short enough to pass."""
        if self.after_bytes is not None:
            cut = self.after_bytes
        else:
            cut = int(length * (self.fraction or 0.0))
        return cut if cut < length else None


@dataclass(frozen=True)
class CorruptFault:
    """Flip (xor 0xFF) ``bytes`` bytes of every media segment (.ts, .m4s) at fixed, evenly
    spread positions."""

    kind: ClassVar[str] = "corrupt"
    bytes: int = 8
    paths: Scope = "all"

    def params(self) -> dict[str, Any]:
        return {"bytes": self.bytes}

    def positions(self, size: int) -> tuple[int, ...]:
        """Offsets in a file of ``size`` bytes: ((2i+1) * size) // (2n) for i in 0..n-1."""
        n = min(self.bytes, size)
        return tuple(sorted({((2 * i + 1) * size) // (2 * n) for i in range(n)})) if n else ()


@dataclass(frozen=True)
class LatencyFault:
    """Wait ``ms`` milliseconds before sending the response headers."""

    kind: ClassVar[str] = "latency"
    ms: float = 0.0
    paths: Scope = "all"

    def params(self) -> dict[str, Any]:
        return {"ms": self.ms}


Fault = KillFault | HangFault | SlowFault | ErrorFault | TruncateFault | CorruptFault | LatencyFault
KINDS: tuple[str, ...] = ("kill", "hang", "slow", "error", "truncate", "corrupt", "latency")


def fault_to_json(fault: Fault) -> dict[str, Any]:
    return {"kind": fault.kind, **fault.params(), "paths": fault.paths}


def _number(
    raw: Mapping[str, object],
    name: str,
    *,
    low: float,
    high: float = math.inf,
    integer: bool = False,
    low_open: bool = False,
) -> float:
    value = raw[name]
    if isinstance(value, bool) or not isinstance(value, int | float) or value != value:
        raise FaultError(f"{name} must be a number, got {value!r}")
    if integer and value != int(value):
        raise FaultError(f"{name} must be a whole number, got {value!r}")
    if value < low or (low_open and value == low) or value > high or value == math.inf:
        lower = f"> {low}" if low_open else f">= {low}"
        upper = f" and <= {high}" if high != math.inf else ""
        raise FaultError(f"{name} must be {lower}{upper}, got {value!r}")
    return float(value)


def _check_fields(kind: str, raw: Mapping[str, object], allowed: set[str]) -> None:
    unknown = set(raw) - allowed - {"kind", "paths"}
    if unknown:
        accepted = ", ".join(sorted(allowed)) or "none"
        raise FaultError(
            f"unknown field(s) for {kind}: {', '.join(sorted(unknown))} (accepted: {accepted})"
        )


def _exactly_one(kind: str, raw: Mapping[str, object], names: tuple[str, ...]) -> str:
    present = [n for n in names if n in raw]
    if len(present) != 1:
        raise FaultError(f"{kind} needs exactly one of: {', '.join(names)}")
    return present[0]


def _parse_slow(raw: Mapping[str, object], paths: Scope) -> SlowFault:
    _check_fields("slow", raw, {"rate_kbps", "trace", "trace_file"})
    which = _exactly_one("slow", raw, ("rate_kbps", "trace", "trace_file"))
    try:
        if which == "rate_kbps":
            return SlowFault(rate_kbps=_number(raw, "rate_kbps", low=0, low_open=True), paths=paths)
        if which == "trace":
            return SlowFault(trace=parse_trace(raw["trace"]), paths=paths)
        path = raw["trace_file"]
        if not isinstance(path, str) or not path:
            raise FaultError("trace_file must be a path (a non-empty string)")
        return SlowFault(trace=load_trace(Path(path)), trace_file=path, paths=paths)
    except TraceFormatError as exc:
        raise FaultError(str(exc)) from exc


def _parse_params(kind: str, raw: Mapping[str, object], paths: Scope) -> Fault:
    if kind in ("kill", "hang"):
        _check_fields(kind, raw, set())
        if kind == "kill":
            if paths != "all":
                raise FaultError('kill takes the whole edge down; paths must be "all"')
            return KillFault()
        return HangFault(paths=paths)
    if kind == "slow":
        return _parse_slow(raw, paths)
    if kind == "error":
        _check_fields(kind, raw, {"rate", "status"})
        rate = _number(raw, "rate", low=0, high=1) if "rate" in raw else 1.0
        status = _number(raw, "status", low=500, high=599, integer=True) if "status" in raw else 503
        return ErrorFault(rate=rate, status=int(status), paths=paths)
    if kind == "truncate":
        _check_fields(kind, raw, {"after_bytes", "fraction"})
        if _exactly_one(kind, raw, ("after_bytes", "fraction")) == "after_bytes":
            after = _number(raw, "after_bytes", low=0, integer=True)
            return TruncateFault(after_bytes=int(after), paths=paths)
        fraction = _number(raw, "fraction", low=0, high=1)
        if fraction >= 1:
            raise FaultError("fraction must be < 1 (1 would send the whole body)")
        return TruncateFault(fraction=fraction, paths=paths)
    if kind == "corrupt":
        _check_fields(kind, raw, {"bytes"})
        count = _number(raw, "bytes", low=1, high=1_000_000, integer=True) if "bytes" in raw else 8
        return CorruptFault(bytes=int(count), paths=paths)
    _check_fields(kind, raw, {"ms"})
    if "ms" not in raw:
        raise FaultError("latency needs ms (milliseconds before the response headers)")
    return LatencyFault(ms=_number(raw, "ms", low=0, high=3_600_000), paths=paths)


def parse_fault(raw: object) -> Fault:
    """Parse ``{"kind": ..., "paths": "all"|"segments", ...params}``; raise :class:`FaultError`."""
    if not isinstance(raw, Mapping):
        raise FaultError('a fault must be a JSON object like {"kind": "latency", "ms": 300}')
    kind = raw.get("kind")
    if kind not in KINDS:
        raise FaultError(f"kind must be one of {', '.join(KINDS)}; got {kind!r}")
    paths = raw.get("paths", "all")
    if paths not in SCOPES:
        raise FaultError(f'paths must be "all" or "segments"; got {paths!r}')
    assert isinstance(kind, str)
    return _parse_params(kind, raw, paths)
