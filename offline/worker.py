"""``python -m offline.worker``: the downloads in a process of their own, at a lower priority.

Downloading keeps an interpreter busy (about 80 % of a core on loopback); in the app's own
process that is the GUI's interpreter. So the app starts this worker, which opens the library,
runs a :class:`offline.downloader.DownloadManager`, reads commands from stdin and writes events
to stdout, one JSON line each (:mod:`offline.worker_ipc`). Logs go to stderr.

**Priority.** The worker lowers its own CPU priority (``nice`` +10) and, on Linux, its I/O
priority to best-effort level 7 (``ioprio_set`` through ``ctypes``; skipped where that is not
available). Playback in the app keeps the default priority.

**Lifetime.** The worker never outlives the app: on Linux it asks the kernel for ``SIGTERM``
when its parent dies (``PR_SET_PDEATHSIG``) and then checks its parent is still the one that
started it (``--parent PID``; exits if not); everywhere it exits when stdin reaches end of file
(the parent closed the pipe, or died). A ``SIGTERM`` or end of input stops the running downloads
where they are, as :meth:`DownloadManager.aclose` does: the next start resumes them from their
part files.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import ctypes
import ctypes.util
import logging
import os
import signal
import sys
from pathlib import Path
from typing import BinaryIO, TextIO

from offline import worker_ipc as ipc
from offline.downloader import DownloadManager, DownloadProgress
from offline.journal import Download
from offline.library import OfflineConfig, OfflineLibrary
from player.api import ControlPlaneClient
from player.errors import PlayerError
from player.tokens import TokenStore

log = logging.getLogger("offline.worker")

NICE = 10
PR_SET_PDEATHSIG = 1
_IOPRIO_SET = {"x86_64": 251, "aarch64": 30}
"""``ioprio_set`` syscall numbers (other architectures: skipped)."""


def _libc() -> ctypes.CDLL | None:
    name = ctypes.util.find_library("c")
    try:
        return ctypes.CDLL(name, use_errno=True) if name else None
    except OSError:
        return None


def die_with_parent(parent: int | None) -> bool:
    """Linux: SIGTERM when the parent dies. False when ``parent`` is already gone."""
    if sys.platform.startswith("linux"):
        libc = _libc()
        if libc is not None and libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0) != 0:
            log.warning("PR_SET_PDEATHSIG failed (errno %d)", ctypes.get_errno())
    return parent is None or os.getppid() == parent


def lower_priority() -> None:
    """nice +10; on Linux also idle-ish disk I/O (best effort, level 7) where available."""
    with contextlib.suppress(OSError):
        os.nice(NICE)
    number = _IOPRIO_SET.get(os.uname().machine) if hasattr(os, "uname") else None
    if not sys.platform.startswith("linux") or number is None:
        return
    libc = _libc()
    if libc is not None:
        best_effort, level, who_process = 2, 7, 1
        if libc.syscall(number, who_process, 0, (best_effort << 13) | level) != 0:
            log.info("ioprio_set failed (errno %d): I/O priority left as is",
                     ctypes.get_errno())


class Worker:
    """Commands in (:meth:`handle`), events out (``emit`` writes one line each)."""

    def __init__(self, out: TextIO) -> None:
        self.out = out
        self.library: OfflineLibrary | None = None
        self.cp: ControlPlaneClient | None = None
        self.manager: DownloadManager | None = None

    def emit(self, message: ipc.Message) -> None:
        self.out.write(message.to_json() + "\n")
        self.out.flush()

    def _on_event(self, p: DownloadProgress) -> None:
        self.emit(ipc.Progress.of(p))
        if p.state != "downloading":
            self.emit(ipc.Changed(p.id))

    def _on_finished(self, d: Download) -> None:
        self.emit(ipc.Finished(d.id, d.title_name))

    async def open(self, c: ipc.Open) -> None:
        self.library = OfflineLibrary(
            Path(c.root), device=c.device,
            config=OfflineConfig(**c.config))
        if c.license_key is not None:
            self.library.pin(c.service, base64.b64decode(c.license_key))
        self.cp = ControlPlaneClient(c.base_url, store=TokenStore(c.store_key))
        self.manager = DownloadManager(self.library, self.cp, c.service,
                                       on_event=self._on_event, on_finished=self._on_finished)
        for d in self.library.all():
            if d.state in ("queued", "downloading"):
                log.info("resuming %s, interrupted by the last exit", d.title_name)
                self.manager.start(d.id)
        self.emit(ipc.Changed())

    async def handle(self, c: ipc.Message) -> None:
        if isinstance(c, ipc.Open):
            await self.open(c)
            return
        m, lib = self.manager, self.library
        if m is None or lib is None:
            raise PlayerError("Downloads are not ready yet: the service is still starting.",
                              code="not_ready")
        if isinstance(c, ipc.Add):
            d = await m.add(c.title_id, c.profile_id, quality=c.quality)
            m.start(d.id)
        elif isinstance(c, ipc.Pause):
            await m.pause(c.download_id)
        elif isinstance(c, ipc.Resume):
            await m.resume(c.download_id)
        elif isinstance(c, ipc.Cancel):
            await m.cancel(c.download_id)
        elif isinstance(c, ipc.Delete):
            await m.delete(c.download_id)
        elif isinstance(c, ipc.Renew):
            await m.renew(c.download_id)
        elif isinstance(c, ipc.Repair):
            d = lib.get(c.download_id)
            bad = await asyncio.to_thread(lib.damaged_segments, d)
            if bad:
                lib.mark_for_repair(d, bad)
            m.start(c.download_id)
        self.emit(ipc.Changed(getattr(c, "download_id", None)))

    async def aclose(self) -> None:
        if self.manager is not None:
            await self.manager.aclose()
        if self.cp is not None:
            await self.cp.aclose()
        if self.library is not None:
            self.library.close()


async def serve(stdin: BinaryIO, stdout: TextIO) -> int:
    """Read commands until ``Shutdown``, end of input or SIGTERM; 0 when it stopped cleanly."""
    loop = asyncio.get_running_loop()
    worker = Worker(stdout)
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
            loop.add_signal_handler(sig, stop.set)
    reader = asyncio.StreamReader(limit=1 << 20)
    transport, _ = await loop.connect_read_pipe(
        lambda: asyncio.StreamReaderProtocol(reader), stdin)
    worker.emit(ipc.Ready(os.getpid()))
    stopper = asyncio.ensure_future(stop.wait())
    commands: asyncio.Queue[ipc.Message] = asyncio.Queue()

    async def consume() -> None:  # one at a time, in order: a Delete then an Add stay so
        while True:
            await _run(worker, await commands.get())
    consumer = asyncio.ensure_future(consume())
    try:
        while True:
            getter = asyncio.ensure_future(reader.readline())
            await asyncio.wait({getter, stopper}, return_when=asyncio.FIRST_COMPLETED)
            if not getter.done():
                getter.cancel()
                log.info("stopping: signalled")
                break
            try:
                raw = getter.result()
            except ValueError:  # a line past the limit
                raw = b"{...}\n"
            line = raw.decode("utf-8", "replace")
            if line == "":
                log.info("stopping: end of input (the app is gone)")
                break
            if not line.strip():
                continue
            try:
                command = ipc.parse_command(line)
            except ipc.IpcError as exc:
                log.warning("ignored: %s", exc)
                worker.emit(ipc.Failed(f"The download worker got a bad command: {exc}",
                                       code="ipc"))
                continue
            if isinstance(command, ipc.Shutdown):
                log.info("stopping: asked to")
                break
            commands.put_nowait(command)
    finally:
        stopper.cancel()
        transport.close()
        consumer.cancel()
        await asyncio.gather(consumer, return_exceptions=True)
        await worker.aclose()
    return 0


async def _run(worker: Worker, command: ipc.Message) -> None:
    try:
        await worker.handle(command)
    except PlayerError as exc:
        worker.emit(ipc.Failed(exc.message, exc.code, getattr(command, "download_id", None)))
    except asyncio.CancelledError:
        raise
    except Exception as exc:
        log.exception("%s failed", type(command).__name__)
        worker.emit(ipc.Failed(f"{type(command).__name__} failed: {exc}", "internal",
                               getattr(command, "download_id", None)))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m offline.worker",
                                     description="Edgeplay downloads over stdin/stdout.")
    parser.add_argument("--parent", type=int, default=None,
                        help="exit at once unless this pid is still the parent")
    parser.add_argument("--no-nice", action="store_true", help="keep the normal priority")
    parser.add_argument("-v", "--verbose", action="store_true")
    args = parser.parse_args(argv)
    if not die_with_parent(args.parent):
        print("offline.worker: the app that started it is gone", file=sys.stderr)
        return 1
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO,
                        stream=sys.stderr, format="%(name)s: %(message)s")
    if not args.no_nice:
        lower_priority()
    return asyncio.run(serve(sys.stdin.buffer, sys.stdout))


if __name__ == "__main__":
    sys.exit(main())
