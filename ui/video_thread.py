"""The video surface on a render thread of our own: a native ``QWindow`` (OpenGL surface)
embedded with ``QWidget.createWindowContainer``, drawn by a ``QThread`` that owns its own
``QOpenGLContext``. The GUI thread never draws and never waits for a frame: mpv's update callback
(on mpv's thread) wakes the render thread directly; resizes and exposure reach it as plain values
under a lock. While the window is not exposed (another page on top, the window minimised) frames
are consumed without drawing (``skip_rendering``), so mpv's clock runs on and nothing is drawn
for nobody.

Threads: the render thread belongs to :class:`ThreadVideo`; :meth:`ThreadVideo.free` stops it,
and it frees mpv's render context (its GL context current) before it ends, then
:meth:`ThreadVideo.free` joins it — all before ``mpv.terminate()``."""

from __future__ import annotations

import logging
import time
from collections import deque
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import (
    QExposeEvent,
    QOpenGLContext,
    QResizeEvent,
    QSurface,
    QSurfaceFormat,
    QWindow,
)
from PySide6.QtWidgets import QVBoxLayout, QWidget

from ui.post import GuiPoster
from ui.video_render import GL_RENDERER, RenderLoop, free_context, is_software

log = logging.getLogger("player.mpv")



class _Surface(QWindow):
    def __init__(self, owner: ThreadVideo) -> None:
        super().__init__()
        self.owner = owner
        self.setSurfaceType(QSurface.SurfaceType.OpenGLSurface)
        self.setFormat(QSurfaceFormat.defaultFormat())

    def exposeEvent(self, event: QExposeEvent) -> None:
        self.owner._changed(self)

    def resizeEvent(self, event: QResizeEvent) -> None:
        self.owner._changed(self)


class ThreadVideo(QWidget):
    """Signals:
        gl_ready(): the render context exists; playback may start.
    """

    gl_ready = Signal()

    def __init__(self, mpv_handle: Any, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.mpv = mpv_handle
        self.ctx: Any = None
        self.renderer = ""
        """GL_RENDERER of the render thread's context, once it exists."""
        self.frames = 0
        self.render_ms: deque[float] = deque(maxlen=20000)
        """How long each frame's mpv render and swap took (on the render thread)."""
        self._poster = GuiPoster(self)
        self._loop = RenderLoop(self._run)
        self._exposed = False
        self._size = (0, 0)
        self.surface = _Surface(self)
        self.surface.create()
        self.container = QWidget.createWindowContainer(self.surface, self)
        self.container.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.container)
        self.gl = QOpenGLContext()
        self.gl.setFormat(self.surface.format())
        if not self.gl.create():
            log.error("could not create an OpenGL context for video")
        self.gl.moveToThread(self._loop.thread)
        self._loop.start()

    @property
    def ready(self) -> bool:
        return self.ctx is not None

    @property
    def software(self) -> bool:
        return is_software(self.renderer)

    def _changed(self, surface: QWindow) -> None:  # GUI thread
        ratio = surface.devicePixelRatio()
        exposed = surface.isExposed()
        size = (round(surface.width() * ratio), round(surface.height() * ratio))

        def update() -> None:
            self._exposed, self._size = exposed, size

        self._loop.wake(update)

    # --- the render thread ---------------------------------------------------------------------

    def _run(self) -> None:
        if not self.gl.makeCurrent(self.surface):
            log.error("could not make the video OpenGL context current")
            return
        try:
            self._create_context()
            while (state := self._loop.next_frame(lambda: (self._exposed, self._size))) \
                    is not None:
                exposed, (w, h) = state
                self._frame(exposed, w, h)
        finally:
            self.gl.makeCurrent(self.surface)
            ctx, self.ctx = self.ctx, None
            if ctx is not None:
                free_context(ctx)
            self.gl.doneCurrent()

    def _create_context(self) -> None:
        from mpv import MpvGlGetProcAddressFn, MpvRenderContext
        gl = self.gl

        def get_proc_address(_ctx: Any, name: bytes) -> int:
            return int(gl.getProcAddress(name) or 0)

        self._proc = MpvGlGetProcAddressFn(get_proc_address)
        ctx = MpvRenderContext(self.mpv, "opengl",
                               opengl_init_params={"get_proc_address": self._proc})
        ctx.update_cb = self._loop.wake  # on mpv's thread
        self.renderer = str(gl.functions().glGetString(GL_RENDERER) or "")
        self.ctx = ctx
        log.info("mpv render context created (OpenGL on a render thread, %s)",
                 self.renderer or "unknown")
        self._poster.post(self.gl_ready.emit)

    def _frame(self, exposed: bool, w: int, h: int) -> None:
        ctx = self.ctx
        if ctx is None:
            return
        new_frame = ctx.update()
        if not exposed or w <= 0 or h <= 0:  # nobody sees it: keep mpv's clock, draw nothing
            if new_frame:
                ctx.render(skip_rendering=True, opengl_fbo={"w": 1, "h": 1, "fbo": 0})
            return
        started = time.perf_counter()
        ctx.render(flip_y=True, opengl_fbo={"w": w, "h": h, "fbo": 0})
        self.gl.swapBuffers(self.surface)
        ctx.report_swap()
        self.render_ms.append((time.perf_counter() - started) * 1000)
        self.frames += 1

    # --- GUI thread ----------------------------------------------------------------------------

    def free(self) -> None:
        """Stop the render thread (it frees mpv's render context) and join it."""
        self._poster.close()
        self._loop.stop()
