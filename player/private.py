"""Files only this user may read: folders 0700, files 0600 (POSIX; a no-op where chmod is).

The client's data (the download journal, the media, the progress outbox, settings) says what a
person watches and holds wrapped keys: other accounts on the machine have no business reading it.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

DIR_MODE = 0o700
FILE_MODE = 0o600


def private_dir(path: Path) -> Path:
    """Create ``path`` (and missing parents) as 0700; tighten it if it exists."""
    path.mkdir(parents=True, exist_ok=True, mode=DIR_MODE)
    with contextlib.suppress(OSError):
        if path.stat().st_mode & 0o077:
            path.chmod(DIR_MODE)
    return path


def private_file(path: Path) -> Path:
    """Make sure ``path`` exists with mode 0600 before something (SQLite) opens it; SQLite
    gives its -wal and -shm files the same mode as the database."""
    private_dir(path.parent)
    fd = os.open(path, os.O_CREAT | os.O_WRONLY, FILE_MODE)
    try:
        with contextlib.suppress(OSError):
            os.fchmod(fd, FILE_MODE)
    finally:
        os.close(fd)
    return path
