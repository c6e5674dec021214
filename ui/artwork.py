"""Poster and backdrop art, loaded asynchronously into a disk cache.

``art.pixmap(url, size)`` answers from memory at once or returns None and starts a load on the
engine loop: disk cache (``<cache>/art``, keyed by the URL's path and query so a bundled control
plane on a new port still hits) → else HTTP → decode and scale to ``size`` off the GUI thread
(QImage is safe there, in the cache's own :class:`ui.decode.DecodePool`) → ``loaded(url)`` on
the GUI thread, where views repaint that one tile. Only tiles that are painted ask, so a
10,000-title catalog loads what is on screen. The owner calls :meth:`ArtCache.aclose` on the
engine loop, then :meth:`ArtCache.close`, which waits for a decode still running.

Signals:
    loaded(str): the art of this URL is ready.
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import logging
from collections import OrderedDict
from pathlib import Path
from urllib.parse import urlsplit

import httpx
from PySide6.QtCore import QObject, QSize, Qt, Signal
from PySide6.QtGui import QImage, QPixmap

from ui.aio import Runner
from ui.decode import DecodePool

log = logging.getLogger("ui.art")


class ArtCache(QObject):
    loaded = Signal(str)

    def __init__(self, runner: Runner, folder: Path, *, max_pixmaps: int = 800,
                 parallel: int = 6, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.runner = runner
        self.folder = folder
        self.max_pixmaps = max_pixmaps
        self._pixmaps: OrderedDict[tuple[str, int, int], QPixmap] = OrderedDict()
        self._pending: set[tuple[str, int, int]] = set()
        self._failed: set[str] = set()
        self._parallel = parallel
        self._sem: asyncio.Semaphore | None = None
        self._http: httpx.AsyncClient | None = None
        self._pool = DecodePool("art-decode", workers=2)
        self.hits = self.misses = 0

    @staticmethod
    def cache_name(url: str) -> str:
        """The file's name in the disk cache: from the URL's path and query, not its host and
        port (the bundled control plane's port changes); the query carries the art's version
        (``?v=…``), so redrawn art is fetched again."""
        parts = urlsplit(url)
        path = parts.path or url
        key = f"{path}?{parts.query}" if parts.query else path
        return hashlib.sha1(key.encode()).hexdigest()[:20] + Path(path).suffix

    def pixmap(self, url: str, size: QSize) -> QPixmap | None:
        if not url or url in self._failed or self._pool.closed:
            return None
        key = (url, size.width(), size.height())
        found = self._pixmaps.get(key)
        if found is not None:
            self._pixmaps.move_to_end(key)
            return found
        if key not in self._pending:
            self._pending.add(key)
            self.runner.run(self._load(url, size.width(), size.height()),
                            functools.partial(self._done, key),
                            functools.partial(self._fail, key))
        return None

    def _done(self, key: tuple[str, int, int], image: QImage) -> None:
        self._pending.discard(key)
        self._pixmaps[key] = QPixmap.fromImage(image)
        while len(self._pixmaps) > self.max_pixmaps:
            self._pixmaps.popitem(last=False)
        self.loaded.emit(key[0])

    def _fail(self, key: tuple[str, int, int], exc: BaseException) -> None:
        self._pending.discard(key)
        self._failed.add(key[0])
        log.info("art %s failed: %s", urlsplit(key[0]).path, exc)

    async def _load(self, url: str, w: int, h: int) -> QImage:  # on the engine loop
        if self._sem is None:
            self._sem = asyncio.Semaphore(self._parallel)
        async with self._sem:
            path = self.folder / self.cache_name(url)
            data = await self._pool.run(_read, path)
            if data is None:
                self.misses += 1
                if self._http is None:
                    self._http = httpx.AsyncClient(timeout=10.0)
                response = await self._http.get(url)
                response.raise_for_status()
                data = response.content
                await self._pool.run(_write, path, data)
            else:
                self.hits += 1
            return await self._pool.run(_decode, data, w, h)

    async def aclose(self) -> None:
        """Close the HTTP client (on the engine loop)."""
        if self._http is not None:
            await self._http.aclose()
            self._http = None

    def close(self) -> None:
        """Stop decoding: queued work is dropped, running work is waited for (GUI thread)."""
        self._pool.close()


def _read(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except OSError:
        return None


def _write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".part")
    tmp.write_bytes(data)
    tmp.replace(path)


def _decode(data: bytes, w: int, h: int) -> QImage:
    image = QImage.fromData(data)
    if image.isNull():
        raise ValueError("not an image")
    scaled = image.scaled(w, h, Qt.AspectRatioMode.KeepAspectRatioByExpanding,
                          Qt.TransformationMode.SmoothTransformation)
    return scaled.copy((scaled.width() - w) // 2, (scaled.height() - h) // 2, w, h)
