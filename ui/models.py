"""Item models: one ``TitleRowModel`` per home row (and for search results and downloads), and
the ``ProfileModel`` of the profile picker. Views paint them with the delegates in
:mod:`ui.delegates`; artwork arrives later as ``dataChanged`` for the tiles that show it.

:func:`merge_local` lays this device's progress outbox over the server's rows: a newer local
position wins (played offline, or not synced yet), each title says ``sync_state`` ("pending" or
"synced"), and Continue Watching is ordered by recency (event time, newest first)."""

from __future__ import annotations

import copy
import enum
from collections.abc import Mapping
from typing import Any

from PySide6.QtCore import QAbstractListModel, QModelIndex, QObject, QPersistentModelIndex, Qt

JSON = dict[str, Any]
Index = QModelIndex | QPersistentModelIndex


class Role(enum.IntEnum):
    TITLE = Qt.ItemDataRole.UserRole + 1
    """The title's JSON object."""
    ID = Qt.ItemDataRole.UserRole + 2
    POSTER_URL = Qt.ItemDataRole.UserRole + 3
    PROGRESS = Qt.ItemDataRole.UserRole + 4
    """0..1 of the title watched, or None."""
    SUBTITLE = Qt.ItemDataRole.UserRole + 5
    """A second line: year and genre, or the time left."""
    COLOR = Qt.ItemDataRole.UserRole + 6
    SYNC = Qt.ItemDataRole.UserRole + 7
    """"pending" when this device's progress has not reached the server yet, "synced" when
    it has, None without progress."""


def fmt_duration(seconds: float) -> str:
    """``"1 h 38 min"``, ``"52 min"``; under a minute in seconds (``"30 s"``), never "0 min"."""
    if 0 < seconds < 59.5:
        return f"{round(seconds)} s"
    minutes = max(0, round(seconds / 60))
    return f"{minutes // 60} h {minutes % 60} min" if minutes >= 60 else f"{minutes} min"


def fmt_clock(seconds: float) -> str:
    s = max(0, int(seconds))
    if s >= 3600:
        return f"{s // 3600}:{s // 60 % 60:02d}:{s % 60:02d}"
    return f"{s // 60}:{s % 60:02d}"


def progress_fraction(title: JSON) -> float | None:
    progress = title.get("progress")
    if not isinstance(progress, dict):
        return None
    duration = float(progress.get("duration_s") or title.get("duration_s") or 0)
    if duration <= 0:
        return None
    return max(0.0, min(1.0, float(progress.get("position_s") or 0) / duration))


CONTINUE_ROW = "continue-watching"


def _local_view(event: Any) -> JSON:
    return {"position_s": float(event.position_s), "duration_s": event.duration_s,
            "event_time_ms": int(event.event_time_ms), "device_id": event.device_id,
            "watched": int(bool(event.watched)), "local": True}


def merge_title(title: JSON, local: Mapping[str, Any]) -> JSON:
    """A copy of ``title`` with this device's progress laid over the server's (see module)."""
    event = local.get(str(title.get("id", "")))
    server = title.get("progress") if isinstance(title.get("progress"), dict) else None
    if event is None:
        if server is None:
            return title
        return {**title, "sync_state": "synced"}
    out = copy.copy(title)
    server_time = int(server.get("event_time_ms") or 0) if server else -1
    if event.state == "pending":
        out["sync_state"] = "pending"
    elif server is not None or event.state == "synced":
        out["sync_state"] = "synced"
    if event.state != "dropped" and (server is None or (event.event_time_ms, event.device_id) >
                                     (server_time, str(server.get("device_id") or ""))):
        view = _local_view(event)
        if event.kind == "watched" and event.watched and server is not None:
            view["position_s"] = float(server.get("position_s") or 0)
        if not view["duration_s"]:
            view["duration_s"] = (server or {}).get("duration_s") or title.get("duration_s")
        out["progress"] = view
    return out


def in_progress(title: JSON) -> bool:
    progress = title.get("progress")
    return isinstance(progress, dict) and not progress.get("watched") and \
        float(progress.get("position_s") or 0) > 0


