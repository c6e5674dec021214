"""The control plane dies with the process that started it, however that process ends.

A parent that starts ``python -m controlplane`` (the client's ``BundledControlPlane``, the tests)
sets ``EDGEPLAY_LIFELINE=stdin`` and keeps the write end of the child's stdin open for as long
as it lives; ``EDGEPLAY_PARENT_PID`` names it. :func:`hold` then arranges two ways out:

- on Linux, ``prctl(PR_SET_PDEATHSIG, SIGTERM)``: the kernel signals us when the parent dies
  (strictly: when the parent *thread* that started us ends, so parents start us from a thread that
  lives as long as they do);
- everywhere (macOS and Windows too), a reader thread on stdin: end of file means the parent is
  gone (the kernel closes its descriptors however it died) or asked us to stop.

Either way the process takes its ordinary SIGTERM path (the server shuts down cleanly), and is
ended outright if that has not happened within :data:`GRACE_S`. Children of our own (ffmpeg) are
started with :func:`die_with_parent` so they do not outlive us either.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import signal
import sys
import threading
import time
from collections.abc import Callable

GRACE_S = 5.0
"""After the parent is gone: seconds the clean shutdown may take before the process is ended."""

PR_SET_PDEATHSIG = 1


def _prctl() -> Callable[..., int] | None:
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
    except OSError:
        return None
    fn: Callable[..., int] = libc.prctl
    return fn


_PRCTL = _prctl()


def die_with_parent(sig: int = signal.SIGKILL) -> Callable[[], None] | None:
    """A ``preexec_fn`` for ``subprocess.Popen`` that has the kernel send ``sig`` to the child
    when this process's spawning thread ends (Linux); None elsewhere."""
    prctl = _PRCTL
    if prctl is None:
        return None

    def preexec() -> None:  # in the forked child, before exec: nothing but the system call
        prctl(PR_SET_PDEATHSIG, sig, 0, 0, 0)

    return preexec


def hold() -> None:
    """Start watching the parent when it asked for it (``EDGEPLAY_LIFELINE=stdin``)."""
    if os.environ.get("EDGEPLAY_LIFELINE") != "stdin":
        return
    parent = os.environ.get("EDGEPLAY_PARENT_PID", "")
    if _PRCTL is not None:
        _PRCTL(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
    if parent.isdigit() and os.getppid() != int(parent):
        _leave("the parent was gone before the control plane started")  # died before prctl
        return
    threading.Thread(target=_read_until_eof, name="lifeline", daemon=True).start()


def _read_until_eof() -> None:
    # The raw descriptor, not sys.stdin: a daemon thread blocked inside a buffered reader at
    # interpreter exit makes Python abort ("could not acquire lock for <stdin>").
    try:
        fd = sys.stdin.fileno() if sys.stdin is not None else 0
        while os.read(fd, 4096):
            pass
    except (OSError, ValueError):
        return  # no usable stdin: nothing to watch
    _leave("the parent closed the lifeline")


def _leave(why: str) -> None:
    print(f"controlplane: {why}; stopping", file=sys.stderr, flush=True)
    threading.Thread(target=_end_after_grace, name="lifeline-grace", daemon=True).start()
    os.kill(os.getpid(), signal.SIGTERM)


def _end_after_grace() -> None:
    time.sleep(GRACE_S)
    os._exit(1)
