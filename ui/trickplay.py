"""Trick-play thumbnails on the seek bar: the loader and the preview bubble.

:class:`TrickplayLoader` reads the playback answer's ``thumbnails`` (on the engine loop), fetches
the WebVTT index and then the sprite sheets the user points at, on the engine loop, each with a
fail-over to the same path on the other edges (:func:`player.trickplay.mirror_urls`). Sheets stay
in memory for the session as JPEG bytes; a few are kept decoded (decoding runs in the loader's
own :class:`ui.decode.DecodePool`: ``QImage`` is safe there; :meth:`TrickplayLoader.close` waits
for it), so the GUI thread only crops a tile. ``fetch`` is injectable
(tests); the default is an ``httpx.AsyncClient`` of the loader's own, closed by :meth:`reset`.

:class:`ThumbnailPreview` paints the tile in a rounded frame with the timecode under it (only the
timecode while there is no picture).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Sequence

import httpx
from PySide6.QtCore import QObject, QRect, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QFont, QFontMetrics, QImage, QPainter, QPainterPath, QPen
from PySide6.QtWidgets import QWidget

from player.session import Session
from player.trickplay import Thumbnail, TrickplayIndex, mirror_urls, parse_vtt
from ui.aio import Runner
from ui.decode import DecodePool
from ui.models import fmt_clock

log = logging.getLogger("ui.player")

Fetch = Callable[[str], Awaitable[bytes]]
"""``await fetch(url) -> body``; raises on any failure (HTTP status, network)."""


def _decode(data: bytes) -> QImage:  # in a worker thread
    image = QImage.fromData(data)
    if image.isNull():
        raise ValueError("a sprite sheet that is not an image")
    return image.convertToFormat(QImage.Format.Format_RGB32)


class TrickplayLoader(QObject):
    """``loader.load_session(session)`` when playback starts; ``loader.tile(t)`` for a picture.

    Signals:
        ready(): the index of the current session arrived.
        sprite_loaded(str): a sprite sheet (URL) is decoded: the tile asked for may be there now.
    """

    ready = Signal()
    sprite_loaded = Signal(str)

    RETRY_AFTER_S = 15.0
    """A sheet that failed on every edge is not asked for again sooner (s)."""

    def __init__(self, runner: Runner, *, fetch: Fetch | None = None, timeout_s: float = 5.0,
                 max_decoded: int = 6, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.runner = runner
        self.fetch = fetch
        self.timeout_s = timeout_s
        self.max_decoded = max_decoded
        self.index: TrickplayIndex | None = None
        self.interval_s = 0.0
        self._pathways: tuple[tuple[str, str], ...] = ()
        self._jpegs: dict[str, bytes] = {}
        """Every sheet fetched this session (small JPEGs)."""
        self._decoded: OrderedDict[str, QImage] = OrderedDict()
        self._pending: set[str] = set()
        self._failed: dict[str, float] = {}
        """Sheet URL → when it failed (monotonic s); asked again after ``RETRY_AFTER_S``."""
        self._generation = 0
        self._http: httpx.AsyncClient | None = None
        self._pool = DecodePool("trickplay-decode", workers=1)

    # --- session -------------------------------------------------------------------------------

    def reset(self) -> concurrent.futures.Future[None] | None:
        """Forget the session's index and sheets (a new title, the player closing); close the
        HTTP client (on the loop: the returned future, None when there was none)."""
        self._generation += 1
        self.index = None
        self.interval_s = 0.0
        self._pathways = ()
        self._jpegs.clear()
        self._decoded.clear()
        self._pending.clear()
        self._failed.clear()
        if self.runner.aio.running:
            return self.runner.aio.submit(self.aclose())
        return None

    def close(self) -> None:
        """Forget the session, then stop decoding: running work is waited for (GUI thread,
        when the player page goes away)."""
        closing = self.reset()
        if closing is not None:
            try:
                closing.result(5.0)
            except Exception as exc:
                log.info("trick-play: closing the HTTP client: %s", exc)
        self._pool.close()

    def load_session(self, session: Session | None) -> None:
        """Ask ``session`` (on the engine loop) where its thumbnail index is, and load it (if
        the title has one)."""
        generation = self._generation

        async def read() -> tuple[str, float, tuple[tuple[str, str], ...]] | None:
            source = session.thumbnails() if session is not None else None
            if source is None:
                return None
            return source.vtt_url, source.interval_s, source.pathways

        def got(found: tuple[str, float, tuple[tuple[str, str], ...]] | None) -> None:
            if generation != self._generation:
                return
            if found is None:
                log.info("trick-play: this title has no thumbnails")
                return
            vtt_url, interval_s, pathways = found
            self.load(vtt_url, pathways, interval_s=interval_s)

        self.runner.run(read(), got, lambda exc: log.info("trick-play: %s", exc))

    def load(self, vtt_url: str, pathways: Sequence[tuple[str, str]] = (), *,
             interval_s: float = 0.0) -> None:
        """Fetch and parse the index at ``vtt_url`` (on the engine loop)."""
        generation = self._generation
        self._pathways = tuple(pathways)
        self.interval_s = interval_s

        async def go() -> TrickplayIndex:
            body = await self._get(vtt_url, generation)
            return parse_vtt(body.decode("utf-8", "replace"), vtt_url)

        def done(index: TrickplayIndex) -> None:
            if generation != self._generation:
                return
            self.index = index
            log.info("trick-play: %d thumbnails in %d sheets", len(index),
                     len(index.sprite_urls))
            if index.cues:
                self._request(index.cues[0].sprite_url)  # warm the first sheet
            self.ready.emit()

        def failed(exc: BaseException) -> None:
            if generation == self._generation:
                log.info("trick-play index unavailable: %s", exc)

        self.runner.run(go(), done, failed)

    # --- tiles ---------------------------------------------------------------------------------

    def cue(self, t_s: float) -> Thumbnail | None:
        return None if self.index is None else self.index.at(t_s)

    def tile(self, t_s: float) -> QImage | None:
        """The picture for ``t_s`` if its sheet is here; else None and the sheet is on its way
        (``sprite_loaded`` says when)."""
        cue = self.cue(t_s)
        if cue is None:
            return None
        sheet = self._decoded.get(cue.sprite_url)
        if sheet is None:
            self._request(cue.sprite_url)
            return None
        self._decoded.move_to_end(cue.sprite_url)
        if cue.w <= 0 or cue.h <= 0:
            return sheet
        return sheet.copy(QRect(cue.x, cue.y, cue.w, cue.h))

    def _request(self, url: str) -> None:
        if url in self._pending or url in self._decoded or self._pool.closed:
            return
        failed_at = self._failed.get(url)
        if failed_at is not None and time.monotonic() - failed_at < self.RETRY_AFTER_S:
            return
        self._pending.add(url)
        generation = self._generation
        jpeg = self._jpegs.get(url)

        async def go() -> tuple[bytes, QImage]:
            data = jpeg if jpeg is not None else await self._get(url, generation)
            image = await self._pool.run(_decode, data)
            return data, image

        def done(result: tuple[bytes, QImage]) -> None:
            if generation != self._generation:
                return
            self._pending.discard(url)
            self._jpegs[url] = result[0]
            self._decoded[url] = result[1]
            while len(self._decoded) > self.max_decoded:
                self._decoded.popitem(last=False)
            self.sprite_loaded.emit(url)

        def failed(exc: BaseException) -> None:
            if generation != self._generation:
                return
            self._pending.discard(url)
            self._failed[url] = time.monotonic()
            log.info("trick-play sheet %s unavailable: %s", url.rsplit("/", 1)[-1], exc)

        self.runner.run(go(), done, failed)

    # --- on the engine loop --------------------------------------------------------------------

    async def _get(self, url: str, generation: int) -> bytes:
        """The body of ``url``, failing over to the other edges. The HTTP client is made and
        closed on the loop only, and a request of a session that is gone is not sent (so no
        client outlives :meth:`reset`)."""
        error: BaseException | None = None
        for candidate in mirror_urls(url, self._pathways):
            if generation != self._generation:
                raise asyncio.CancelledError
            try:
                async with asyncio.timeout(self.timeout_s):
                    return await (self.fetch or self._http_get)(candidate)
            except (httpx.HTTPError, OSError, TimeoutError, ValueError) as exc:
                error = exc
        assert error is not None
        raise error

    async def _http_get(self, url: str) -> bytes:
        if self._http is None:
            self._http = httpx.AsyncClient(timeout=httpx.Timeout(self.timeout_s, connect=2.0))
        response = await self._http.get(url)
        response.raise_for_status()
        return response.content

    async def aclose(self) -> None:
        http, self._http = self._http, None
        if http is not None:
            await http.aclose()


class ThumbnailPreview(QWidget):
    """The bubble over the seek bar: the tile in a rounded frame, the timecode under it."""

    PAD = 4
    RADIUS = 8

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents, True)
        self.setAttribute(Qt.WidgetAttribute.WA_NoSystemBackground, True)
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.image: QImage | None = None
        self.time_s = 0.0
        self.thumb_w = 240
        self._font = QFont("DejaVu Sans")
        self.set_font_px(15)
        self.hide()

    def set_font_px(self, px: int) -> None:
        self._font.setPixelSize(px)
        self._font.setBold(True)
        self._relayout()

    def set_thumb_width(self, width_px: int) -> None:
        self.thumb_w = width_px
        self._relayout()

    def set_preview(self, image: QImage | None, time_s: float) -> None:
        self.image = None if image is None or image.isNull() else image
        self.time_s = time_s
        self._relayout()
        self.update()

    def _thumb_size(self) -> QSize:
        if self.image is None:
            return QSize(0, 0)
        w = self.thumb_w
        return QSize(w, round(w * self.image.height() / max(1, self.image.width())))

    def _text_h(self) -> int:
        return QFontMetrics(self._font).height() + 12

    def _relayout(self) -> None:
        thumb = self._thumb_size()
        text_w = QFontMetrics(self._font).horizontalAdvance("00:00:00") + 24
        if thumb.isEmpty():
            self.setFixedSize(text_w, self._text_h())
        else:
            self.setFixedSize(thumb.width() + 2 * self.PAD,
                              thumb.height() + self._text_h() + self.PAD)

    def image_rect(self) -> QRect:
        """Where the tile is painted (widget coordinates); empty without a tile."""
        thumb = self._thumb_size()
        return QRect(self.PAD, self.PAD, thumb.width(), thumb.height())

    def paintEvent(self, event: object) -> None:
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        p.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
        frame = QRectF(self.rect()).adjusted(1, 1, -1, -1)
        p.setPen(QPen(QColor(255, 255, 255, 210), 2))
        p.setBrush(QColor(16, 17, 22, 235))
        p.drawRoundedRect(frame, self.RADIUS, self.RADIUS)
        text_top = 0
        if self.image is not None:
            target = self.image_rect()
            clip = QPainterPath()
            clip.addRoundedRect(QRectF(target), self.RADIUS - 3, self.RADIUS - 3)
            p.save()
            p.setClipPath(clip)
            p.drawImage(target, self.image)
            p.restore()
            text_top = target.bottom() + 1
        p.setFont(self._font)
        p.setPen(QColor("white"))
        p.drawText(QRect(0, text_top, self.width(), self.height() - text_top),
                   Qt.AlignmentFlag.AlignCenter, fmt_clock(self.time_s))
