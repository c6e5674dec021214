"""The parent's side of "children die with their parent".

A child process started by the client must not outlive it, however the client ends (SIGKILL, a
crash, Ctrl+C). Two mechanisms, both set up here:

- :func:`lifeline_env` for children that cooperate (``python -m controlplane``): the child's
  stdin is a pipe the parent holds open for as long as it lives (``stdin=subprocess.PIPE``, never
  written); end of file tells the child to stop. This works on every platform. The child also
  asks Linux for ``PR_SET_PDEATHSIG`` itself (``controlplane/lifeline.py``).
- :func:`die_with_parent` for children that do not (ffmpeg, probes): a ``preexec_fn`` that asks
  Linux to signal the child when the thread that started it ends; None elsewhere.

Linux ties ``PR_SET_PDEATHSIG`` to the parent *thread*: start children from a thread that lives
as long as their owner (the main thread, or the engine loop's executor, which is joined only
after the children are stopped).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import signal
import sys
from collections.abc import Callable, Mapping

PR_SET_PDEATHSIG = 1


def lifeline_env(env: Mapping[str, str]) -> dict[str, str]:
    """``env`` plus what tells a cooperating child to watch its stdin and this process."""
    return {**env, "EDGEPLAY_LIFELINE": "stdin", "EDGEPLAY_PARENT_PID": str(os.getpid())}


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
    """A ``preexec_fn`` that has the kernel send ``sig`` to the child when the spawning thread
    ends (Linux); None elsewhere, where the child must be bounded some other way (a timeout)."""
    prctl = _PRCTL
    if prctl is None:
        return None

    def preexec() -> None:  # in the forked child, before exec: nothing but the system call
        prctl(PR_SET_PDEATHSIG, sig, 0, 0, 0)

    return preexec
