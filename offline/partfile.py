"""A download's part file as the fetcher's :class:`~player.fetchbase.Progress`.

The player's fetcher (failover, adaptive timeouts, Range resume, validation) hands every byte
it receives for a segment to its ``Progress``; :class:`PartProgress` also writes it to the
segment's ``.part`` file (sealed at rest when the edge serves it in the clear) and hashes what
is stored. A part left by an earlier run (``kill -9``, a pause, a full disk) is taken up where
it stopped: its bytes count as received, so the fetcher's first request asks only for the rest
(``Range: bytes=N-``), and they go through the segment's decryptor and checks first. When the
fetcher starts the segment over (a corrupt body), the part file starts over too.

:class:`Counted` is the fetcher's sink for a download: the plaintext is validated as it comes
(decrypted, TS framing, fMP4 boxes) but not kept — no one reads it, the bytes are on disk.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

from offline.atrest import AtRest
from player.buffer import LiveSegment
from player.fetchbase import Progress


class PartProgress(Progress):
    def __init__(self, path: Path, seal: tuple[AtRest, int] | None = None,
                 on_bytes: Callable[[int], None] | None = None) -> None:
        self.path = path
        self.seal = seal
        """The at-rest seal and this part's number, for bytes the edge serves in the clear."""
        self.on_bytes = on_bytes
        self.file: BinaryIO | None = None
        self.digest = hashlib.sha256()
        self._closed = False
        self._lock = threading.Lock()
        super().__init__()

    def open(self) -> None:
        """Take up the bytes an earlier run left in the part file (none: start it).

        It runs in a worker thread, so the download can be cancelled (a pause, a full disk on a
        sibling part) and :meth:`close` called while it runs: a part closed before it was open
        stays closed, and the file it opened is closed here."""
        if self._closed:
            return
        held = self.path.read_bytes() if self.path.exists() else b""
        file = self.path.open("r+b" if held else "wb")
        with self._lock:
            if self._closed:
                file.close()
                return
            self.file = file
        self.digest = hashlib.sha256(held)
        file.seek(len(held))
        self.fetched = len(held)
        self.backlog = bytearray(self._open(held, 0))

    def reset(self) -> None:
        super().reset()
        self.digest = hashlib.sha256()
        if self.file is not None:
            self.file.seek(0)
            self.file.truncate()

    def feed(self, chunk: bytes, live: LiveSegment) -> None:
        if chunk:
            assert self.file is not None, "open() first"
            stored = self._open(chunk, self.fetched)
            self.file.write(stored)
            self.digest.update(stored)
            if self.on_bytes is not None:
                self.on_bytes(len(chunk))
        super().feed(chunk, live)

    def _open(self, data: bytes, offset: int) -> bytes:
        if self.seal is None:
            return data
        cipher, part = self.seal
        return cipher.apply(data, offset, part)

    @property
    def size(self) -> int:
        return self.fetched

    def close(self) -> None:
        """Close the part file (its last write may still fail here, on a full disk)."""
        with self._lock:
            self._closed = True
            file, self.file = self.file, None
        if file is not None:
            file.close()


class Counted(LiveSegment):
    """A :class:`~player.buffer.LiveSegment` that counts the validated plaintext and keeps none
    (a download has no reader: streaming's sink would hold each segment in memory)."""

    def __init__(self, index: int) -> None:
        super().__init__(index)
        self._count = 0

    @property
    def received(self) -> int:
        return self._count

    def append(self, chunk: bytes) -> None:
        self._count += len(chunk)

    def restart(self) -> None:
        self._count = 0

    def seal(self) -> bytes:
        self.length = self._count
        return b""
