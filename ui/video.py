"""The video surface, after mpv's own Qt example: a ``QOpenGLWidget`` with an
``MpvRenderContext``. mpv renders into ``defaultFramebufferObject()`` at physical pixels; its
update callback (on mpv's render thread) is queued to the GUI thread as a repaint. Teardown:
``makeCurrent()`` → ``ctx.free()`` → ``doneCurrent()``, before ``mpv.terminate()``."""

from __future__ import annotations

import ctypes
import logging
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor, QOpenGLContext, QPainter
from PySide6.QtOpenGLWidgets import QOpenGLWidget
from PySide6.QtWidgets import QWidget

from ui.post import GuiPoster

log = logging.getLogger("player.mpv")

GL_RENDERER = 0x1F01
SOFTWARE_RENDERERS = ("llvmpipe", "softpipe", "swiftshader", "software rasterizer")


class MpvVideoWidget(QOpenGLWidget):
    """mpv's update callback runs on mpv's render thread; it only posts a repaint to the GUI
    thread (:class:`ui.post.GuiPoster`), so no signal is emitted off the GUI thread.

    Signals:
        gl_ready(): the render context exists; playback may start.
    """

    gl_ready = Signal()

    def __init__(self, mpv_handle: Any, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.mpv = mpv_handle
        self.ctx: Any = None
        self._proc: Any = None
        self.renderer = ""
        """GL_RENDERER of the widget's context, once it exists."""
        self.frames = 0
        self._poster = GuiPoster(self)
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent)

    @property
    def ready(self) -> bool:
        return self.ctx is not None

    def initializeGL(self) -> None:
        from mpv import MpvGlGetProcAddressFn, MpvRenderContext

        def get_proc_address(_ctx: Any, name: bytes) -> int:
            context = QOpenGLContext.currentContext()
            if context is None:
                return 0
            return int(context.getProcAddress(name) or 0)

        self._proc = MpvGlGetProcAddressFn(get_proc_address)
        self.ctx = MpvRenderContext(self.mpv, "opengl",
                                    opengl_init_params={"get_proc_address": self._proc})
        poster, repaint = self._poster, self.update
        self.ctx.update_cb = lambda: poster.post(repaint)  # on mpv's thread
        context = QOpenGLContext.currentContext()
        renderer = context.functions().glGetString(GL_RENDERER) if context else None
        self.renderer = str(renderer or "")
        log.info("mpv render context created (OpenGL, %s)", self.renderer or "unknown")
        self.gl_ready.emit()

    @property
    def software(self) -> bool:
        """True when OpenGL is a CPU rasteriser (Mesa llvmpipe/softpipe, SwiftShader): every
        frame's scaling then costs the GUI thread tens of milliseconds."""
        return any(name in self.renderer.lower() for name in SOFTWARE_RENDERERS)

    def paintGL(self) -> None:
        if self.ctx is None:
            return
        ratio = self.devicePixelRatioF()
        self.ctx.render(flip_y=True, opengl_fbo={
            "w": round(self.width() * ratio), "h": round(self.height() * ratio),
            "fbo": self.defaultFramebufferObject()})
        self.frames += 1

    def free(self) -> None:
        """Free the render context (before mpv terminates)."""
        if self.ctx is None:
            return
        self._poster.close()
        self.makeCurrent()
        self.ctx.update_cb = None
        self.ctx.free()
        self.ctx = None
        self.doneCurrent()
        log.info("mpv render context freed")


class NullVideoWidget(QWidget):
    """A black surface where OpenGL is missing (``QT_QPA_PLATFORM=offscreen``, fake engines)."""

    gl_ready = Signal()
    ready = True
    software = False

    def paintEvent(self, event: object) -> None:
        QPainter(self).fillRect(self.rect(), QColor("black"))

    def free(self) -> None:
        pass


_ = ctypes  # python-mpv passes the callback through ctypes
