"""The files of a download, and how they are written and checked.

``<root>/<download id>/seg/<index>.ts`` holds each segment exactly as the edge served it:
AES-128 encrypted, so media is never plaintext on disk (the key is only inside the license,
wrapped to the device key). ``sub/<lang>.vtt`` holds the subtitles (WebVTT, not encrypted: the
edges serve them in the clear too). A segment is written to ``<index>.ts.part``, fsynced and
renamed: a crash leaves either the finished file or a part that a resume continues with a Range
request. Every finished file's SHA-256 is in the journal; :meth:`Store.read_segment` checks it.
"""

from __future__ import annotations

import errno
import hashlib
import os
import shutil
from pathlib import Path

from offline.errors import OfflineError
from player.private import FILE_MODE, private_dir

CHUNK = 256 * 1024


def fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def is_disk_full(exc: BaseException) -> bool:
    return isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG)


def size_text(n: int) -> str:
    """Bytes for people, never rounded to a misleading unit: "360 KiB", "25.0 MB", "1.08 GB"."""
    n = max(0, int(n))
    if n < 1_000_000:
        return f"{n / 1024:.0f} KiB" if n >= 1024 else f"{n} bytes"
    if n < 1_000_000_000:
        return f"{n / 1e6:.1f} MB"
    return f"{n / 1e9:.2f} GB"


def disk_full_error(root: Path, free: int | None = None) -> OfflineError:
    """``free``: the free space measured when the write failed (before its part file was
    dropped, which frees room again); measured now when not given."""
    free = free_bytes(root) if free is None else free
    return OfflineError(f"The disk holding your downloads is full ({size_text(free)} free). "
                        "Free some space, then resume the download: nothing was lost.",
                        code="disk_full")


def free_bytes(path: Path) -> int:
    for candidate in (path, *path.parents):
        if candidate.exists():
            return shutil.disk_usage(candidate).free
    return 0


class Store:
    def __init__(self, root: Path) -> None:
        self.root = root

    def folder(self, download_id: str) -> Path:
        return self.root / download_id

    def segment_path(self, download_id: str, index: int) -> Path:
        return self.folder(download_id) / "seg" / f"{index:06d}.ts"

    def part_path(self, download_id: str, index: int) -> Path:
        return self.segment_path(download_id, index).with_suffix(".ts.part")

    def subtitle_path(self, download_id: str, language: str) -> Path:
        safe = "".join(c for c in language if c.isalnum() or c in "-_") or "und"
        return self.folder(download_id) / "sub" / f"{safe}.vtt"

    def prepare(self, download_id: str) -> None:
        private_dir(self.folder(download_id) / "seg")
        private_dir(self.folder(download_id) / "sub")

    # --- writing -----------------------------------------------------------------------------

    def open_part(self, download_id: str, index: int) -> tuple[int, hashlib._Hash]:
        """Bytes already in the part file (a resume continues after them) and their hash."""
        part = self.part_path(download_id, index)
        digest = hashlib.sha256()
        if not part.exists():
            return 0, digest
        with part.open("rb") as f:
            while chunk := f.read(CHUNK):
                digest.update(chunk)
        return part.stat().st_size, digest

    def discard_part(self, download_id: str, index: int) -> None:
        self.part_path(download_id, index).unlink(missing_ok=True)

    def finish_part(self, download_id: str, index: int) -> None:
        """fsync the part, rename it to its final name, fsync the folder."""
        part = self.part_path(download_id, index)
        fd = os.open(part, os.O_RDONLY)
        try:
            os.fchmod(fd, FILE_MODE)
            os.fsync(fd)
        finally:
            os.close(fd)
        final = self.segment_path(download_id, index)
        os.replace(part, final)
        fsync_dir(final.parent)

    def write_file(self, path: Path, data: bytes) -> None:
        """A small file, atomically (subtitles)."""
        private_dir(path.parent)
        tmp = path.with_name(path.name + ".part")
        with os.fdopen(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, FILE_MODE),
                       "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
        fsync_dir(path.parent)

    # --- reading and checking ----------------------------------------------------------------

    def read_segment(self, download_id: str, index: int, size: int | None,
                     sha256: str | None) -> bytes:
        """The segment's bytes, or ``tampered`` when they are not what was downloaded."""
        path = self.segment_path(download_id, index)
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            raise damaged([index]) from None
        if (size is not None and len(data) != size) or (
                sha256 is not None and hashlib.sha256(data).hexdigest() != sha256):
            raise damaged([index])
        return data

    def check(self, download_id: str, index: int, size: int | None,
              sha256: str | None) -> bool:
        try:
            self.read_segment(download_id, index, size, sha256)
        except OfflineError:
            return False
        return True

    def delete(self, download_id: str) -> None:
        shutil.rmtree(self.folder(download_id), ignore_errors=True)


def damaged(indices: list[int]) -> OfflineError:
    listed = ", ".join(str(i) for i in indices[:8]) + ("…" if len(indices) > 8 else "")
    error = OfflineError(f"Part of this download is damaged (segment {listed} changed on disk "
                         "since it was downloaded). Repair it to fetch just those parts again "
                         "(Downloads → Repair, or `edgeplay downloads repair`).",
                         code="tampered")
    error.segments = indices  # type: ignore[attr-defined]
    return error
