"""Start the bundled control plane as a subprocess and wait for its ready line.

The client never imports the control plane: it runs ``python -m controlplane`` and talks HTTP to
the URLs of the JSON ready line, exactly as it would to a real backend. The child dies with this
process however it ends: its stdin is a pipe held open here until it has exited
(:mod:`player.lifeline`).
"""

from __future__ import annotations

import concurrent.futures
import json
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from player.lifeline import lifeline_env

FROZEN_CONTROLPLANE_FLAG = "--controlplane-subprocess"
"""A frozen bundle (PyInstaller) has no ``python -m``: its executable runs the control plane when
this is its first argument (packaging/pyinstaller/entry.py)."""


class ControlPlaneStartError(RuntimeError):
    """The bundled control plane exited or stayed silent instead of printing its ready line."""


@dataclass(frozen=True)
class ReadyInfo:
    base_url: str
    admin_url: str
    edges: tuple[tuple[str, str], ...]
    """(name, url) of every edge."""
    license_public_key: str
    raw: dict[str, Any]
    admin_token: str = ""
    """What the admin API wants as ``Authorization: Bearer …`` (:attr:`admin_headers`)."""

    @property
    def admin_headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.admin_token}"}

    @classmethod
    def parse(cls, line: str) -> ReadyInfo:
        raw = json.loads(line)
        if not isinstance(raw, dict) or raw.get("event") != "ready":
            raise ValueError(f"not a ready line: {line[:200]!r}")
        return cls(
            base_url=raw["base_url"],
            admin_url=raw["admin_url"],
            edges=tuple((e["name"], e["url"]) for e in raw["edges"]),
            license_public_key=raw["license_public_key"],
            raw=raw,
            admin_token=str(raw.get("admin_token", "")),
        )


class BundledControlPlane:
    """``with BundledControlPlane(["--catalog", "test"]) as cp: cp.ready.base_url``."""

    def __init__(
        self,
        args: Sequence[str] = (),
        *,
        on_output: Callable[[str], None] | None = None,
        start_timeout_s: float = 600.0,
        env: dict[str, str] | None = None,
        python: str = sys.executable,
        cwd: Path | None = None,
    ) -> None:
        self.args = list(args)
        self.on_output = on_output
        self.start_timeout_s = start_timeout_s
        self.env = env
        self.python = python
        self.cwd = cwd or Path(__file__).resolve().parent.parent
        self.proc: subprocess.Popen[str] | None = None
        self._ready: ReadyInfo | None = None
        self.output: list[str] = []
        self._pump_thread: threading.Thread | None = None
        self._ready_thread: threading.Thread | None = None
        self._owner_thread: threading.Thread | None = None
        self._release = threading.Event()

    @property
    def ready(self) -> ReadyInfo:
        if self._ready is None:
            raise ControlPlaneStartError("the control plane has not started")
        return self._ready

    def start(self) -> ReadyInfo:
        env = dict(os.environ if self.env is None else self.env)
        env.setdefault("PYTHONUNBUFFERED", "1")
        frozen = getattr(sys, "frozen", False) and self.python == sys.executable
        command = [self.python, FROZEN_CONTROLPLANE_FLAG] if frozen else \
            [self.python, "-m", "controlplane"]
        self.proc = self._spawn([*command, *self.args], lifeline_env(env))
        assert self.proc.stdout is not None and self.proc.stderr is not None
        self._pump_thread = threading.Thread(target=self._pump, args=(self.proc.stderr,),
                                             name="controlplane-stderr", daemon=True)
        self._pump_thread.start()
        line_box: list[str] = []
        reader = threading.Thread(target=lambda: line_box.append(self.proc.stdout.readline()),  # type: ignore[union-attr]
                                  name="controlplane-ready", daemon=True)
        self._ready_thread = reader
        reader.start()
        reader.join(self.start_timeout_s)
        line = line_box[0] if line_box else ""
        if not line:
            self.stop()
            tail = "\n".join(self.output[-15:])
            raise ControlPlaneStartError(f"the bundled control plane did not start:\n{tail}")
        self._ready = ReadyInfo.parse(line)
        return self._ready

    def _spawn(self, argv: list[str], env: dict[str, str]) -> subprocess.Popen[str]:
        """Start the child from a thread of its own that lives until :meth:`stop` has reaped it.

        Linux signals the child (``PR_SET_PDEATHSIG``, which it asks for) when the *thread* that
        started it ends, so the caller's thread (an executor's, a test's event loop's) must not
        be that thread; this one ends only with the child, or with the whole process."""
        spawned: concurrent.futures.Future[subprocess.Popen[str]] = concurrent.futures.Future()
        self._release.clear()

        def own() -> None:
            try:
                proc = subprocess.Popen(
                    argv, stdin=subprocess.PIPE,  # the lifeline: held open, never written
                    stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=self.cwd,
                    env=env)
            except BaseException as exc:
                spawned.set_exception(exc)
                return
            spawned.set_result(proc)
            self._release.wait()

        self._owner_thread = threading.Thread(target=own, name="controlplane-owner",
                                              daemon=True)
        self._owner_thread.start()
        return spawned.result()

    def _pump(self, stream: TextIO) -> None:
        for line in stream:
            line = line.rstrip("\n")
            self.output.append(line)
            del self.output[:-500]
            if self.on_output:
                self.on_output(line)

    def stop(self, timeout_s: float = 10.0) -> int | None:
        """SIGTERM, then SIGKILL after ``timeout_s``; returns the exit status."""
        proc = self.proc
        if proc is None:
            return None
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout_s)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout_s)
        # The child is gone, so its end of the pipes is closed and the readers see EOF.
        self._release.set()
        for thread in (self._owner_thread, self._pump_thread, self._ready_thread):
            if thread is not None:
                thread.join(timeout_s)
        for stream in (proc.stdin, proc.stdout, proc.stderr):
            if stream is not None and not stream.closed:
                stream.close()
        return proc.returncode

    def __enter__(self) -> BundledControlPlane:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
