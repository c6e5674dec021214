"""What the video surfaces share: the OpenGL renderer's name and whether it is a CPU rasteriser,
mpv's GL hook and the freeing of its render context, and a render thread of our own.

:class:`RenderLoop` is the thread of :mod:`ui.video_sw` and :mod:`ui.video_thread`: it sleeps
until woken (mpv's update callback, a resize, a change of visibility), takes the state it draws
with under one lock, and :meth:`RenderLoop.stop` ends and joins it (before ``mpv.terminate()``).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any, TypeVar

from PySide6.QtCore import QThread
from PySide6.QtGui import QOpenGLContext

log = logging.getLogger("player.mpv")

GL_RENDERER = 0x1F01
SOFTWARE_RENDERERS = ("llvmpipe", "softpipe", "swiftshader", "software rasterizer")
JOIN_S = 5.0
"""How long :meth:`RenderLoop.stop` waits for the render thread (seconds)."""

T = TypeVar("T")


def is_software(renderer: str) -> bool:
    """True when GL_RENDERER names a CPU rasteriser (Mesa llvmpipe/softpipe, SwiftShader)."""
    return any(name in renderer.lower() for name in SOFTWARE_RENDERERS)


def current_renderer() -> str:
    """GL_RENDERER of the OpenGL context current on this thread ("" without one)."""
    context = QOpenGLContext.currentContext()
    renderer = context.functions().glGetString(GL_RENDERER) if context else None
    return str(renderer or "")


def current_proc_address() -> Any:
    """mpv's ``get_proc_address`` over whatever OpenGL context is current when it asks (the
    caller keeps the returned callback alive as long as the render context)."""
    from mpv import MpvGlGetProcAddressFn

    def get_proc_address(_ctx: Any, name: bytes) -> int:
        context = QOpenGLContext.currentContext()
        if context is None:
            return 0
        return int(context.getProcAddress(name) or 0)

    return MpvGlGetProcAddressFn(get_proc_address)


def free_context(ctx: Any) -> None:
    """Free mpv's render context ``ctx`` (on the thread, with the GL context, it drew with)."""
    ctx.update_cb = None
    ctx.free()
    log.info("mpv render context freed")


class _RenderThread(QThread):
    def __init__(self, run: Callable[[], None]) -> None:
        super().__init__()
        self._target = run

    def run(self) -> None:
        self._target()


class RenderLoop:
    """A ``QThread`` running ``run`` that sleeps in :meth:`next_frame` until :meth:`wake`."""

    def __init__(self, run: Callable[[], None]) -> None:
        self.cond = threading.Condition()
        """Guards the surface's state shared with the render thread."""
        self._dirty = False
        self._stopping = False
        self.thread = _RenderThread(run)

    def start(self) -> None:
        self.thread.start()

    def wake(self, update: Callable[[], None] | None = None) -> None:
        """Ask for a frame (any thread); ``update`` first changes the shared state, under the
        lock."""
        with self.cond:
            if update is not None:
                update()
            self._dirty = True
            self.cond.notify()

    def next_frame(self, take: Callable[[], T]) -> T | None:
        """The render thread: sleep until woken, then ``take()`` (under the lock) what the frame
        is drawn with; None once :meth:`stop` was called."""
        with self.cond:
            while not self._dirty and not self._stopping:
                self.cond.wait()
            if self._stopping:
                return None
            self._dirty = False
            return take()

    def stop(self) -> None:
        """End the render thread and join it (up to :data:`JOIN_S`)."""
        with self.cond:
            self._stopping = True
            self.cond.notify()
        if not self.thread.wait(int(JOIN_S * 1000)):
            log.warning("the video render thread did not stop in time")