def merge_local(rows: list[JSON], local: Mapping[str, Any]) -> list[JSON]:
    """The server's home rows with this device's outbox laid over them; Continue Watching holds
    every title in progress (the server's and the local ones), most recent first."""
    merged = [{**row, "items": [merge_title(t, local) for t in row.get("items") or []
                                if isinstance(t, dict)]} for row in rows]
    seen: dict[str, JSON] = {}
    for row in merged:
        for t in row["items"]:
            seen.setdefault(str(t.get("id", "")), t)
    continuing = [t for t in seen.values() if in_progress(t)]
    continuing.sort(key=lambda t: int(t["progress"].get("event_time_ms") or 0), reverse=True)
    rest = [r for r in merged if r.get("id") != CONTINUE_ROW]
    if not continuing:
        return rest
    head = next((r for r in merged if r.get("id") == CONTINUE_ROW),
                {"id": CONTINUE_ROW, "title": "Continue Watching"})
    return [{**head, "items": continuing}, *rest]


class TitleRowModel(QAbstractListModel):
    """A list of titles (JSON objects as the control plane sends them)."""

    def __init__(self, row_id: str = "", title: str = "", titles: list[JSON] | None = None,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.row_id = row_id
        self.title = title
        self._titles: list[JSON] = list(titles or [])
        self._by_url: dict[str, list[int]] = {}
        self._reindex()

    def _reindex(self) -> None:
        self._by_url = {}
        for i, t in enumerate(self._titles):
            self._by_url.setdefault(str(t.get("poster_url") or ""), []).append(i)

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._titles)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._titles):
            return None
        t = self._titles[index.row()]
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.AccessibleTextRole):
            return str(t.get("name", ""))
        if role == Qt.ItemDataRole.ToolTipRole:
            pending = t.get("sync_state") == "pending" and progress_fraction(t) is not None
            return str(t.get("name", "")) + (" (progress not synced yet)" if pending else "")
        if role == Role.SYNC:
            return t.get("sync_state") if progress_fraction(t) is not None else None
        if role == Role.TITLE:
            return t
        if role == Role.ID:
            return str(t.get("id", ""))
        if role == Role.POSTER_URL:
            return str(t.get("poster_url") or "")
        if role == Role.PROGRESS:
            return progress_fraction(t)
        if role == Role.SUBTITLE:
            fraction = progress_fraction(t)
            if fraction is not None:
                left = float(t.get("duration_s") or 0) * (1 - fraction)
                return f"{fmt_duration(left)} left"
            genres = t.get("genres") or []
            year = t.get("year")
            return " · ".join(str(x) for x in (year, genres[0] if genres else None) if x)
        return None

    def set_titles(self, titles: list[JSON]) -> None:
        self.beginResetModel()
        self._titles = list(titles)
        self._reindex()
        self.endResetModel()

    def titles(self) -> list[JSON]:
        return list(self._titles)

    def art_loaded(self, url: str) -> None:
        for row in self._by_url.get(url, ()):
            index = self.index(row, 0)
            self.dataChanged.emit(index, index, [Qt.ItemDataRole.DecorationRole])


class ProfileModel(QAbstractListModel):
    """The account's profiles, plus an "Add profile" entry at the end."""

    ADD = "__add__"

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._profiles: list[JSON] = []

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._profiles) + 1

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < self.rowCount():
            return None
        if index.row() == len(self._profiles):
            if role == Qt.ItemDataRole.DisplayRole:
                return "Add profile"
            if role == Role.ID:
                return self.ADD
            if role == Role.COLOR:
                return "#3a3d48"
            return None
        p = self._profiles[index.row()]
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.AccessibleTextRole):
            return str(p.get("name", ""))
        if role == Role.ID:
            return str(p.get("id", ""))
        if role == Role.COLOR:
            return str(p.get("avatar_color") or "#e50914")
        if role == Role.TITLE:
            return p
        return None

    def set_profiles(self, profiles: list[JSON]) -> None:
        self.beginResetModel()
        self._profiles = list(profiles)
        self.endResetModel()

    def profiles(self) -> list[JSON]:
        return list(self._profiles)
