"""The quality-of-experience report of one session, computed from its telemetry events alone.

``QoeReport.from_events(events)`` reads the event dicts :mod:`player.telemetry` documents:

* ``ttff_ms``: from ``first_frame`` (None if playback never started);
* rebuffers: ``rebuffer_end`` events with cause ``stall`` (start-up and seek waits are not
  rebuffers), their count and total seconds;
* ``switches``: ``rendition_switch`` events after the first rung decision, with ``up``/``down``;
* ``average_bitrate_bps``: time-weighted over what was *played* (``session_end``'s
  ``played_by_rung`` seconds × that rung's bitrate), so a segment fetched but never shown does
  not count; rungs of unknown bitrate (0: a bare media playlist has no BANDWIDTH) do not count
  either, and with nothing left it is None (unknown), never 0;
* ``format``: ``hls`` or ``dash``, what the manifest was (``session_start``), and
  ``format_fallback``: True when DASH was asked for and the title played as HLS;
* edges used: the edges that delivered segments (``session_end``'s ``segments_by_edge``),
  never an edge that was only tried; failovers with cause and detection time, the error (code,
  message) if the session ended in one.

Unknown values are None (``null`` in JSON), never 0.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field, replace
from typing import Any


@dataclass(frozen=True)
class FailoverSummary:
    cause: str
    edge_from: str
    edge_to: str | None
    detection_ms: float
    index: int


@dataclass(frozen=True)
class QoeReport:
    title_id: str = ""
    session_id: str = ""
    ttff_ms: float | None = None
    """Time to first frame: play() to mpv's first frame, milliseconds."""
    played_s: float = 0.0
    """Media seconds played (seeks skip, pauses do not count)."""
    end_reason: str | None = None
    """``eof``, ``stopped`` or ``error``; None if the session has not ended."""
    position_s: float | None = None
    rebuffer_count: int = 0
    rebuffer_s: float = 0.0
    switches: int = 0
    switches_up: int = 0
    switches_down: int = 0
    average_bitrate_bps: float | None = None
    """Time-weighted over the media played, bit/s (the variants' BANDWIDTH)."""
    renditions_played: dict[str, float] = field(default_factory=dict)
    """Rendition id → seconds played."""
    audio_renditions: list[str] = field(default_factory=list)
    """The audio renditions played, in order (``NAME (language)``; ``muxed`` for audio in the
    video segments)."""
    edges_used: list[str] = field(default_factory=list)
    """Edges that delivered at least one segment, in the order they first did."""
    segments_by_edge: dict[str, int] = field(default_factory=dict)
    """Edge → segments it delivered (the edge of each segment's successful request)."""
    failovers: list[FailoverSummary] = field(default_factory=list)
    url_refreshes: int = 0
    seeks: int = 0
    error_code: str | None = None
    error_message: str | None = None
    format: str | None = None
    """``hls`` or ``dash``: what the manifest was; None before the session started."""
    format_fallback: bool = False
    """DASH was asked for, the control plane had none for the title: it played as HLS."""

    @classmethod
    def from_events(cls, events: Iterable[Mapping[str, Any]]) -> QoeReport:
        title_id = session_id = ""
        ttff: float | None = None
        end: Mapping[str, Any] | None = None
        rebuffers: list[float] = []
        ups = downs = seeks = refreshes = 0
        edges: list[str] = []
        failovers: list[FailoverSummary] = []
        error: tuple[str | None, str | None] = (None, None)
        renditions: dict[int, str] = {}
        audio: list[str] = []
        fmt: str | None = None
        fallback = False

        def used(edge: object) -> None:
            if isinstance(edge, str) and edge and edge not in edges:
                edges.append(edge)

        for e in events:
            kind = e.get("type")
            title_id = str(e.get("title_id") or title_id)
            session_id = str(e.get("session_id") or session_id)
            if kind == "first_frame" and ttff is None:
                ttff = None if e.get("ttff_ms") is None else float(e["ttff_ms"])
            elif kind == "rebuffer_end" and e.get("cause", "stall") == "stall":
                rebuffers.append(float(e.get("waited_ms", 0.0)) / 1000)
            elif kind == "rendition_switch":
                to = e.get("to")
                if isinstance(to, int) and isinstance(e.get("rendition"), str):
                    renditions[to] = str(e["rendition"])
                before = e.get("from")
                if isinstance(before, int) and isinstance(to, int):
                    ups += to > before
                    downs += to < before
            elif kind == "failover":
                if e.get("cause") == "url_refresh":
                    refreshes += 1
                    continue
                failovers.append(FailoverSummary(
                    str(e.get("cause")), str(e.get("edge_from")),
                    None if e.get("edge_to") is None else str(e.get("edge_to")),
                    float(e.get("detection_ms", 0.0)), int(e.get("index", -1))))
            elif kind == "session_start" and isinstance(e.get("format"), str):
                fmt = str(e["format"])
                fallback = bool(e.get("format_fallback"))
            elif kind == "seek":
                seeks += 1
            elif kind == "audio":
                name = str(e.get("rendition") or e.get("language") or "?")
                if e.get("language") and e.get("rendition") not in (None, "muxed"):
                    name += f" ({e['language']})"
                if not audio or audio[-1] != name:
                    audio.append(name)
            elif kind == "error" and error[0] is None:
                error = (str(e.get("code")), str(e.get("message")))
            elif kind == "session_end":
                end = e
        played_s = 0.0
        average: float | None = None
        played: dict[str, float] = {}
        delivered: dict[str, int] = {}
        position: float | None = None
        reason: str | None = None
        if end is not None:
            reason = str(end.get("reason"))
            position = end.get("position_s")
            by_rung = {int(k): float(v) for k, v in (end.get("played_by_rung") or {}).items()}
            bitrates = list(end.get("bitrates_bps") or [])
            played_s = float(end.get("played_s", sum(by_rung.values())))
            known = {r: s for r, s in by_rung.items()
                     if 0 <= r < len(bitrates) and isinstance(bitrates[r], int | float)
                     and bitrates[r] > 0}
            total = sum(known.values())
            average = (sum(s * bitrates[r] for r, s in known.items()) / total if total > 0
                       else None)
            played = {renditions.get(r, f"rung {r}"): round(s, 3) for r, s in by_rung.items()}
            for edge, count in (end.get("segments_by_edge") or {}).items():
                if isinstance(count, int) and count > 0:
                    used(edge)
                    delivered[str(edge)] = count
        return cls(title_id=title_id, session_id=session_id, ttff_ms=ttff,
                   played_s=round(played_s, 3), end_reason=reason,
                   position_s=None if position is None else round(float(position), 3),
                   rebuffer_count=len(rebuffers), rebuffer_s=round(sum(rebuffers), 3),
                   switches=ups + downs, switches_up=ups, switches_down=downs,
                   average_bitrate_bps=None if average is None else round(average),
                   renditions_played=played, audio_renditions=audio, edges_used=edges,
                   segments_by_edge=delivered,
                   failovers=failovers,
                   url_refreshes=refreshes, seeks=seeks, error_code=error[0],
                   error_message=error[1], format=fmt, format_fallback=fallback)

    def with_error(self, code: str, message: str) -> QoeReport:
        """This report, ending in the error that really ended the session (the caller's
        final word: e.g. a damaged download rather than the "no edge" the engine saw)."""
        return replace(self, error_code=code, error_message=message,
                       end_reason=self.end_reason or "error")

    def to_json(self) -> dict[str, Any]:
        """Every field; unknown ones (no title or session id yet, no first frame, no bitrate
        known) are None."""
        body = asdict(self)
        body["title_id"] = self.title_id or None
        body["session_id"] = self.session_id or None
        return body

    def text(self) -> str:
        """A short human-readable report (what ``edgeplay play --headless`` prints)."""
        def ms(value: float | None) -> str:
            return "-" if value is None else f"{value:.0f} ms"
        lines = [
            f"Title:              {self.title_id} (session {self.session_id or '-'})",
            f"Ended:              {self.end_reason or '-'} at "
            f"{'-' if self.position_s is None else f'{self.position_s:.1f} s'}",
            f"Format:             {(self.format or '-').upper()}"
            + (" (DASH unavailable for this title)" if self.format_fallback else ""),
            f"Time to first frame: {ms(self.ttff_ms)}",
            f"Played:             {self.played_s:.1f} s",
            f"Rebuffers:          {self.rebuffer_count} ({self.rebuffer_s:.2f} s)",
            f"Switches:           {self.switches} (up {self.switches_up}, "
            f"down {self.switches_down})",
            "Average bitrate:    " + ("-" if self.average_bitrate_bps is None
                                      else f"{self.average_bitrate_bps / 1000:.0f} kbit/s"),
            "Renditions:         " + (", ".join(f"{k} {v:.1f} s"
                                                for k, v in self.renditions_played.items())
                                      or "-"),
            f"Edges used:         {', '.join(self.edges_used) or '-'}",
            f"Failovers:          {len(self.failovers)}"
            + (f", URL refreshes: {self.url_refreshes}" if self.url_refreshes else ""),
        ]
        for f in self.failovers:
            lines.append(f"  segment {f.index}: {f.edge_from} → {f.edge_to or 'none'} "
                         f"({f.cause}, detected in {f.detection_ms:.0f} ms)")
        if self.error_code:
            lines.append(f"Error:              {self.error_code}: {self.error_message}")
        return "\n".join(lines)
