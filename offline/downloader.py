"""Downloads from the edges into the library: queued, resumable, failing over, within quota.

``DownloadManager(library, cp, service)``: :meth:`add` asks the control plane for the title, a
playback manifest (the edges and signed URLs) and an offline license (which enforces the
account's download limit), picks the rung and the audio renditions, checks the space, and lays
the download's parts out in the journal (:mod:`offline.adding`, :mod:`offline.plan`).
:meth:`start` queues it; at most ``concurrent_downloads`` run at once. Its parts are fetched
through the player's own fetcher and failover (:mod:`offline.transfer`): the best edge of the
engine's edge pool, adaptive timeouts, Range resume, validation as the bytes arrive, each part
streamed to a temporary name, fsynced and renamed, then marked done in the journal.
:meth:`pause`, :meth:`resume`, :meth:`cancel` and :meth:`delete` do what they say; a
``paused`` state written by another process (``edgeplay downloads pause``) is noticed between
parts. Licenses: :mod:`offline.licensing`; progress events: :mod:`offline.progress`.

**Ownership.** A running download holds its :class:`~offline.owner.OwnerLock` (the OS drops it
when the process ends, ``kill -9`` included). :meth:`add` for a title whose download is
unfinished resumes it unless a live process owns it (then ``already_downloading``); a download
whose lock another process holds is never run twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import sqlite3
import time
from collections.abc import Callable

import httpx

from offline.adding import Adding
from offline.atrest import AtRest
from offline.errors import OfflineError
from offline.journal import Download
from offline.library import OfflineLibrary
from offline.owner import OwnerLock
from offline.plan import AUDIO_PREFIX, Layout, choose_rung
from offline.progress import DownloadProgress, Rate, progress_of
from offline.store import disk_full_error, free_bytes, is_disk_full
from offline.transfer import Transfer, open_fetcher
from player.api import ControlPlaneClient
from player.errors import PlayerError
from player.presentation import Multivariant

__all__ = ["DownloadManager", "DownloadProgress", "choose_rung", "progress_of"]

log = logging.getLogger("offline.download")


class _Stop(Exception):
    """Paused or cancelled (here or by another process): stop between segments."""


class DownloadManager(Adding):
    def __init__(self, library: OfflineLibrary, cp: ControlPlaneClient, service: str, *,
                 http: httpx.AsyncClient | None = None,
                 on_event: Callable[[DownloadProgress], None] | None = None,
                 on_finished: Callable[[Download], None] | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.library = library
        self.config = library.config
        self.cp = cp
        self.service = service
        self._http = http
        self._own_http = http is None
        self.on_event = on_event
        self.on_finished = on_finished
        self._clock = clock
        self._slots = asyncio.Semaphore(self.config.concurrent_downloads)
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._rates: dict[str, Rate] = {}
        self._last_event: dict[str, float] = {}
        self._stopping: dict[str, str] = {}
        self._unsaved: dict[str, tuple[str, str | None, str | None]] = {}
        self._owned: dict[str, OwnerLock] = {}

    @property
    def http(self) -> httpx.AsyncClient:
        if self._http is None:
            self._http = httpx.AsyncClient(timeout=httpx.Timeout(20.0, connect=3.0),
                                           headers={"User-Agent": "Edgeplay/0.1 downloads"})
        return self._http

    async def aclose(self) -> None:
        """Stop every running download where it is, leaving the journal saying it was under
        way: the next start resumes it (as after a crash)."""
        tasks = [t for t in self._tasks.values() if not t.done()]
        self._tasks.clear()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        if self._own_http and self._http is not None:
            await self._http.aclose()

    # --- adding ----------------------------------------------------------------------------------


    # --- running -----------------------------------------------------------------------------

    def _lock(self, download_id: str) -> OwnerLock:
        return self._owned.get(download_id) or OwnerLock(
            self.library.root / "locks" / f"{download_id}.lock")

    def owner_elsewhere(self, download_id: str) -> int | None:
        """The pid of the live process (this one included, through another manager) that
        runs ``download_id``, 0 when it is this manager, None when nobody runs it."""
        task = self._tasks.get(download_id)
        if task is not None and not task.done():
            return 0
        lock = self._lock(download_id)
        if lock.held or not lock.held_elsewhere():
            return None
        return lock.owner_pid() or -1

    def check_not_owned(self, d: Download) -> None:
        """:class:`OfflineError` ``already_downloading`` when a live process runs ``d``."""
        owner = self.owner_elsewhere(d.id)
        if owner is None:
            return
        where = ("" if owner == 0 else
                 f" by another Edgeplay (process {owner})" if owner > 0 else
                 " by another Edgeplay")
        raise OfflineError(f"{d.title_name} is already downloading{where}.",
                           code="already_downloading")

    def start(self, download_id: str) -> asyncio.Task[None]:
        """Queue ``download_id`` (a paused or failed one resumes); returns its task."""
        task = self._tasks.get(download_id)
        if task is not None and not task.done():
            return task
        d = self.library.get(download_id)
        if d.state != "completed":
            self._set_state(download_id, "queued")
        self._stopping.pop(download_id, None)
        task = asyncio.ensure_future(self._run(download_id))
        task.set_name(f"download-{download_id}")
        self._tasks[download_id] = task
        return task

    async def wait(self, download_id: str) -> Download:
        task = self._tasks.get(download_id)
        if task is not None:
            await asyncio.shield(task)
        return self.status(download_id)

    async def pause(self, download_id: str) -> None:
        await self._halt(download_id, "paused")

    async def resume(self, download_id: str) -> None:
        self.start(download_id)

    async def cancel(self, download_id: str) -> None:
        """Stop and delete: the files, the journal entry, and the license (released)."""
        await self.delete(download_id)

    async def delete(self, download_id: str) -> None:
        """Delete the download and release its license (now, or on the next contact)."""
        d = self.library.get(download_id)
        await self._halt(download_id, "deleted")
        self.library.store.delete(download_id)
        self.library.journal.remove(download_id)
        if d.license_id:
            self.library.journal.owe_release(d.license_id, d.service)
            await self.release_owed()
        log.info("download %s deleted", download_id)


    async def _halt(self, download_id: str, why: str) -> None:
        self._stopping[download_id] = why
        task = self._tasks.pop(download_id, None)
        if task is not None and not task.done():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        if why == "paused":
            d = self.library.journal.get(download_id)
            if d is not None and d.state != "completed":
                self.library.journal.set_state(download_id, "paused")
                self._event(self.library.get(download_id), force=True)

    def status(self, download_id: str) -> Download:
        """The download as the journal has it, or as it is when the journal could not be
        written (a full disk also stops SQLite: the state then lives here until it can)."""
        d = self.library.get(download_id)
        unsaved = self._unsaved.get(download_id)
        if unsaved is None:
            return d
        state, code, error = unsaved
        return dataclasses.replace(d, state=state, error_code=code, error=error)

    def _set_state(self, download_id: str, state: str, code: str | None = None,
                   error: str | None = None) -> None:
        try:
            self.library.journal.set_state(download_id, state, error_code=code, error=error)
            self._unsaved.pop(download_id, None)
        except sqlite3.Error as exc:
            log.warning("download %s: state %s not saved (%s)", download_id, state, exc)
            self._unsaved[download_id] = (state, code, error)

    async def _run(self, download_id: str) -> None:
        lib = self.library
        async with self._slots:
            d = lib.get(download_id)
            if d.state == "paused" or download_id in self._stopping:
                return
            lock = self._lock(download_id)
            if not lock.acquire():
                log.warning("download %s: another process (pid %s) runs it: not started",
                            download_id, lock.owner_pid())
                return
            self._owned[download_id] = lock
            try:
                await self._run_owned(download_id)
            finally:
                self._owned.pop(download_id, None)
                lock.release()

    async def _run_owned(self, download_id: str) -> None:
        lib = self.library
        self._set_state(download_id, "downloading")
        self._rates[download_id] = Rate(clock=self._clock)
        self._event(self.status(download_id), force=True)
        try:
            await self._download(lib.get(download_id))
        except asyncio.CancelledError:
            raise
        except _Stop:
            return
        except OfflineError as exc:
            state = "paused" if exc.code in ("disk_full", "quota") else "failed"
            self._set_state(download_id, state, exc.code, exc.message)
            log.warning("download %s %s: %s", download_id, state, exc.message)
        except PlayerError as exc:
            self._set_state(download_id, "failed", exc.code,
                            exc.message + " Resume to try again.")
            log.warning("download %s failed: %s", download_id, exc)
        except (OSError, sqlite3.OperationalError) as exc:
            if is_disk_full(exc) or "full" in str(exc):
                error = disk_full_error(lib.store.root)
                self._set_state(download_id, "paused", error.code, error.message)
            else:
                self._set_state(download_id, "failed", "io", f"The download could not be "
                                f"written ({exc}). Resume to try again.")
            log.warning("download %s stopped: %s", download_id, exc)
        else:
            self._set_state(download_id, "completed")
            log.info("download %s completed", download_id)
            if self.on_finished is not None:
                self.on_finished(self.status(download_id))
        finally:
            if lib.journal.get(download_id) is not None:
                self._event(self.status(download_id), force=True)


    async def _download(self, d: Download) -> None:
        lib = self.library

        async def reload() -> Multivariant:
            playback = await self.cp.start_playback(d.title_id, d.profile_id)
            await self._observe()
            return await self.multivariant_of(playback)

        mv = await reload()
        lic = lib.license_of(d)
        key = lib.device_key().unwrap(lic.wrapped_key, lic.license_id)
        layout = Layout.of(d.info, d.rendition, [s.duration_s for s in lib.journal.segments(d.id)])
        fetcher = open_fetcher(self.http, mv, reload, key, lic.key_ids)
        try:
            if d.rendition not in fetcher.playlists.ladder:
                raise OfflineError(f"The service no longer offers the quality this download "
                                   f"started with ({d.rendition}); delete it and download "
                                   "again.", code="manifest")
            offered = {AUDIO_PREFIX + r.key for r in mv.audio_renditions()}
            gone = [t.language or t.name for t in layout.audio if t.rendition not in offered]
            if gone:
                raise OfflineError(f"The service no longer offers the audio this download "
                                   f"started with ({', '.join(map(str, gone))}); delete it and "
                                   "download again.", code="manifest")
            await Transfer(lib, d, fetcher, layout, AtRest(key, d.id), reload=reload,
                           going=self._check_going,
                           on_bytes=self._bytes, on_part=lambda d: self._event(lib.get(d.id))
                           ).run()
        finally:
            await fetcher.aclose()
        final = lib.get(d.id)
        if not final.complete:
            raise OfflineError(f"{final.segment_count - final.segments_done} parts are still "
                               "missing; resume to fetch them.", code="incomplete")

    def _check_going(self, d: Download) -> None:
        """Stop between segments when paused or deleted, here or by another process."""
        current = self.library.journal.get(d.id)
        if current is None or current.state == "paused" or d.id in self._stopping:
            raise _Stop()
        estimate = current.estimated_bytes
        room = free_bytes(self.library.store.root) - self.config.min_free_bytes
        segment = estimate / max(1, current.segment_count)
        if room < segment:
            raise disk_full_error(self.library.store.root)
        if self.config.quota_bytes is not None and (
                self.library.used_bytes() + segment > self.config.quota_bytes):
            raise OfflineError(f"The downloads quota ({self.config.quota_bytes / 1e6:.0f} MB) "
                               "is reached. Delete a download or raise the quota in Settings, "
                               "then resume.", code="quota")


    def _bytes(self, d: Download, size: int, in_part: int) -> None:
        rate = self._rates.setdefault(d.id, Rate(clock=self._clock))
        rate.add(size)
        self._live(d, in_part)

    def _due(self, download_id: str) -> bool:
        now = self._clock()
        if now - self._last_event.get(download_id, -1e9) < self.config.progress_interval_s:
            return False
        self._last_event[download_id] = now
        return True

    def _live(self, d: Download, received: int) -> None:
        """Mid-segment progress (the bytes of the segment under way count too)."""
        if self.on_event is None or not self._due(d.id):
            return
        current = self.library.journal.get(d.id)
        if current is not None:
            self._event(current, force=True, live=received)

    def _event(self, d: Download, *, force: bool = False, live: int = 0) -> None:
        if self.on_event is None or not (force or self._due(d.id)):
            return
        rate = self._rates.get(d.id)
        progress = progress_of(d, rate.bps() if rate else None)
        if live:
            progress = DownloadProgress(**{**progress.__dict__,
                                           "bytes_done": progress.bytes_done + live})
        try:
            self.on_event(progress)
        except Exception:
            log.exception("download progress listener failed")
