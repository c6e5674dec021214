"""The video surface on Qt Quick's scene-graph render thread, after mpv's own Qt Quick example
(``qml_direct``): on ``beforeRenderPassRecording`` (the render thread, the frame's target bound and
cleared) mpv draws straight into the window's framebuffer as an underlay; the scene graph draws
its items (none yet) on top. No intermediate texture: on a software rasteriser every full-frame
copy costs milliseconds. mpv's update callback (on mpv's thread) only posts ``window.update()``
to the GUI thread; the GUI thread then takes part in a short sync and goes back to its events
while the render thread draws. The item lives in a ``QQuickWindow`` embedded with
``QWidget.createWindowContainer`` (its own native window and render thread: the threaded render
loop, which Qt picks under Xvfb/llvmpipe too) or, for comparison, in a ``QQuickWidget`` (which
renders on the GUI thread).

Threads: the render thread is Qt's, owned by the ``QQuickWindow`` (it stops and joins it when the
window is destroyed). The render context is created and freed on it: :meth:`QuickVideo.free`
schedules the free as a render job and waits for it (before ``mpv.terminate()``)."""

from __future__ import annotations

import ctypes
import logging
import threading
import time
from collections import deque
from typing import Any

import shiboken6
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor, QOpenGLContext
from PySide6.QtQuick import (
    QQuickOpenGLUtils,
    QQuickWindow,
    QSGRendererInterface,
)
from PySide6.QtWidgets import QVBoxLayout, QWidget

from ui.post import GuiPoster
from ui.video_render import (
    current_proc_address,
    current_renderer,
    free_context,
    is_software,
)

log = logging.getLogger("player.mpv")

GL_FRAMEBUFFER_BINDING = 0x8CA6
FREE_WAIT_S = 3.0


class QuickVideo(QWidget):
    """Signals:
        gl_ready(): the render context exists; playback may start.
    """

    gl_ready = Signal()

    def __init__(self, mpv_handle: Any, *, in_widget: bool = False,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        QQuickWindow.setGraphicsApi(QSGRendererInterface.GraphicsApi.OpenGL)
        self.mpv = mpv_handle
        self.in_widget = in_widget
        self.ctx: Any = None
        self._proc: Any = None
        self._get_int: Any = None
        self._lock = threading.Lock()
        self._freed = threading.Event()
        self.renderer = ""
        """GL_RENDERER of the render thread's context, once it exists."""
        self.frames = 0
        self.render_ms: deque[float] = deque(maxlen=20000)
        """How long each frame's mpv render took (on the render thread)."""
        self._poster = GuiPoster(self)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        if in_widget:
            from PySide6.QtQuickWidgets import QQuickWidget
            self.quick: Any = QQuickWidget()
            self.quick.setClearColor(QColor("black"))
            self.window_ = self.quick.quickWindow()
            layout.addWidget(self.quick)
        else:
            self.window_ = QQuickWindow()
            self.window_.setColor(QColor("black"))
            self.window_.setPersistentGraphics(True)
            self.window_.setPersistentSceneGraph(True)
            self.quick = QWidget.createWindowContainer(self.window_, self)
            self.quick.setFocusPolicy(Qt.FocusPolicy.NoFocus)
            layout.addWidget(self.quick)
        self.window_.beforeRenderPassRecording.connect(
            self._render, Qt.ConnectionType.DirectConnection)
        # When the window goes, the render thread invalidates its scene graph with the context
        # current: the render context is freed there (free() makes that happen).
        self.window_.sceneGraphInvalidated.connect(
            self._free_context, Qt.ConnectionType.DirectConnection)

    @property
    def ready(self) -> bool:
        return self.ctx is not None

    @property
    def software(self) -> bool:
        return is_software(self.renderer)

    # --- render thread -----------------------------------------------------------------------

    def _create_context(self) -> None:
        if self.ctx is not None or self._freed.is_set():
            return
        from mpv import MpvRenderContext
        self._proc = current_proc_address()
        ctx = MpvRenderContext(self.mpv, "opengl",
                               opengl_init_params={"get_proc_address": self._proc})
        poster, window = self._poster, self.window_
        ctx.update_cb = lambda: poster.post(window.update)  # on mpv's thread
        context = QOpenGLContext.currentContext()
        address = int(context.getProcAddress(b"glGetIntegerv") or 0) if context else 0
        if address:
            self._get_int = ctypes.CFUNCTYPE(None, ctypes.c_uint,
                                             ctypes.POINTER(ctypes.c_int))(address)
        self.renderer = current_renderer()
        with self._lock:
            self.ctx = ctx
        log.info("mpv render context created (OpenGL on the render thread, %s)",
                 self.renderer or "unknown")
        poster.post(self.gl_ready.emit)

    def _bound_framebuffer(self) -> int:
        """The framebuffer the scene graph is drawing into (0: the window's own)."""
        if self._get_int is None:
            return 0
        value = ctypes.c_int(0)
        self._get_int(GL_FRAMEBUFFER_BINDING, ctypes.byref(value))
        return value.value

    def _render(self) -> None:
        if self.ctx is None:
            self._create_context()
        window = self.window_
        size = window.size() * window.effectiveDevicePixelRatio()
        window.beginExternalCommands()
        try:
            with self._lock:
                ctx = self.ctx
                if ctx is None:
                    return
                started = time.perf_counter()
                ctx.render(flip_y=True, block_for_target_time=False, opengl_fbo={
                    "w": size.width(), "h": size.height(), "fbo": self._bound_framebuffer()})
            self.render_ms.append((time.perf_counter() - started) * 1000)
            self.frames += 1
        finally:
            QQuickOpenGLUtils.resetOpenGLState()
            window.endExternalCommands()

    def _free_context(self) -> None:
        with self._lock:
            ctx, self.ctx = self.ctx, None
            if ctx is not None:
                free_context(ctx)
        self._freed.set()

    # --- GUI thread ----------------------------------------------------------------------------

    def free(self) -> None:
        """Free the render context on the render thread (before mpv terminates)."""
        self._poster.close()
        if self._freed.is_set():
            return
        # Deleting the window (or the QQuickWidget) makes the render thread invalidate the scene
        # graph and emit sceneGraphInvalidated, with the GL context current, and waits for it.
        shiboken6.delete(self.quick if self.in_widget else self.window_)
        if not self._freed.wait(FREE_WAIT_S):
            log.warning("the render thread did not free mpv's render context in time")
