"""PyInstaller runtime hook: point python-mpv at the bundled libmpv, and the control plane at the
bundled ffmpeg. Runs before ``entry.py`` in every process of the bundle.

python-mpv (``mpv.py``, 1.0.x) loads libmpv at import time with
``CDLL(ctypes.util.find_library('mpv'))`` on Linux and macOS, and on Windows with
``ctypes.util.find_library('mpv-2.dll' | 'libmpv-2.dll' | 'mpv-1.dll')`` (which searches
``%PATH%``), falling back to a DLL next to ``mpv.py``. There is no environment variable for it,
so this hook answers ``find_library`` for those names with the copy inside the bundle
(``sys._MEIPASS``), when there is one, and leaves every other lookup alone. The bundled
library's own dependencies sit next to it; the bootloader has already put that folder first
on ``LD_LIBRARY_PATH`` (Linux).

The control plane finds ffmpeg on ``PATH`` first (controlplane/pipeline/ffmpeg.py), so the
bundled ``bin/`` (ffmpeg built against the same libav* libraries libmpv uses) goes first on
``PATH``. A system ffmpeg would otherwise run with the bundle's ``LD_LIBRARY_PATH`` and could
pick up libraries it was not built against.
"""

from __future__ import annotations

import ctypes.util
import os
import sys

_BUNDLE = getattr(sys, "_MEIPASS", os.path.dirname(os.path.abspath(sys.argv[0])))
_MPV_NAMES = {
    "mpv": ("libmpv.so.2", "libmpv.so.1", "libmpv.2.dylib", "libmpv.dylib"),
    "mpv-2.dll": ("mpv-2.dll",),
    "libmpv-2.dll": ("libmpv-2.dll",),
    "mpv-1.dll": ("mpv-1.dll",),
}
_original_find_library = ctypes.util.find_library


def _bundled(name: str) -> str | None:
    for candidate in _MPV_NAMES.get(name, ()):
        path = os.path.join(_BUNDLE, candidate)
        if os.path.isfile(path):
            return path
    return None


def _find_library(name: str) -> str | None:
    return _bundled(name) or _original_find_library(name)


ctypes.util.find_library = _find_library

_bin = os.path.join(_BUNDLE, "bin")
if os.path.isdir(_bin):
    os.environ["PATH"] = _bin + os.pathsep + os.environ.get("PATH", "")
if sys.platform == "win32":  # python-mpv's find_library('mpv-2.dll') searches %PATH%
    os.environ["PATH"] = _BUNDLE + os.pathsep + os.environ.get("PATH", "")
