"""The download worker never outlives the app: a real ``python -m offline.worker`` process."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from offline import worker_ipc as ipc

REPO = Path(__file__).resolve().parents[3]
ENV = {**os.environ, "PYTHONPATH": str(REPO)}
WORKER = [sys.executable, "-m", "offline.worker"]


def _gone(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return True
    return state in ("Z", "X")


def _wait_gone(pid: int, deadline_s: float = 30.0) -> bool:
    end = time.monotonic() + deadline_s
    while time.monotonic() < end:
        if _gone(pid):
            return True
        time.sleep(0.05)
    return _gone(pid)


def _close(proc: subprocess.Popen) -> None:  # type: ignore[type-arg]
    proc.kill()
    proc.wait()
    for pipe in (proc.stdin, proc.stdout, proc.stderr):
        if pipe is not None:
            pipe.close()


def test_end_of_input_stops_it() -> None:
    proc = subprocess.Popen(WORKER, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, env=ENV, cwd=REPO)
    try:
        assert proc.stdout is not None and proc.stdin is not None
        ready = ipc.parse_event(proc.stdout.readline())
        assert ready == ipc.Ready(proc.pid)
        proc.stdin.close()
        assert proc.wait(timeout=30) == 0
        assert b"end of input" in proc.stderr.read()  # type: ignore[union-attr]
    finally:
        _close(proc)


def test_a_shutdown_command_stops_it_and_a_bad_line_does_not() -> None:
    proc = subprocess.Popen(WORKER, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, env=ENV, cwd=REPO, text=True)
    try:
        assert proc.stdout is not None and proc.stdin is not None
        assert isinstance(ipc.parse_event(proc.stdout.readline()), ipc.Ready)
        proc.stdin.write("not json\n")
        proc.stdin.flush()
        failed = ipc.parse_event(proc.stdout.readline())
        assert isinstance(failed, ipc.Failed) and failed.code == "ipc"
        assert "not JSON" in failed.message
        proc.stdin.write(ipc.Shutdown().to_json() + "\n")
        proc.stdin.flush()
        assert proc.wait(timeout=30) == 0
    finally:
        _close(proc)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="nice/proc: Linux")
def test_it_runs_at_a_lower_priority() -> None:
    proc = subprocess.Popen(WORKER, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, env=ENV, cwd=REPO)
    try:
        assert proc.stdout is not None
        proc.stdout.readline()
        ours = os.getpriority(os.PRIO_PROCESS, 0)
        assert os.getpriority(os.PRIO_PROCESS, proc.pid) == min(19, ours + 10)
    finally:
        _close(proc)


def test_a_parent_that_is_not_the_expected_one_makes_it_exit() -> None:
    result = subprocess.run([*WORKER, "--parent", "1"], stdin=subprocess.DEVNULL,
                            capture_output=True, text=True, env=ENV, cwd=REPO, timeout=60)
    assert result.returncode == 1
    assert "the app that started it is gone" in result.stderr
    assert "Traceback" not in result.stderr


PARENT = """
import subprocess, sys, os
w = subprocess.Popen([sys.executable, "-m", "offline.worker", "--parent", str(os.getpid())],
                     stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
line = w.stdout.readline()
print(w.pid, flush=True)
sys.stdin.read()
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="PR_SET_PDEATHSIG: Linux")
def test_kill_9_of_the_parent_takes_the_worker_with_it() -> None:
    """The worker's stdin is not the parent's pipe here (it inherits the test's, still open),
    so only the death signal can end it."""
    parent = subprocess.Popen([sys.executable, "-c", PARENT], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, env=ENV, cwd=REPO, text=True)
    worker_pid = 0
    try:
        assert parent.stdout is not None
        worker_pid = int(parent.stdout.readline())
        assert not _gone(worker_pid)
        parent.send_signal(signal.SIGKILL)
        parent.wait(timeout=30)
        assert _wait_gone(worker_pid), "the worker outlived its parent"
    finally:
        _close(parent)
        if worker_pid and not _gone(worker_pid):
            os.kill(worker_pid, signal.SIGKILL)
