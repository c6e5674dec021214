"""The video surface. :func:`create_video` picks one by what OpenGL is here:

- software OpenGL (Mesa llvmpipe/softpipe, SwiftShader): :class:`ui.video_sw.SoftwareVideo`,
  libmpv's software renderer on a render thread of our own; the GUI thread only copies the
  finished frame. Any OpenGL path costs the GUI thread tens of milliseconds a frame there
  (docs/benchmarks.md, *UI-thread stalls*).
- a GPU: :class:`MpvVideoWidget`, after mpv's own Qt example: a ``QOpenGLWidget`` with an
  ``MpvRenderContext``. mpv renders into ``defaultFramebufferObject()`` at physical pixels; its
  update callback (on mpv's render thread) is queued to the GUI thread as a repaint. Teardown:
  ``makeCurrent()`` → ``ctx.free()`` → ``doneCurrent()``, before ``mpv.terminate()``.

Every surface has ``gl_ready`` (the render context exists), ``ready``, ``software``,
``renderer``, ``frames``, ``render_ms`` and ``free()`` (before ``mpv.terminate()``)."""

from __future__ import annotations

import ctypes
import logging
import os
import time
from collections import deque
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor, QOpenGLContext, QPainter
from PySide6.QtOpenGLWidgets import QOpenGLWidget
from PySide6.QtWidgets import QWidget

from ui.post import GuiPoster
from ui.video_render import (
    GL_RENDERER,
    current_proc_address,
    current_renderer,
    free_context,
    is_software,
)

log = logging.getLogger("player.mpv")

SURFACES = ("auto", "sw", "widget", "thread", "quick", "quickwidget")
"""Video surfaces ``$EDGEPLAY_VIDEO`` may name. ``auto``: ``sw`` where OpenGL is a CPU
rasteriser, else ``widget``. ``thread``, ``quick`` and ``quickwidget`` are the measured
alternatives (docs/benchmarks.md); the player's overlays do not draw over ``thread`` and
``quick``, which are native windows."""


def gl_renderer() -> str:
    """GL_RENDERER of a throwaway context ("" when OpenGL is missing)."""
    from PySide6.QtGui import QOffscreenSurface
    context = QOpenGLContext()
    if not context.create():
        return ""
    surface = QOffscreenSurface()
    surface.setFormat(context.format())
    surface.create()
    try:
        if not context.makeCurrent(surface):
            return ""
        renderer = str(context.functions().glGetString(GL_RENDERER) or "")
        context.doneCurrent()
        return renderer
    finally:
        surface.destroy()


def create_video(mpv_handle: Any, kind: str | None = None) -> QWidget:
    """The video surface: ``kind`` (default ``$EDGEPLAY_VIDEO``, else ``auto``)."""
    kind = kind or os.environ.get("EDGEPLAY_VIDEO") or "auto"
    if kind not in SURFACES:
        log.warning("unknown video surface %r (EDGEPLAY_VIDEO); choosing one", kind)
        kind = "auto"
    if kind == "auto":
        renderer = gl_renderer()
        kind = "sw" if is_software(renderer) else "widget"
        log.info("OpenGL renderer %r: video surface %s", renderer or "none", kind)
    if kind == "widget":
        return MpvVideoWidget(mpv_handle)
    if kind == "sw":
        from ui.video_sw import SoftwareVideo
        return SoftwareVideo(mpv_handle)
    if kind == "thread":
        from ui.video_thread import ThreadVideo
        return ThreadVideo(mpv_handle)
    from ui.video_quick import QuickVideo
    return QuickVideo(mpv_handle, in_widget=kind == "quickwidget")


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
        self.render_ms: deque[float] = deque(maxlen=20000)
        """How long each paintGL took (on the GUI thread)."""
        self._poster = GuiPoster(self)
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent)

    @property
    def ready(self) -> bool:
        return self.ctx is not None

    def initializeGL(self) -> None:
        from mpv import MpvRenderContext
        self._proc = current_proc_address()
        self.ctx = MpvRenderContext(self.mpv, "opengl",
                                    opengl_init_params={"get_proc_address": self._proc})
        poster, repaint = self._poster, self.update
        self.ctx.update_cb = lambda: poster.post(repaint)  # on mpv's thread
        self.renderer = current_renderer()
        log.info("mpv render context created (OpenGL, %s)", self.renderer or "unknown")
        self.gl_ready.emit()

    @property
    def software(self) -> bool:
        """True when OpenGL is a CPU rasteriser (Mesa llvmpipe/softpipe, SwiftShader): every
        frame's scaling then costs the GUI thread tens of milliseconds."""
        return is_software(self.renderer)

    def paintGL(self) -> None:
        if self.ctx is None:
            return
        started = time.perf_counter()
        ratio = self.devicePixelRatioF()
        self.ctx.render(flip_y=True, opengl_fbo={
            "w": round(self.width() * ratio), "h": round(self.height() * ratio),
            "fbo": self.defaultFramebufferObject()})
        self.frames += 1
        self.render_ms.append((time.perf_counter() - started) * 1000)

    def free(self) -> None:
        """Free the render context (before mpv terminates)."""
        if self.ctx is None:
            return
        self._poster.close()
        self.makeCurrent()
        free_context(self.ctx)
        self.ctx = None
        self.doneCurrent()


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
