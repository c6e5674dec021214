"""The Qt side of offline downloads: the downloads run in a worker process, state and
progress come back as signals.

:class:`DownloadsController` drives ``python -m offline.worker`` (:mod:`offline.worker`,
through :class:`ui.downloads_worker.WorkerProcess`) over the app's
:class:`offline.library.OfflineLibrary` (``ui.library.open_library``): the worker runs the
:class:`offline.downloader.DownloadManager` at a lower CPU priority, so the downloader's
interpreter time is not the GUI's. It is started with the first download, or once the control
plane answers when downloads were left queued or running by an earlier run (a crash, a
``kill -9``, a restart); restarted once if it dies; stopped and joined by :meth:`close`. The
rows come from the journal, read on the engine loop after each ``Changed`` event; the GUI
thread only reads :attr:`rows`, that snapshot. Light calls (renewing a license, releasing owed
ones, reporting first plays) and offline playback stay in this process, on the engine loop.
Without the sign-in in the keyring (the worker reads it there), or with
``EDGEPLAY_DOWNLOAD_WORKER=0``, the downloads run on the engine loop as well.

Signals:
    changed(): :attr:`rows` was refreshed (a download was added, changed state or was removed).
    progress(object): a :class:`offline.downloader.DownloadProgress` while one runs.
    finished(object): a :class:`offline.journal.Download` completed.
    failed(str): an action failed; the message says what to do.
"""

from __future__ import annotations

import base64
import dataclasses
import logging
import os
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, Signal

from offline import worker_ipc as ipc
from offline.downloader import DownloadManager, DownloadProgress, progress_of
from offline.journal import Download
from offline.library import OfflineLibrary
from offline.playback import OfflineSession
from player.errors import PlayerError
from player.mpv_seam import MpvLike
from player.session import SessionConfig
from player.tokens import TokenStore
from ui.aio import Runner
from ui.downloads_worker import WorkerProcess

log = logging.getLogger("ui.downloads")


def row_of(library: OfflineLibrary, d: Download) -> dict[str, Any]:
    """What the Downloads page shows of one download (read on the loop)."""
    p = progress_of(d)
    playable_for = library.remaining_s(d)
    blocked = None
    if d.complete:
        try:
            library.content_key(d)
        except PlayerError as exc:
            blocked = exc
    return {"id": d.id, "title_id": d.title_id, "title": d.title_name, "state": d.state,
            "profile_id": d.profile_id,
            "fraction": p.fraction, "bytes_done": d.bytes_done, "bytes_total": p.bytes_total,
            "rendition": d.rendition, "error": d.error, "error_code": d.error_code,
            "playable_for_s": playable_for, "complete": d.complete,
            "blocked_code": blocked.code if blocked else None,
            "blocked": blocked.message if blocked else None, "position_s": d.position_s,
            "duration_s": d.duration_s, "poster_url": d.info.get("poster_url")}


