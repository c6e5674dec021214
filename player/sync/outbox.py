"""The durable progress outbox: one SQLite file (WAL) in the app data folder.

Every progress event (a position, or "mark watched/unwatched") is written here in a committed
transaction *before* anything is sent, so a crash, ``kill -9`` or a control plane that is down
loses nothing. One row per (account, profile, title): a newer event replaces the older one
(coalescing), and takes a new sequence number, so replay follows the order of the latest events.
The replayer (:mod:`player.sync.sync`) sends pending rows in ``seq`` order and marks them
``synced`` only if no newer event replaced them meanwhile. Synced rows stay: they are the local
view (position, device, time) the UI shows until the server's answer arrives.

Schema (``user_version`` 1)::

    outbox(account_id, profile_id, title_id,             -- primary key
           kind 'position'|'watched', position_s, duration_s, watched 0|1,
           event_time_ms,  -- the wall clock when the event happened (last write wins)
           device_id, device_name,
           seq,            -- order of events, increasing
           state 'pending'|'synced'|'dropped', attempts, error)
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from player.private import private_file

log = logging.getLogger("sync")

FILE_NAME = "progress.sqlite3"
PENDING, SYNCED, DROPPED = "pending", "synced", "dropped"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS outbox (
    account_id TEXT NOT NULL,
    profile_id TEXT NOT NULL,
    title_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    position_s REAL NOT NULL,
    duration_s REAL,
    watched INTEGER NOT NULL,
    event_time_ms INTEGER NOT NULL,
    device_id TEXT NOT NULL,
    device_name TEXT NOT NULL DEFAULT '',
    seq INTEGER NOT NULL,
    state TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    error TEXT,
    PRIMARY KEY (account_id, profile_id, title_id)
);
CREATE INDEX IF NOT EXISTS outbox_pending ON outbox (state, seq);
"""


@dataclass(frozen=True)
class ProgressEvent:
    """One progress event as the outbox keeps it."""

    profile_id: str
    title_id: str
    position_s: float
    event_time_ms: int
    device_id: str
    duration_s: float | None = None
    kind: str = "position"
    """``"position"``, or ``"watched"`` (mark watched / unwatched by hand)."""
    watched: bool = False
    account_id: str = ""
    device_name: str = ""
    seq: int = 0
    state: str = PENDING
    error: str | None = None

    def wire(self) -> dict[str, Any]:
        """The item of ``POST /v1/progress/batch`` (docs/protocol.md, *Progress*)."""
        item: dict[str, Any] = {"profile_id": self.profile_id, "title_id": self.title_id,
                                "event_time_ms": self.event_time_ms}
        if self.device_id:
            item["device_id"] = self.device_id
        if self.kind == "watched":
            item["watched"] = self.watched
        else:
            item["position_s"] = round(self.position_s, 3)
            if self.duration_s:
                item["duration_s"] = self.duration_s
        return item

    @classmethod
    def _from_row(cls, row: sqlite3.Row) -> ProgressEvent:
        return cls(profile_id=row["profile_id"], title_id=row["title_id"],
                   position_s=row["position_s"], event_time_ms=row["event_time_ms"],
                   device_id=row["device_id"], duration_s=row["duration_s"], kind=row["kind"],
                   watched=bool(row["watched"]), account_id=row["account_id"],
                   device_name=row["device_name"], seq=row["seq"], state=row["state"],
                   error=row["error"])


class Outbox:
    """``Outbox(path)`` (a file, or a folder to hold :data:`FILE_NAME`). Thread-safe: the engine
    loop writes and replays, the UI reads. Every write is one committed transaction."""

    def __init__(self, path: Path | str) -> None:
        path = Path(path)
        if path.suffix != ".sqlite3":
            path = path / FILE_NAME
        private_file(path)
        self.path = path
        self._lock = threading.Lock()
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None,
                                   timeout=5.0)
        self._db.row_factory = sqlite3.Row
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.executescript(_SCHEMA)
        self._db.execute("PRAGMA user_version=1")

    def close(self) -> None:
        with self._lock:
            self._db.close()

    # --- writes --------------------------------------------------------------------------------

    def put(self, event: ProgressEvent) -> bool:
        """Record ``event`` as pending, replacing the title's row unless that one is newer (by
        event time, then device id, as the server decides). Returns True if it was kept."""
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                old = self._db.execute(
                    "SELECT event_time_ms, device_id FROM outbox WHERE account_id = ? AND "
                    "profile_id = ? AND title_id = ?",
                    (event.account_id, event.profile_id, event.title_id)).fetchone()
                if old is not None and (old[0], old[1]) > (event.event_time_ms, event.device_id):
                    self._db.execute("COMMIT")
                    return False
                seq = self._db.execute("SELECT COALESCE(MAX(seq), 0) + 1 FROM outbox").fetchone()[0]
                self._db.execute(
                    "INSERT OR REPLACE INTO outbox VALUES (?,?,?,?,?,?,?,?,?,?,?,?,0,NULL)",
                    (event.account_id, event.profile_id, event.title_id, event.kind,
                     event.position_s, event.duration_s, int(event.watched),
                     event.event_time_ms, event.device_id, event.device_name, seq, PENDING))
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
        return True

    def mark(self, sent: Iterable[tuple[ProgressEvent, str, str | None]]) -> int:
        """Record what the server did with sent events: ``(event, state, error)``. A row that a
        newer event replaced meanwhile (another ``seq``) stays pending. Returns rows changed."""
        changed = 0
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                for event, state, error in sent:
                    cur = self._db.execute(
                        "UPDATE outbox SET state = ?, error = ?, attempts = attempts + 1 "
                        "WHERE account_id = ? AND profile_id = ? AND title_id = ? AND seq = ?",
                        (state, error, event.account_id, event.profile_id, event.title_id,
                         event.seq))
                    changed += cur.rowcount
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
        return changed

    # --- reads ---------------------------------------------------------------------------------

    def pending(self, limit: int = 500, account_id: str | None = None) -> list[ProgressEvent]:
        """The oldest pending events first (the order they happened), at most ``limit``."""
        where, args = "state = ?", [PENDING]
        if account_id is not None:  # this account's events, and those recorded signed out
            where += " AND account_id IN (?, '')"
            args.append(account_id)
        return self._select(f"{where} ORDER BY seq LIMIT ?", (*args, limit))

    def pending_count(self) -> int:
        with self._lock:
            return int(self._db.execute(
                "SELECT COUNT(*) FROM outbox WHERE state = ?", (PENDING,)).fetchone()[0])

    def get(self, profile_id: str, title_id: str,
            account_id: str | None = None) -> ProgressEvent | None:
        """The latest local event for this profile and title (any state)."""
        where = "profile_id = ? AND title_id = ?"
        args: list[Any] = [profile_id, title_id]
        if account_id is not None:
            where += " AND account_id = ?"
            args.append(account_id)
        rows = self._select(f"{where} ORDER BY event_time_ms DESC LIMIT 1", args)
        return rows[0] if rows else None

    def for_profile(self, profile_id: str) -> list[ProgressEvent]:
        """Every local event of one profile, most recent first (never another profile's)."""
        return self._select("profile_id = ? ORDER BY event_time_ms DESC", (profile_id,))

    def _select(self, where: str, args: Sequence[Any]) -> list[ProgressEvent]:
        with self._lock:
            rows = self._db.execute(f"SELECT * FROM outbox WHERE {where}", tuple(args)).fetchall()
        return [ProgressEvent._from_row(r) for r in rows]
