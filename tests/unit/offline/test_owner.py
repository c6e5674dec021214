"""OwnerLock: a download's owner is known while it lives and forgotten when it dies, even by
``kill -9``."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from offline.owner import OwnerLock

HOLDER = """
import sys, time
from pathlib import Path
from offline.owner import OwnerLock
lock = OwnerLock(Path(sys.argv[1]))
assert lock.acquire()
print("held", flush=True)
sys.stdin.read()
"""


def test_a_live_owner_is_respected_and_a_killed_one_is_not(tmp_path: Path) -> None:
    path = tmp_path / "locks" / "dl_1.lock"
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, str(path)], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True,
                              env={**os.environ, "PYTHONPATH": os.getcwd()})
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        mine = OwnerLock(path)
        assert mine.held_elsewhere()
        assert mine.owner_pid() == holder.pid
        assert not mine.acquire()
    finally:
        os.kill(holder.pid, signal.SIGKILL)
        holder.communicate()
    assert not mine.held_elsewhere()  # the OS dropped the dead owner's lock
    assert mine.acquire() and mine.held
    assert OwnerLock(path).held_elsewhere()  # another opener, even in this process
    mine.release()
    assert not OwnerLock(path).held_elsewhere()


def test_release_is_idempotent_and_reacquire_works(tmp_path: Path) -> None:
    lock = OwnerLock(tmp_path / "x.lock")
    assert lock.acquire() and lock.acquire()
    lock.release()
    lock.release()
    assert not lock.held and lock.acquire()
    lock.release()