class DownloadsController(QObject):
    changed = Signal()
    progress = Signal(object)
    finished = Signal(object)
    failed = Signal(str)

    def __init__(self, runner: Runner, library: OfflineLibrary, *,
                 notify: Callable[[str, str], Any] | None = None,
                 worker: bool | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.use_worker = (os.environ.get("EDGEPLAY_DOWNLOAD_WORKER", "1") != "0"
                           if worker is None else worker)
        """Run the downloads in ``python -m offline.worker`` (when the credentials are in the
        keyring, where the worker can read them); False (or ``EDGEPLAY_DOWNLOAD_WORKER=0``):
        on the engine loop, in the app's own interpreter."""
        self.worker: WorkerProcess | None = None
        self._opening: ipc.Open | None = None
        self.runner = runner
        self.library = library
        self.notify = notify
        """``notify(summary, body)``: a desktop notification when a download finishes."""
        self.manager: DownloadManager | None = None
        self.rows: list[dict[str, Any]] = []
        self.live: dict[str, DownloadProgress] = {}
        """The latest progress of each running download (id →)."""

    # --- wiring --------------------------------------------------------------------------------

    def attach(self, cp: Any, service: str, license_key: bytes | None = None) -> None:
        """The control plane is ready: make the manager and restart interrupted downloads.
        ``license_key``: the bundled control plane's license key (its ready line), kept in
        the keyring as the one its licenses must be signed with."""
        async def make() -> None:
            if license_key is not None:
                self.library.pin(service, license_key)
            self.manager = DownloadManager(self.library, cp, service,
                                           on_event=self._on_event,
                                           on_finished=self._on_finished)
            self._opening = self._worker_opening(cp, service, license_key)
            interrupted = [d for d in self.library.all() if d.state in ("queued", "downloading")]
            if self._opening is not None:
                if interrupted:
                    log.info("%d interrupted download(s): starting the download worker",
                             len(interrupted))
                    self._start_worker()
                interrupted = []
            for d in interrupted:
                log.info("resuming %s, interrupted by the last exit", d.title_name)
                self.manager.start(d.id)
            await self.manager.release_owed()
            await self.manager.report_first_plays()
            self._publish()
        self.runner.run(make(), None, self._error)

    def refresh(self) -> None:
        async def go() -> None:
            self._publish()
        self.runner.run(go(), None, self._error)

    def _worker_opening(self, cp: Any, service: str,
                        license_key: bytes | None) -> ipc.Open | None:
        """What the worker needs to download as this app would; None: downloads stay here
        (no worker wanted, or the credentials are not where the worker can read them)."""
        store = getattr(cp, "store", None)
        if not self.use_worker:
            return None
        if not isinstance(store, TokenStore) or not store.persistent:
            log.info("downloads run in the app: the sign-in is not in the keyring")
            return None
        config = dataclasses.asdict(self.library.config)
        return ipc.Open(root=str(self.library.root), device=self.library.device,
                        base_url=cp.base_url, store_key=store.key, service=service,
                        config=config, license_key=(base64.b64encode(license_key).decode()
                                                    if license_key is not None else None))

    def _start_worker(self) -> WorkerProcess | None:
        """The running worker (started now if need be); None when downloads stay here."""
        if self._opening is None:
            return None
        if self.worker is None:
            self.worker = WorkerProcess(self._on_worker_event, self._on_worker_gave_up)
        if not self.worker.running:
            self.worker.start(self._opening)
        return self.worker

    def _on_worker_event(self, event: ipc.Message) -> None:  # on the worker's reader thread
        if isinstance(event, ipc.Progress):
            p = event.progress()
            self.runner.post(lambda: self._progress(p))
        elif isinstance(event, ipc.Changed):
            self.refresh()
        elif isinstance(event, ipc.Finished):
            download_id = event.download_id

            async def finished() -> None:
                d = self.library.journal.get(download_id)
                if d is not None:
                    self._on_finished(d)
            self.runner.aio.submit(finished())
        elif isinstance(event, ipc.Failed):
            message = event.message
            self.runner.post(lambda: self._error(PlayerError(message, code=event.code or "")))
        elif isinstance(event, ipc.Ready):
            log.info("download worker ready (pid %d)", event.pid)

    def _on_worker_gave_up(self, message: str) -> None:  # on the worker's reader thread
        self.runner.post(lambda: self._error(PlayerError(message, code="worker")))
        self.refresh()

    def close(self) -> None:
        """Stop what runs (the next start resumes it)."""
        if self.worker is not None:
            self.worker.stop()
        manager = self.manager
        if manager is None:
            return
        future = self.runner.aio.submit(manager.aclose())
        try:
            future.result(timeout=5)
        except Exception as exc:  # leaving anyway: the journal is consistent
            log.warning("downloads did not stop cleanly: %s", exc)

    # --- on the loop ---------------------------------------------------------------------------

    def _publish(self) -> None:
        rows = [row_of(self.library, d) for d in self.library.all()]
        self.runner.post(lambda: self._set_rows(rows))

    def _set_rows(self, rows: list[dict[str, Any]]) -> None:
        self.rows = rows
        self.changed.emit()

    def _on_event(self, p: DownloadProgress) -> None:
        self.runner.post(lambda: self._progress(p))
        if p.state != "downloading":
            self._publish()

    def _progress(self, p: DownloadProgress) -> None:
        self.live[p.id] = p
        self.progress.emit(p)

    def _on_finished(self, d: Download) -> None:
        self.runner.post(lambda: self._finished(d))

    def _finished(self, d: Download) -> None:
        self.finished.emit(d)
        if self.notify is not None:
            try:
                self.notify("Download complete", f"{d.title_name} is ready to watch offline.")
            except Exception as exc:
                log.info("no notification: %s", exc)

    def _error(self, exc: BaseException) -> None:
        message = exc.message if isinstance(exc, PlayerError) else str(exc)
        log.warning("downloads: %s", message)
        self.failed.emit(message)

    # --- actions (GUI thread) ------------------------------------------------------------------

    def _act(self, make: Callable[[DownloadManager], Any],
             command: ipc.Message | None = None) -> None:
        manager = self.manager
        if manager is None:
            self.failed.emit("Downloads are not ready yet: the service is still starting.")
            return
        if command is not None and self._opening is not None:
            worker = self._start_worker()
            if worker is None or worker.gave_up or not worker.send(command):
                self.failed.emit("Downloads stopped: the download process is not running. "
                                 "Restart Edgeplay to continue them.")
            return

        async def go() -> None:
            await make(manager)
            self._publish()
        self.runner.run(go(), None, self._error)

    def download(self, title_id: str, profile_id: str, quality: str | None = None) -> None:
        async def add(m: DownloadManager) -> None:
            d = await m.add(title_id, profile_id, quality=quality)
            m.start(d.id)
        self._act(add, ipc.Add(title_id, profile_id, quality))

    def pause(self, download_id: str) -> None:
        self._act(lambda m: m.pause(download_id), ipc.Pause(download_id))

    def resume(self, download_id: str) -> None:
        self._act(lambda m: m.resume(download_id), ipc.Resume(download_id))

    def cancel(self, download_id: str) -> None:
        self.live.pop(download_id, None)
        self._act(lambda m: m.cancel(download_id), ipc.Cancel(download_id))

    def delete(self, download_id: str) -> None:
        self.live.pop(download_id, None)
        self._act(lambda m: m.delete(download_id), ipc.Delete(download_id))

    def renew(self, download_id: str) -> None:
        self._act(lambda m: m.renew(download_id))  # one license call: no worker needed

    def repair(self, download_id: str) -> None:
        async def go(m: DownloadManager) -> None:
            d = self.library.get(download_id)
            bad = self.library.damaged_segments(d)
            if bad:
                self.library.mark_for_repair(d, bad)
            m.start(download_id)
        self._act(go, ipc.Repair(download_id))

    # --- lookups (GUI thread, from the snapshot) ----------------------------------------------

    def home_row(self) -> dict[str, Any] | None:
        """The home screen's last row: the finished downloads as title tiles (None: none)."""
        items = [{"id": r["title_id"], "name": r["title"], "poster_url": r["poster_url"] or "",
                  "duration_s": r["duration_s"], "playable": True}
                 for r in self.rows if r["complete"]]
        return {"id": "downloads", "title": "Downloads", "items": items} if items else None

    def row_for_title(self, title_id: str) -> dict[str, Any] | None:
        return next((r for r in reversed(self.rows) if r["title_id"] == title_id), None)

    def playable(self, title_id: str) -> dict[str, Any] | None:
        """The finished download of ``title_id`` that may play now, if any."""
        row = self.row_for_title(title_id)
        return row if row and row["complete"] and not row["blocked"] else None

    def session_for(self, download_id: str, mpv: MpvLike, config: SessionConfig,
                    progress: Any = None) -> OfflineSession:
        """A playback session over the download (its start runs on the loop)."""
        d = self.library.journal.get(download_id)
        if d is None:
            raise PlayerError("This download is gone.", code="not_downloaded")
        return OfflineSession(self.library, d, mpv, config=config, progress=progress,
                              start_over=config.start_over)
