"""The video surface without OpenGL: libmpv's software render API (``api_type="sw"``, libmpv ≥
0.34) draws each frame into a memory image on a render thread of our own; the GUI thread only
paints the finished image with ``QPainter`` (a copy into the window's raster backing store). The
widget stays an ordinary widget, so the player's translucent overlays draw over the video as
before, and the window never switches to OpenGL composition. On a software rasteriser (Mesa
llvmpipe) this costs the GUI thread far less than any OpenGL path (docs/benchmarks.md).

Threads: the render thread belongs to :class:`SoftwareVideo`; :meth:`SoftwareVideo.free` stops
it, it frees mpv's render context before it ends, and :meth:`free` joins it — all before
``mpv.terminate()``. While the widget is hidden (another page on top, the window minimised),
frames are consumed without drawing (``skip_rendering``)."""

from __future__ import annotations

import ctypes
import logging
import time
from collections import deque
from typing import Any

from PySide6.QtCore import QRect, QSize, Qt, Signal
from PySide6.QtGui import QColor, QImage, QPainter, QPaintEvent, QResizeEvent
from PySide6.QtWidgets import QWidget

from ui.post import GuiPoster
from ui.video_render import RenderLoop, free_context

log = logging.getLogger("player.mpv")

# libmpv/render.h: MPV_RENDER_PARAM_* ids python-mpv does not know.
_BLOCK_FOR_TARGET_TIME, _SKIP_RENDERING = 12, 13
_SW_SIZE, _SW_FORMAT, _SW_STRIDE, _SW_POINTER = 17, 18, 19, 20
SW_FORMAT = b"bgr0"
"""Byte order B, G, R, x: QImage.Format_RGB32 on a little-endian machine."""


def _params(*pairs: tuple[int, Any]) -> Any:
    """A zero-terminated ``mpv_render_param`` array (the caller keeps ``data`` alive)."""
    from mpv import MpvRenderParam
    array = (MpvRenderParam * (len(pairs) + 1))()
    for i, (kind, data) in enumerate(pairs):
        array[i].type_id = kind
        array[i].data = ctypes.cast(data, ctypes.c_void_p)
    return array


class SoftwareVideo(QWidget):
    """Signals:
        gl_ready(): the render context exists; playback may start (the name is the surfaces'
        common one).
    """

    gl_ready = Signal()
    software = False
    """Nothing here rasterises OpenGL on the CPU: no cheap-drawing profile is needed."""

    def __init__(self, mpv_handle: Any, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.mpv = mpv_handle
        self.ctx: Any = None
        self.renderer = "libmpv software renderer"
        self.frames = 0
        self.skipped = 0
        """Frames consumed without drawing while the widget was hidden."""
        self.render_ms: deque[float] = deque(maxlen=20000)
        """How long each frame's mpv render took (on the render thread)."""
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent)
        self._poster = GuiPoster(self)
        self._loop = RenderLoop(self._run)
        self._cond = self._loop.cond
        self._shown = False
        self._size = QSize(0, 0)
        self._ready_image: QImage | None = None
        """The newest finished frame, handed from the render thread to paintEvent."""
        self._shown_image: QImage | None = None
        self._spare: list[QImage] = []
        """Images neither shown nor waiting, for the render thread to draw into again (a fresh
        1080p image per frame would cost page faults for 8 MB)."""
        self._loop.start()

    @property
    def ready(self) -> bool:
        return self.ctx is not None

    # --- GUI thread ----------------------------------------------------------------------------

    def _changed(self) -> None:
        self._loop.wake(self._take_geometry)

    def _take_geometry(self) -> None:
        self._shown = self.isVisible() and not self.window().isMinimized()
        self._size = self.size() * self.devicePixelRatioF()

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._changed()

    def showEvent(self, event: Any) -> None:
        super().showEvent(event)
        self._changed()

    def hideEvent(self, event: Any) -> None:
        super().hideEvent(event)
        self._changed()

    def changeEvent(self, event: Any) -> None:
        super().changeEvent(event)
        self._changed()

    def paintEvent(self, event: QPaintEvent) -> None:
        with self._cond:
            if self._ready_image is not None:
                if self._shown_image is not None:
                    self._spare.append(self._shown_image)
                self._shown_image, self._ready_image = self._ready_image, None
        painter = QPainter(self)
        image = self._shown_image
        if image is None or image.size() != self.size() * self.devicePixelRatioF():
            painter.fillRect(self.rect(), QColor("black"))
        if image is not None:
            image.setDevicePixelRatio(self.devicePixelRatioF())
            painter.drawImage(QRect(0, 0, self.width(), self.height()), image)
        painter.end()

    def free(self) -> None:
        """Stop the render thread (it frees mpv's render context) and join it."""
        self._poster.close()
        self._loop.stop()

    # --- the render thread ---------------------------------------------------------------------

    def _run(self) -> None:
        from mpv import MpvRenderContext
        try:
            self.ctx = MpvRenderContext(self.mpv, "sw")
        except Exception as exc:
            log.error("libmpv's software renderer could not start: %s", exc)
            return
        self.ctx.update_cb = self._loop.wake  # on mpv's thread
        log.info("mpv render context created (software, on a render thread)")
        self._poster.post(self.gl_ready.emit)
        self._poster.post(self._changed)
        try:
            take = lambda: (self._shown, QSize(self._size))  # noqa: E731
            while (state := self._loop.next_frame(take)) is not None:
                self._frame(*state)
        finally:
            ctx, self.ctx = self.ctx, None
            free_context(ctx)

    def _frame(self, shown: bool, size: QSize) -> None:
        from mpv import _mpv_render_context_render
        ctx = self.ctx
        new_frame = ctx.update()
        if not shown or size.isEmpty():  # nobody sees it: keep mpv's clock, draw nothing
            if new_frame:
                skip = ctypes.c_int(1)
                dims = (ctypes.c_int * 2)(1, 1)
                one = ctypes.create_string_buffer(64)
                stride = ctypes.c_size_t(64)
                _mpv_render_context_render(ctx.handle, _params(
                    (_SKIP_RENDERING, ctypes.pointer(skip)), (_SW_SIZE, dims),
                    (_SW_FORMAT, ctypes.c_char_p(SW_FORMAT)),
                    (_SW_STRIDE, ctypes.pointer(stride)), (_SW_POINTER, one)))
                self.skipped += 1
            return
        started = time.perf_counter()
        with self._cond:
            spare = [i for i in self._spare if i.size() == size]
            self._spare = []
        image = spare[0] if spare else QImage(size, QImage.Format.Format_RGB32)
        dims = (ctypes.c_int * 2)(size.width(), size.height())
        stride = ctypes.c_size_t(image.bytesPerLine())
        pointer = ctypes.c_void_p(ctypes.addressof(ctypes.c_char.from_buffer(image.bits())))
        no_block = ctypes.c_int(0)  # mpv hands the frame over when it is due; draw it now
        _mpv_render_context_render(ctx.handle, _params(
            (_BLOCK_FOR_TARGET_TIME, ctypes.pointer(no_block)),
            (_SW_SIZE, dims), (_SW_FORMAT, ctypes.c_char_p(SW_FORMAT)),
            (_SW_STRIDE, ctypes.pointer(stride)), (_SW_POINTER, pointer)))
        self.render_ms.append((time.perf_counter() - started) * 1000)
        self.frames += 1
        with self._cond:
            if self._ready_image is not None:  # the GUI thread has not shown the last one
                self._spare.append(self._ready_image)
            self._ready_image = image
        self._poster.post(self.update)
