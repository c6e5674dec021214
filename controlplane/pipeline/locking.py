"""One writer at a time per catalog: an exclusive lock file next to the catalog directory."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path


def lock_path(catalog_root: Path) -> Path:
    return catalog_root.with_name(f".{catalog_root.name}.lock")


@contextlib.contextmanager
def catalog_lock(catalog_root: Path) -> Iterator[None]:
    """Hold the catalog's lock (POSIX ``flock``; on other systems no lock is taken)."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows
        yield
        return
    with open(lock_path(catalog_root), "a+b") as handle:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
