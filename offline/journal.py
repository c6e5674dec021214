"""The download journal: one SQLite file (WAL) with every download, its segments and licenses.

A segment row is ``done`` only after its bytes are on disk under their final name (written to a
temporary name, fsynced, renamed): after a crash or ``kill -9`` the journal and the files agree,
and a resumed download fetches only what is not done. The SHA-256 of every finished segment is
kept here: the index that detects a tampered file.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from player.private import private_file

SCHEMA = """
CREATE TABLE IF NOT EXISTS downloads (
    id TEXT PRIMARY KEY, title_id TEXT NOT NULL, title_name TEXT NOT NULL,
    profile_id TEXT NOT NULL, account_id TEXT NOT NULL, device_id TEXT NOT NULL,
    service TEXT NOT NULL, rung INTEGER NOT NULL, rendition TEXT NOT NULL,
    bandwidth_bps INTEGER NOT NULL, state TEXT NOT NULL, error_code TEXT, error TEXT,
    duration_s REAL NOT NULL, created_at REAL NOT NULL, completed_at REAL,
    license TEXT, license_id TEXT, expires_at REAL, first_played_at REAL,
    position_s REAL NOT NULL DEFAULT 0, info TEXT NOT NULL DEFAULT '{}',
    play_count INTEGER NOT NULL DEFAULT 0, seal TEXT);
CREATE TABLE IF NOT EXISTS segments (
    download_id TEXT NOT NULL, idx INTEGER NOT NULL, duration_s REAL NOT NULL,
    size INTEGER, sha256 TEXT, done INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (download_id, idx));
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS pending_releases (
    license_id TEXT PRIMARY KEY, service TEXT NOT NULL, queued_at REAL NOT NULL);
"""

MIGRATIONS = {"play_count": "ALTER TABLE downloads ADD COLUMN play_count INTEGER NOT NULL"
                             " DEFAULT 0",
              "seal": "ALTER TABLE downloads ADD COLUMN seal TEXT"}
"""Columns added since the first release, for journals made before them."""

STATES = ("queued", "downloading", "paused", "completed", "failed")


@dataclass(frozen=True)
class Download:
    id: str
    title_id: str
    title_name: str
    profile_id: str
    account_id: str
    device_id: str
    service: str
    """The control plane's key (its URL, or ``bundled:<state dir>``)."""
    rung: int
    rendition: str
    bandwidth_bps: int
    state: str
    error_code: str | None
    error: str | None
    duration_s: float
    created_at: float
    completed_at: float | None
    license: str | None
    license_id: str | None
    expires_at: float | None
    first_played_at: float | None
    position_s: float
    info: dict[str, Any] = field(default_factory=dict)
    """Title facts kept for offline use: ``audio``, ``subtitles``, ``year``, ``poster_url``."""
    segment_count: int = 0
    segments_done: int = 0
    bytes_done: int = 0
    play_count: int = 0
    seal: str | None = None
    """HMAC of the license-relevant columns (:mod:`offline.anchors`); None: never sealed."""

    @property
    def complete(self) -> bool:
        return self.segment_count > 0 and self.segments_done == self.segment_count

    @property
    def estimated_bytes(self) -> int:
        """The whole download's size: measured so far, extrapolated by duration."""
        naive = int(self.bandwidth_bps * self.duration_s / 8)
        if not self.bytes_done or not self.segments_done:
            return naive
        if self.complete:
            return self.bytes_done
        return max(self.bytes_done, int(self.bytes_done * self.segment_count
                                        / self.segments_done))


@dataclass(frozen=True)
class SegmentRow:
    index: int
    duration_s: float
    size: int | None
    sha256: str | None
    done: bool


