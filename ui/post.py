"""The one way from another thread onto the GUI thread.

``poster.post(fn)`` may be called from any thread (the engine loop, mpv's render thread, a pipe
reader); ``fn`` then runs on the thread the poster lives in (the GUI thread). No Qt signal is
emitted off the GUI thread: the hand-over is ``QCoreApplication.postEvent``, which Qt documents
as thread-safe, carrying no Python object (the callables wait in a locked queue; one event drains
them, however many were posted before it ran). After :meth:`close` nothing runs and nothing more
is queued, so an owner closes its poster before it goes away.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable

from PySide6.QtCore import QCoreApplication, QEvent, QObject

_DRAIN = QEvent.Type(QEvent.registerEventType())


class GuiPoster(QObject):
    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._lock = threading.Lock()
        self._queue: deque[Callable[[], None]] = deque()
        self._scheduled = False
        self._closed = False

    def post(self, fn: Callable[[], None]) -> None:
        """Run ``fn`` on the GUI thread soon; dropped once the poster is closed."""
        with self._lock:
            if self._closed:
                return
            self._queue.append(fn)
            if self._scheduled:
                return
            self._scheduled = True
            # Under the lock: close() cannot slip in between the check and the post.
            QCoreApplication.postEvent(self, QEvent(_DRAIN))

    def event(self, event: QEvent) -> bool:
        if event.type() != _DRAIN:
            return super().event(event)
        while True:
            with self._lock:
                if self._closed or not self._queue:
                    self._scheduled = False
                    return True
                fn = self._queue.popleft()
            try:
                fn()
            except BaseException:
                # Qt's handler reports it; what is still queued runs on a fresh event.
                with self._lock:
                    if not self._closed:
                        QCoreApplication.postEvent(self, QEvent(_DRAIN))
                raise

    def pending(self) -> int:
        with self._lock:
            return len(self._queue)

    def close(self) -> None:
        """Drop what is queued and refuse what comes (the owner is going away)."""
        with self._lock:
            self._closed = True
            self._queue.clear()
