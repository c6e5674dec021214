"""The control plane's durable state: one SQLite file (WAL) in its state directory.

Accounts, devices, tokens, profiles, progress, playback sessions, offline licenses and telemetry
survive a restart, so clients keep their tokens and progress when the control plane comes back.
"""

from __future__ import annotations

import hashlib
import os
import secrets
import sqlite3
from pathlib import Path

SCHEMA = """
CREATE TABLE IF NOT EXISTS accounts (
    id TEXT PRIMARY KEY, email TEXT UNIQUE NOT NULL, password_hash TEXT NOT NULL,
    plan TEXT NOT NULL, region TEXT NOT NULL, created_at REAL NOT NULL);
CREATE TABLE IF NOT EXISTS devices (
    id TEXT PRIMARY KEY, account_id TEXT NOT NULL REFERENCES accounts(id), name TEXT NOT NULL,
    platform TEXT NOT NULL, region TEXT NOT NULL, public_key TEXT, created_at REAL NOT NULL);
CREATE TABLE IF NOT EXISTS tokens (
    token_hash TEXT PRIMARY KEY, kind TEXT NOT NULL, device_id TEXT NOT NULL,
    account_id TEXT NOT NULL, expires_at REAL NOT NULL);
CREATE TABLE IF NOT EXISTS profiles (
    id TEXT PRIMARY KEY, account_id TEXT NOT NULL REFERENCES accounts(id), name TEXT NOT NULL,
    avatar_color TEXT NOT NULL, kids INTEGER NOT NULL, created_at REAL NOT NULL);
CREATE TABLE IF NOT EXISTS progress (
    profile_id TEXT NOT NULL, title_id TEXT NOT NULL, position_s REAL NOT NULL,
    duration_s REAL NOT NULL, event_time_ms INTEGER NOT NULL, device_id TEXT NOT NULL,
    watched INTEGER NOT NULL, PRIMARY KEY (profile_id, title_id));
CREATE TABLE IF NOT EXISTS playback_sessions (
    id TEXT PRIMARY KEY, account_id TEXT NOT NULL, device_id TEXT NOT NULL,
    profile_id TEXT NOT NULL, title_id TEXT NOT NULL, created_at REAL NOT NULL);
CREATE TABLE IF NOT EXISTS offline_licenses (
    id TEXT PRIMARY KEY, account_id TEXT NOT NULL, device_id TEXT NOT NULL,
    profile_id TEXT NOT NULL, title_id TEXT NOT NULL, issued_at REAL NOT NULL,
    expires_at REAL NOT NULL, first_played_at REAL, released INTEGER NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS device_codes (
    device_code_hash TEXT PRIMARY KEY, user_code TEXT UNIQUE NOT NULL, name TEXT NOT NULL,
    platform TEXT NOT NULL, public_key TEXT, created_at REAL NOT NULL, expires_at REAL NOT NULL,
    interval_s REAL NOT NULL, last_poll_at REAL, status TEXT NOT NULL, account_id TEXT);
CREATE TABLE IF NOT EXISTS telemetry (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, device_id TEXT NOT NULL, received_at REAL NOT NULL,
    event TEXT NOT NULL);
"""


def new_id(prefix: str) -> str:
    return f"{prefix}_{secrets.token_hex(8)}"


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def hash_password(password: str, salt: bytes | None = None) -> str:
    salt = salt or os.urandom(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=2**12, r=8, p=1)
    return f"scrypt${salt.hex()}${digest.hex()}"


def check_password(password: str, stored: str) -> bool:
    _, salt_hex, digest_hex = stored.split("$")
    candidate = hash_password(password, bytes.fromhex(salt_hex))
    return secrets.compare_digest(candidate.split("$")[2], digest_hex)


def open_store(path: Path) -> sqlite3.Connection:
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        db = _connect(path)
    except sqlite3.DatabaseError:
        # A damaged state file must not keep the backend down: set it aside and start afresh.
        path.replace(path.with_suffix(".damaged"))
        db = _connect(path)
    return db


def _connect(path: Path) -> sqlite3.Connection:
    db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    db.row_factory = sqlite3.Row
    db.execute("PRAGMA journal_mode=WAL")
    # WAL + NORMAL: a commit no longer waits for fsync (durable at the next checkpoint); a
    # crash can lose the last few writes, never corrupt the file. It takes ~3 ms off every
    # playback start.
    db.execute("PRAGMA synchronous=NORMAL")
    db.execute("PRAGMA foreign_keys=ON")
    db.executescript(SCHEMA)
    return db