class Journal:
    """Thread-safe (one connection behind a lock); every write is one transaction."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        private_file(self.path)
        self._lock = threading.RLock()
        self._db = sqlite3.connect(str(self.path), check_same_thread=False,
                                   isolation_level=None, timeout=10.0)
        self._db.row_factory = sqlite3.Row
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.executescript(SCHEMA)
        columns = {r["name"] for r in self._db.execute("PRAGMA table_info(downloads)")}
        for name, sql in MIGRATIONS.items():
            if name not in columns:
                self._db.execute(sql)

    def close(self) -> None:
        with self._lock:
            self._db.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def _one(self, sql: str, args: Sequence[Any] = ()) -> sqlite3.Row | None:
        with self._lock:
            row: sqlite3.Row | None = self._db.execute(sql, args).fetchone()
            return row

    def _all(self, sql: str, args: Sequence[Any] = ()) -> list[sqlite3.Row]:
        with self._lock:
            return self._db.execute(sql, args).fetchall()

    # --- downloads ---------------------------------------------------------------------------

    def add(self, d: Download, durations_s: Sequence[float]) -> None:
        with self.transaction() as db:
            db.execute(
                "INSERT INTO downloads (id, title_id, title_name, profile_id, account_id,"
                " device_id, service, rung, rendition, bandwidth_bps, state, duration_s,"
                " created_at, license, license_id, expires_at, info, play_count, seal)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (d.id, d.title_id, d.title_name, d.profile_id, d.account_id, d.device_id,
                 d.service, d.rung, d.rendition, d.bandwidth_bps, d.state, d.duration_s,
                 d.created_at, d.license, d.license_id, d.expires_at, json.dumps(d.info),
                 d.play_count, d.seal))
            db.executemany("INSERT INTO segments (download_id, idx, duration_s) VALUES (?, ?, ?)",
                           [(d.id, i, float(s)) for i, s in enumerate(durations_s)])

    _SELECT = (
        "SELECT d.*, (SELECT COUNT(*) FROM segments s WHERE s.download_id = d.id) AS n,"
        " (SELECT COUNT(*) FROM segments s WHERE s.download_id = d.id AND s.done) AS n_done,"
        " (SELECT COALESCE(SUM(size), 0) FROM segments s WHERE s.download_id = d.id AND s.done)"
        " AS bytes_done FROM downloads d")

    @staticmethod
    def _download(row: sqlite3.Row) -> Download:
        return Download(
            id=row["id"], title_id=row["title_id"], title_name=row["title_name"],
            profile_id=row["profile_id"], account_id=row["account_id"],
            device_id=row["device_id"], service=row["service"], rung=row["rung"],
            rendition=row["rendition"], bandwidth_bps=row["bandwidth_bps"],
            state=row["state"], error_code=row["error_code"], error=row["error"],
            duration_s=row["duration_s"], created_at=row["created_at"],
            completed_at=row["completed_at"], license=row["license"],
            license_id=row["license_id"], expires_at=row["expires_at"],
            first_played_at=row["first_played_at"], position_s=row["position_s"],
            info=json.loads(row["info"] or "{}"), segment_count=row["n"],
            segments_done=row["n_done"], bytes_done=row["bytes_done"],
            play_count=row["play_count"], seal=row["seal"])

    def get(self, download_id: str) -> Download | None:
        row = self._one(self._SELECT + " WHERE d.id = ?", (download_id,))
        return self._download(row) if row else None

    def all(self) -> list[Download]:
        return [self._download(r) for r in self._all(self._SELECT + " ORDER BY d.created_at")]

    def set_state(self, download_id: str, state: str, *, error_code: str | None = None,
                  error: str | None = None) -> None:
        assert state in STATES, state
        completed = time.time() if state == "completed" else None
        with self.transaction() as db:
            db.execute("UPDATE downloads SET state = ?, error_code = ?, error = ?,"
                       " completed_at = COALESCE(?, completed_at) WHERE id = ?",
                       (state, error_code, error, completed, download_id))

    def write_sealed(self, download_id: str, seal: Callable[[Mapping[str, Any]], str],
                     **changes: Any) -> None:
        """Change license-relevant columns and write the row's new seal, in one transaction
        (``seal`` computes it over the row as it will be)."""
        with self.transaction() as db:
            row = db.execute("SELECT * FROM downloads WHERE id = ?", (download_id,)).fetchone()
            if row is None:
                return
            values = {**dict(zip(row.keys(), tuple(row), strict=True)), **changes}
            names = [*changes, "seal"]
            db.execute(f"UPDATE downloads SET {', '.join(f'{n} = ?' for n in names)}"
                       " WHERE id = ?", (*changes.values(), seal(values), download_id))

    def row(self, download_id: str) -> dict[str, Any] | None:
        """The download's columns as stored (what the seal covers)."""
        found = self._one("SELECT * FROM downloads WHERE id = ?", (download_id,))
        return None if found is None else dict(zip(found.keys(), tuple(found), strict=True))

    def set_position(self, download_id: str, position_s: float) -> None:
        with self.transaction() as db:
            db.execute("UPDATE downloads SET position_s = ? WHERE id = ?",
                       (position_s, download_id))

    def remove(self, download_id: str) -> None:
        with self.transaction() as db:
            db.execute("DELETE FROM segments WHERE download_id = ?", (download_id,))
            db.execute("DELETE FROM downloads WHERE id = ?", (download_id,))

    # --- segments ----------------------------------------------------------------------------

    def segments(self, download_id: str) -> list[SegmentRow]:
        return [SegmentRow(r["idx"], r["duration_s"], r["size"], r["sha256"], bool(r["done"]))
                for r in self._all("SELECT * FROM segments WHERE download_id = ? ORDER BY idx",
                                   (download_id,))]

    def used_bytes(self) -> int:
        """Bytes of every finished segment of every download (what the quota counts)."""
        row = self._one("SELECT COALESCE(SUM(size), 0) AS n FROM segments WHERE done")
        return int(row["n"]) if row else 0

    def segment_done(self, download_id: str, index: int, size: int, sha256: str) -> None:
        with self.transaction() as db:
            db.execute("UPDATE segments SET size = ?, sha256 = ?, done = 1"
                       " WHERE download_id = ? AND idx = ?", (size, sha256, download_id, index))

    def segments_undone(self, download_id: str, indices: Sequence[int]) -> None:
        """Fetch these again (found damaged)."""
        with self.transaction() as db:
            db.executemany("UPDATE segments SET done = 0, size = NULL, sha256 = NULL"
                           " WHERE download_id = ? AND idx = ?",
                           [(download_id, i) for i in indices])

    # --- meta and releases owed -------------------------------------------------------------

    def meta(self, key: str) -> str | None:
        row = self._one("SELECT value FROM meta WHERE key = ?", (key,))
        return None if row is None else str(row["value"])

    def set_meta(self, key: str, value: str) -> None:
        with self.transaction() as db:
            db.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, value))

    def owe_release(self, license_id: str, service: str) -> None:
        with self.transaction() as db:
            db.execute("INSERT OR REPLACE INTO pending_releases VALUES (?, ?, ?)",
                       (license_id, service, time.time()))

    def releases_owed(self, service: str) -> list[str]:
        return [r["license_id"] for r in self._all(
            "SELECT license_id FROM pending_releases WHERE service = ? ORDER BY queued_at",
            (service,))]

    def released(self, license_id: str) -> None:
        with self.transaction() as db:
            db.execute("DELETE FROM pending_releases WHERE license_id = ?", (license_id,))
