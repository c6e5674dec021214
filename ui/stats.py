"""The stats overlay (Ctrl+Shift+Alt+D, or i): the rendition on screen (the rung of the segment
under the playback position, as the bridge handed it to mpv) and the rendition being fetched,
both labelled, a live graph of the buffer level and the throughput estimate, the serving edge
and every edge's health, the last ABR decisions with their reasons, the failover log and
dropped frames."""

from __future__ import annotations

from collections import deque
from typing import Any

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QFont, QPainter, QPainterPath, QPen
from PySide6.QtWidgets import QWidget

GRAPH_SAMPLES = 120
STATE_COLORS = {"closed": "#3ddc84", "half_open": "#f5c542", "half-open": "#f5c542",
                "open": "#ff5252"}


def _mbps(bps: float | None) -> str:
    return "—" if not bps else f"{bps / 1e6:.2f} Mbit/s"


class StatsOverlay(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        self.buffer_s: deque[float] = deque(maxlen=GRAPH_SAMPLES)
        self.estimate_bps: deque[float] = deque(maxlen=GRAPH_SAMPLES)
        self.state: dict[str, Any] = {}
        self.decisions: deque[str] = deque(maxlen=5)
        self.failovers: deque[str] = deque(maxlen=5)
        self.resolution = ""
        self.font_px = 13
        self.setFixedSize(540, 470)
        self.hide()

    def set_font_px(self, px: int) -> None:
        """Text size: 13 px on a desktop, ~22 px in TV mode (readable at 3 m)."""
        self.font_px = px
        self.setFixedWidth(round(px * 41.5))
        self.update()

    def reset(self) -> None:
        self.buffer_s.clear()
        self.estimate_bps.clear()
        self.decisions.clear()
        self.failovers.clear()
        self.state = {}

    def on_state(self, state: dict[str, Any]) -> None:
        self.state = state
        self.buffer_s.append(float(state.get("buffer_s") or 0))
        self.estimate_bps.append(float(state.get("estimate_bps") or 0))
        if self.isVisible():
            self.update()

    def on_event(self, event: dict[str, Any]) -> None:
        kind = event.get("type")
        t = f"{float(event.get('t_ms') or 0) / 1000:6.1f}s"
        if kind == "rendition_switch":
            self.decisions.appendleft(
                f"{t}  seg {event.get('index')}: {event.get('from')}→{event.get('to')} "
                f"{event.get('rendition')}  ({event.get('reason')})")
        elif kind == "failover":
            self.failovers.appendleft(
                f"{t}  {event.get('edge_from')}→{event.get('edge_to')}  {event.get('cause')} "
                f"in {event.get('detection_ms')} ms")
        elif kind == "abandon":
            self.decisions.appendleft(f"{t}  seg {event.get('index')}: abandoned rung "
                                      f"{event.get('rung')}→{event.get('lower')}")

    def lines(self) -> list[tuple[str, str]]:
        s = self.state
        dropped = s.get("dropped_frames")
        shown = s.get("shown_rendition")
        return [
            ("On screen", f"{shown or '—'}  {_mbps(s.get('shown_bitrate_bps')) if shown else ''}"),
            ("Fetching", f"{s.get('fetching_rendition') or s.get('rendition') or '—'}  "
                         f"{_mbps(s.get('fetching_bitrate_bps') or s.get('bitrate_bps'))}"),
            ("Buffer", f"{float(s.get('buffer_s') or 0):.1f} s"),
            ("Throughput est.", _mbps(s.get("estimate_bps"))),
            ("Serving edge", str(s.get("edge") or "—")),
            ("Format", str(s.get("format") or "—")),
            ("Dropped frames", "—" if dropped is None else str(dropped)),
        ]

    def paintEvent(self, event: object) -> None:
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        p.setPen(Qt.PenStyle.NoPen)
        p.setBrush(QColor(10, 12, 16, 215))
        p.drawRoundedRect(QRectF(self.rect()), 10, 10)
        px = self.font_px
        mono = QFont("DejaVu Sans Mono")
        mono.setPixelSize(px)
        bold = QFont(mono)
        bold.setBold(True)
        x, lh = round(px * 1.2), round(px * 1.4)
        y = x + px
        p.setFont(bold)
        p.setPen(QColor("#ffffff"))
        p.drawText(x, y, "Stats for nerds")
        y += lh + 4
        for label, value in self.lines():
            p.setFont(mono)
            p.setPen(QColor("#9ba1ad"))
            p.drawText(x, y, label)
            p.setPen(QColor("#ffffff"))
            p.drawText(x + px * 11, y, value)
            y += lh
        y += 6
        graph = QRectF(x, y, self.width() - 2 * x, px * 8)
        self._graph(p, graph)
        y = int(graph.bottom()) + lh + px // 2
        p.setFont(bold)
        p.setPen(QColor("#ffffff"))
        p.drawText(x, y, "Edges")
        y += lh
        p.setFont(mono)
        for e in self.state.get("edges") or []:
            color = STATE_COLORS.get(str(e.get("state")), "#9ba1ad")
            p.setBrush(QColor(color))
            p.setPen(Qt.PenStyle.NoPen)
            p.drawEllipse(QPointF(x + px * 0.4, y - px * 0.3), px * 0.4, px * 0.4)
            p.setPen(QColor("#ffffff"))
            rtt = e.get("rtt_ms")
            tp = e.get("throughput_bps")
            serving = "  ◀ serving" if e.get("name") == self.state.get("edge") else ""
            p.drawText(x + px + 4, y, f"{e.get('name'):<8} {e.get('state')!s:<9} "
                                  f"rtt {'—' if rtt is None else f'{rtt:.0f} ms':>6}  "
                                  f"{_mbps(tp):>14}{serving}")
            y += lh
        for title, items in (("ABR decisions", self.decisions), ("Failovers", self.failovers)):
            y += 6
            p.setFont(bold)
            p.setPen(QColor("#ffffff"))
            p.drawText(x, y, title)
            y += lh
            p.setFont(mono)
            p.setPen(QColor("#d7d9de"))
            for line in list(items) or ["none yet"]:
                p.drawText(x, y, p.fontMetrics().elidedText(line, Qt.TextElideMode.ElideRight,
                                                           self.width() - 2 * x))
                y += lh
        if self.height() != y + 10:
            self.setFixedHeight(y + 10)

    def _graph(self, p: QPainter, r: QRectF) -> None:
        p.setPen(QPen(QColor(255, 255, 255, 40), 1))
        p.setBrush(QColor(255, 255, 255, 12))
        p.drawRect(r)
        series = [(self.buffer_s, "#4fc3f7", "buffer s", max(30.0, *self.buffer_s, 1)),
                  (self.estimate_bps, "#f5c542", "throughput",
                   max(1.0, *self.estimate_bps, 1))]
        small = QFont("DejaVu Sans Mono")
        small.setPixelSize(max(11, self.font_px - 2))
        p.setFont(small)
        for n, (values, color, label, top) in enumerate(series):
            pen = QPen(QColor(color), 2)
            p.setPen(pen)
            if len(values) > 1:
                path = QPainterPath()
                step = r.width() / (GRAPH_SAMPLES - 1)
                start = GRAPH_SAMPLES - len(values)
                for i, v in enumerate(values):
                    pt = QPointF(r.left() + (start + i) * step,
                                 r.bottom() - (v / top) * (r.height() - 6) - 3)
                    if i == 0:
                        path.moveTo(pt)
                    else:
                        path.lineTo(pt)
                p.setBrush(Qt.BrushStyle.NoBrush)
                p.drawPath(path)
            last = values[-1] if values else 0.0
            text = (f"{label} {last:.1f}" if n == 0 else f"{label} {_mbps(last)}")
            p.drawText(QPointF(r.left() + 6 + n * r.width() / 2, r.top() + self.font_px + 2),
                       text)
