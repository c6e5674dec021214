"""Which process is downloading a title: an OS lock that dies with its owner.

A download's journal state says ``downloading`` while a process works on it, and still says so
after that process was killed (``kill -9``, a crash, a power cut). The state alone cannot tell
the two apart, so the process that runs a download also holds an exclusive advisory lock on
``<locks>/<download id>.lock`` (``flock`` on POSIX, ``msvcrt.locking`` on Windows). The OS drops
the lock when the process ends, however it ends: a download whose lock nobody holds is
resumable, one whose lock is held has a live owner (its pid is written in the file, for the
message).
"""

from __future__ import annotations

import contextlib
import os
import sys
from pathlib import Path

if sys.platform == "win32":  # pragma: no cover - exercised on Windows only
    import msvcrt

    def _try_lock(fd: int) -> bool:
        try:
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
        except OSError:
            return False
        return True

    def _unlock(fd: int) -> None:
        os.lseek(fd, 0, os.SEEK_SET)
        msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)
else:
    import fcntl

    def _try_lock(fd: int) -> bool:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        return True

    def _unlock(fd: int) -> None:
        fcntl.flock(fd, fcntl.LOCK_UN)


class OwnerLock:
    """``lock = OwnerLock(path)``; ``lock.acquire()`` → True if this process now owns it;
    ``lock.release()``. :meth:`owner_pid` reads the owner's pid when another process holds it."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd: int | None = None

    @property
    def held(self) -> bool:
        """Held by this object."""
        return self._fd is not None

    def acquire(self) -> bool:
        if self._fd is not None:
            return True
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        if not _try_lock(fd):
            os.close(fd)
            return False
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        self._fd = fd
        return True

    def release(self) -> None:
        fd, self._fd = self._fd, None
        if fd is None:
            return
        with contextlib.suppress(OSError):
            _unlock(fd)
        os.close(fd)

    def held_elsewhere(self) -> bool:
        """Does another live process (or another lock object) hold it now?"""
        if self._fd is not None:
            return False
        if not self.acquire():
            return True
        self.release()
        return False

    def owner_pid(self) -> int | None:
        try:
            text = self.path.read_text().strip()
        except OSError:
            return None
        return int(text) if text.isdigit() else None
