"""The app's side of the download worker (``python -m offline.worker``): start it, talk to it,
restart it once if it dies, stop and join it.

:class:`WorkerProcess` owns the child process and the one thread that reads its events
(``on_event`` is called on that thread with each parsed event; a line that is not an event is
logged and skipped). The commands go to the child's stdin (:meth:`send`, any thread). When the
child ends without being asked to, it is started again once, with the reason logged, and the
last :class:`~offline.worker_ipc.Open` is sent again (which resumes the downloads the dead one
was running, from their part files); if it dies again ``on_gave_up(message)`` says so.
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import IO

from offline import worker_ipc as ipc

log = logging.getLogger("ui.downloads")

REPO = Path(__file__).resolve().parent.parent
RESTARTS = 1
"""How many times a worker that died is started again before giving up."""


def _why(code: int) -> str:
    if code < 0:
        try:
            return f"killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"killed by signal {-code}"
    return f"exit status {code}"


class WorkerProcess:
    def __init__(self, on_event: Callable[[ipc.Message], None],
                 on_gave_up: Callable[[str], None], *,
                 command: list[str] | None = None) -> None:
        self.on_event = on_event
        self.on_gave_up = on_gave_up
        self.command = command or [sys.executable, "-m", "offline.worker"]
        self._lock = threading.Lock()
        self._proc: subprocess.Popen[bytes] | None = None
        self._reader: threading.Thread | None = None
        self._open: ipc.Open | None = None
        self._stopping = False
        self.restarts = 0
        self.gave_up = False

    @property
    def running(self) -> bool:
        proc = self._proc
        return proc is not None and proc.poll() is None

    @property
    def pid(self) -> int | None:
        proc = self._proc
        return proc.pid if proc is not None else None

    def start(self, opening: ipc.Open) -> None:
        """Start the worker (if it does not run) and open the library in it."""
        with self._lock:
            self._open = opening
            if self.gave_up or self._stopping:
                return
            if self._proc is None or self._proc.poll() is not None:
                self._spawn()
            self._write(opening)

    def send(self, command: ipc.Message) -> bool:
        """False when no worker runs to take it."""
        with self._lock:
            if self._proc is None or self._proc.poll() is not None:
                return False
            return self._write(command)

    def _spawn(self) -> None:  # with the lock held
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(
            p for p in (str(REPO), env.get("PYTHONPATH", "")) if p)
        proc = subprocess.Popen([*self.command, "--parent", str(os.getpid())],
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env)
        self._proc = proc
        log.info("download worker started (pid %d)", proc.pid)
        reader = threading.Thread(target=self._read, args=(proc,),
                                  name=f"download-worker-{proc.pid}", daemon=True)
        self._reader = reader
        reader.start()

    def _write(self, command: ipc.Message) -> bool:  # with the lock held
        proc = self._proc
        if proc is None or proc.stdin is None:
            return False
        try:
            proc.stdin.write((command.to_json() + "\n").encode())
            proc.stdin.flush()
        except (BrokenPipeError, OSError, ValueError) as exc:
            log.warning("the download worker did not take %s: %s", type(command).__name__, exc)
            return False
        return True

    def _read(self, proc: subprocess.Popen[bytes]) -> None:  # on the reader thread
        out: IO[bytes] | None = proc.stdout
        assert out is not None
        for line in out:
            if not line.strip():
                continue
            try:
                event = ipc.parse_event(line)
            except ipc.IpcError as exc:
                log.warning("the download worker said something that is not an event: %s", exc)
                continue
            try:
                self.on_event(event)
            except Exception:
                log.exception("a download worker event was not handled")
        code = proc.wait()
        out.close()
        self._ended(proc, code)

    def _ended(self, proc: subprocess.Popen[bytes], code: int) -> None:
        with self._lock:
            if self._stopping or proc is not self._proc:
                return
            if proc.stdin is not None:
                proc.stdin.close()
            if self.restarts >= RESTARTS:
                self.gave_up = True
                message = (f"Downloads stopped: the download process keeps ending "
                           f"({_why(code)}). Restart Edgeplay to continue them.")
                log.error("download worker (pid %d) ended again (%s): giving up",
                          proc.pid, _why(code))
            else:
                self.restarts += 1
                log.warning("download worker (pid %d) ended (%s): starting it again",
                            proc.pid, _why(code))
                self._spawn()
                if self._open is not None:
                    self._write(self._open)
                return
        self.on_gave_up(message)

    def stop(self, timeout_s: float = 5.0) -> None:
        """Ask the worker to stop (the running downloads stay resumable) and join it."""
        with self._lock:
            self._stopping = True
            proc, reader = self._proc, self._reader
            if proc is not None and proc.poll() is None:
                self._write(ipc.Shutdown())
        if proc is None:
            return
        try:
            proc.wait(timeout_s)
        except subprocess.TimeoutExpired:
            log.warning("the download worker did not stop in %.0f s: killed", timeout_s)
            proc.kill()
            proc.wait()
        if reader is not None and reader is not threading.current_thread():
            reader.join(timeout_s)
        if proc.stdin is not None:
            proc.stdin.close()
