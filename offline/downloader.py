"""Downloads from the edges into the library: queued, resumable, failing over, within quota.

``DownloadManager(library, cp, service)``: :meth:`add` asks the control plane for the title, a
playback manifest (the edges and signed URLs) and an offline license (which enforces the
account's download limit), picks the rung, checks the space, and writes the download into the
journal. :meth:`start` queues it; at most ``concurrent_downloads`` run at once. Each segment is
fetched from the best edge of a :class:`player.edgepool.EdgePool` (the engine's: health,
circuit breakers, failover on refusal, 5xx, truncation, a lying body), continued with a Range
request after an interruption, checked (it must decrypt to whole TS packets), hashed, written
to a temporary name, fsynced and renamed, then marked done in the journal. :meth:`pause`,
:meth:`resume`, :meth:`cancel` and :meth:`delete` do what they say; a ``paused`` state written
by another process (``edgeplay downloads pause``) is noticed between segments.

**Ownership.** A running download holds its :class:`~offline.owner.OwnerLock` (the OS drops it
when the process ends, ``kill -9`` included). :meth:`add` for a title whose download is
unfinished resumes it unless a live process owns it (then ``already_downloading``); a download
whose lock another process holds is never run twice.
"""

from __future__ import annotations

import asyncio
import base64
import collections
import contextlib
import dataclasses
import hashlib
import logging
import os
import sqlite3
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from offline import license as licenses
from offline.errors import OfflineError
from offline.journal import Download
from offline.library import OfflineLibrary
from offline.license import verify
from offline.owner import OwnerLock
from offline.store import disk_full_error, free_bytes, is_disk_full, size_text
from player.api import ControlPlaneClient
from player.decrypt import CorruptSegment, StreamDecryptor
from player.edgepool import EdgePool, EdgePoolConfig, edges_of
from player.errors import ConflictError, ManifestError, NoEdgeError, NotFoundError, PlayerError
from player.failover import PathwayPlaylists
from player.manifest import Multivariant, Segment, parse_media_playlist, parse_multivariant

log = logging.getLogger("offline.download")


@dataclass(frozen=True)
class DownloadProgress:
    """One progress event (also the shape ``edgeplay downloads list --json`` prints)."""

    id: str
    title_id: str
    title_name: str
    state: str
    segments_done: int
    segment_count: int
    bytes_done: int
    bytes_total: int
    """The whole download's size: exact once complete, extrapolated before."""
    rate_bps: float | None
    """Bytes per second over the last few seconds; None before a measurement."""
    eta_s: float | None
    error_code: str | None = None
    error: str | None = None

    @property
    def fraction(self) -> float:
        return self.segments_done / self.segment_count if self.segment_count else 0.0

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "title_id": self.title_id, "title": self.title_name,
                "state": self.state, "segments_done": self.segments_done,
                "segment_count": self.segment_count, "bytes_done": self.bytes_done,
                "bytes_total": self.bytes_total, "rate_bps": self.rate_bps,
                "eta_s": self.eta_s, "error_code": self.error_code, "error": self.error}


def progress_of(d: Download, rate_bps: float | None = None) -> DownloadProgress:
    total = d.estimated_bytes
    eta = ((total - d.bytes_done) / rate_bps if rate_bps and d.state == "downloading"
           else None)
    return DownloadProgress(d.id, d.title_id, d.title_name, d.state, d.segments_done,
                            d.segment_count, d.bytes_done, total, rate_bps, eta,
                            d.error_code, d.error)


class _Expired(Exception):
    """403 url_expired: fetch new signed URLs."""


class _EdgeFailed(Exception):
    def __init__(self, cause: str, hard: bool = False) -> None:
        super().__init__(cause)
        self.cause = cause
        self.hard = hard


class _Stop(Exception):
    """Paused or cancelled (here or by another process): stop between segments."""


class _Rate:
    """Bytes per second over a sliding window."""

    def __init__(self, window_s: float = 5.0, clock: Callable[[], float] = time.monotonic):
        self.window_s = window_s
        self.clock = clock
        self.samples: collections.deque[tuple[float, int]] = collections.deque()

    def add(self, size: int) -> None:
        now = self.clock()
        self.samples.append((now, size))
        while self.samples and self.samples[0][0] < now - self.window_s:
            self.samples.popleft()

    def bps(self) -> float | None:
        if len(self.samples) < 2:
            return None
        span = self.samples[-1][0] - self.samples[0][0]
        return (sum(s for _, s in self.samples) - self.samples[0][1]) / span if span > 0 \
            else None


@dataclass
class _Context:
    """What a running download needs from the network (rebuilt by a URL refresh)."""

    playlists: PathwayPlaylists
    pool: EdgePool
    rendition: str
    key: bytes
    generation: int = 0


def choose_rung(bitrates_bps: Sequence[int], duration_s: float, budget_bytes: int,
                quality: str | int | None, heights: Sequence[int | None] = ()) -> int:
    """The rung to download: ``quality`` (an index, ``"720p"``, ``"best"``, ``"low"``), else
    the best rung whose whole title fits ``budget_bytes``, else the lowest."""
    top = len(bitrates_bps) - 1
    if quality is not None:
        text = str(quality).strip().lower()
        if text in ("best", "high", "max"):
            return top
        if text in ("low", "lowest", "min", "data-saver"):
            return 0
        if text.endswith("p") and text[:-1].isdigit():
            want = int(text[:-1])
            fitting = [i for i, h in enumerate(heights) if h is not None and h <= want]
            if fitting:
                return max(fitting)
            raise ValueError(f"no rung at or below {text} (heights {list(heights)})")
        if text.isdigit() and 0 <= int(text) <= top:
            return int(text)
        raise ValueError(f"quality must be a rung 0..{top}, a height like 720p, best or low")
    fits = [i for i, b in enumerate(bitrates_bps) if b * duration_s / 8 <= budget_bytes]
    return max(fits) if fits else 0


class DownloadManager:
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
        self._rates: dict[str, _Rate] = {}
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

    async def _observe(self) -> None:
        self.library.time.observe_server(self.cp.last_server_time)

    async def pin_license_key(self) -> bytes:
        """The license server's public key: shipped or in the keyring (the bundled control
        plane's is provisioned when it starts), else learnt from the server on first use into
        the keyring. Never from the journal."""
        pinned = self.library.pinned_key(self.service)
        if pinned is not None:
            return pinned
        if self.service.startswith("bundled:"):
            raise OfflineError("The bundled control plane's license key was not provisioned; "
                               "restart Edgeplay.", code="license_invalid")
        raw = base64.b64decode(str((await self.cp.license_public_key())["public_key"]))
        self.library.pin(self.service, raw)
        return raw

    async def add(self, title_id: str, profile_id: str, *,
                  quality: str | int | None = None) -> Download:
        """Get the license and lay the download out in the journal (state ``queued``)."""
        lib = self.library
        existing = lib.for_title(title_id)
        if existing is not None and existing.state == "completed":
            raise OfflineError(f"{existing.title_name} is already downloaded.",
                               code="already_downloaded")
        if existing is not None and existing.state != "failed":
            self.check_not_owned(existing)
            log.info("download %s (%s, %s): not running anywhere: resuming it", existing.id,
                     existing.title_name, existing.state)
            return existing
        device_key = lib.device_key()
        public_key = await self.pin_license_key()
        title = await self.cp.title(title_id, profile_id)
        playback = await self.cp.start_playback(title_id, profile_id)
        mv = await self._multivariant(playback.multivariant_playlist, playback.manifest_url)
        pool = EdgePool.from_multivariant(mv, self.http, config=EdgePoolConfig())
        playlists = PathwayPlaylists(mv, self._fetch_text)
        variants = mv.pathway(mv.default_pathway).variants
        heights = [v.resolution[1] if v.resolution else None for v in variants]
        duration_s = float(title.get("duration_s") or playback.duration_s or 0.0)
        disk_free = free_bytes(lib.store.root)
        free = disk_free - self.config.min_free_bytes
        quota_left = (self.config.quota_bytes - lib.used_bytes()
                      if self.config.quota_bytes is not None else free)
        budget = min(self.config.title_budget_bytes, free, quota_left)
        try:
            rung = choose_rung(playlists.bitrates_bps, duration_s, max(budget, 0), quality,
                               heights)
        except ValueError as exc:
            raise OfflineError(f"Unknown quality: {exc}.", code="bad_quality") from None
        estimate = int(playlists.bitrates_bps[rung] * duration_s / 8)
        if estimate > free:
            raise OfflineError(f"There is not enough free disk space for {title.get('name')} "
                               f"(about {estimate / 1e6:.0f} MB needed, "
                               f"{size_text(disk_free)} free, of which "
                               f"{size_text(self.config.min_free_bytes)} stays spare). Free "
                               "some space or choose a lower quality.", code="disk_full")
        if estimate > quota_left:
            raise OfflineError(f"{title.get('name')} (about {estimate / 1e6:.0f} MB) does not "
                               f"fit the download quota ({max(quota_left, 0) / 1e6:.0f} MB "
                               "left). Delete a download, raise the quota in Settings, or choose "
                               "a lower quality.", code="quota")
        rendition = playlists.ladder[rung]
        timeline = await self._timeline(playlists, pool, rendition)
        signed = await self.cp.issue_offline_license(title_id, profile_id)
        await self._observe()
        lic = verify(signed, public_key)
        device_key.unwrap(lic.wrapped_key, lic.license_id)  # this device can use it
        creds = self.cp.credentials
        download = Download(
            id=f"dl_{uuid.uuid4().hex[:12]}", title_id=title_id,
            title_name=str(title.get("name") or title_id), profile_id=profile_id,
            account_id=creds.account_id if creds else lic.account_id,
            device_id=lic.device_id, service=self.service, rung=rung, rendition=rendition,
            bandwidth_bps=int(playlists.bitrates_bps[rung]), state="queued", error_code=None,
            error=None, duration_s=sum(s.duration_s for s in timeline), created_at=time.time(),
            completed_at=None, license=lic.to_json(), license_id=lic.license_id,
            expires_at=lic.expires_at, first_played_at=None, position_s=0.0,
            info={"audio": playback.raw.get("audio") or title.get("audio_languages") or [],
                  "subtitles": playback.raw.get("subtitles") or [],
                  "year": title.get("year"), "maturity_rating": title.get("maturity_rating"),
                  "genres": title.get("genres"), "synopsis": title.get("synopsis"),
                  "poster_url": title.get("poster_url"),
                  "media_sequence": timeline[0].sequence if timeline else 0,
                  "encrypted": timeline[0].key is not None,
                  "bitrate_bps": int(playlists.bitrates_bps[rung]),
                  "height": heights[rung]})
        lib.store.prepare(download.id)
        lib.add(download, [s.duration_s for s in timeline])
        log.info("download %s: %s, rung %d (%s), %d segments, license %s", download.id,
                 download.title_name, rung, rendition, len(timeline), lic.license_id)
        self._event(lib.get(download.id), force=True)
        return lib.get(download.id)

    async def _multivariant(self, inline: str | None, url: str) -> Multivariant:
        if inline is not None:
            return parse_multivariant(inline, url)
        return parse_multivariant(await self.cp.fetch_text(url), url)

    async def _fetch_text(self, edge: str, url: str) -> str:
        try:
            response = await self.http.get(url)
        except httpx.HTTPError as exc:
            raise _EdgeFailed(f"playlist: {type(exc).__name__}") from None
        if response.status_code == 403 and b"url_expired" in response.content:
            raise _Expired()
        if response.status_code >= 400:
            raise _EdgeFailed(f"playlist: HTTP {response.status_code}",
                              hard=response.status_code >= 500)
        return response.text

    async def _timeline(self, playlists: PathwayPlaylists, pool: EdgePool,
                        rendition: str) -> tuple[Segment, ...]:
        failures: dict[str, str] = {}
        for status in pool.ordered():
            try:
                playlist = await playlists.playlist(status.name, rendition)
            except (_EdgeFailed, ManifestError, _Expired) as exc:
                failures[status.name] = str(exc) or type(exc).__name__
                pool.report_failure(status.name, failures[status.name])
                continue
            if not playlist.endlist or not playlist.segments:
                raise OfflineError("This title is not a finished video (a live or empty "
                                   "playlist), so it cannot be downloaded.", code="manifest")
            return playlist.segments
        raise NoEdgeError(failures)

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

    async def release_owed(self) -> int:
        """Release the licenses of deleted downloads that the control plane has not heard of
        yet (it was unreachable); returns how many went through."""
        done = 0
        for license_id in self.library.journal.releases_owed(self.service):
            try:
                await self.cp.release_offline_license(license_id)
            except NotFoundError:
                pass  # gone already: nothing to free
            except PlayerError as exc:
                log.info("license %s not released yet: %s", license_id, exc)
                break
            self.library.journal.released(license_id)
            done += 1
        return done

    async def renew(self, download_id: str) -> Download:
        """A new absolute expiry from the control plane (online), reporting the first play."""
        lib = self.library
        d = lib.get(download_id)
        if d.license_id is None:
            raise OfflineError("This download has no license to renew; download it again.",
                               code="license_invalid")
        public_key = await self.pin_license_key()
        try:
            signed = await self.cp.renew_offline_license(d.license_id,
                                                         lib.trusted_first_play(d))
        except (ConflictError, NotFoundError) as exc:
            raise OfflineError(f"The service no longer knows this download's license "
                               f"({exc.message}). Delete it and download it again.",
                               code="license_invalid") from exc
        await self._observe()
        lic = verify(signed, public_key)
        lib.device_key().unwrap(lic.wrapped_key, lic.license_id)
        lib.store_license(d, lic)
        log.info("download %s: license renewed until %s", d.id, time.ctime(lic.expires_at))
        return lib.get(download_id)

    async def report_first_plays(self) -> int:
        """Tell the control plane of first plays it has not heard of (played offline): it
        keeps the earliest and signs the license again with it. Returns how many went."""
        lib, done = self.library, 0
        played = [(d, first) for d in lib.all() if d.service == self.service
                  and d.license_id is not None and d.license is not None
                  and (first := lib.trusted_first_play(d)) is not None]
        if not played:
            return 0
        public_key = await self.pin_license_key()
        for d, first in played:
            assert d.license is not None and d.license_id is not None
            try:
                known = licenses.from_json(d.license, public_key).first_played_at
            except OfflineError:
                known = None
            if known is not None and known <= first:
                continue
            try:
                signed = await self.cp.report_first_play(d.license_id, first)
            except (ConflictError, NotFoundError) as exc:
                log.info("first play of %s not taken: %s", d.id, exc)
                continue
            except PlayerError as exc:
                log.info("first play of %s not reported yet: %s", d.id, exc)
                break
            await self._observe()
            lib.store_license(d, verify(signed, public_key))
            done += 1
        return done

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
        self._rates[download_id] = _Rate(clock=self._clock)
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

    async def _context(self, d: Download) -> _Context:
        playback = await self.cp.start_playback(d.title_id, d.profile_id)
        await self._observe()
        mv = await self._multivariant(playback.multivariant_playlist, playback.manifest_url)
        pool = EdgePool.from_multivariant(mv, self.http, config=EdgePoolConfig())
        playlists = PathwayPlaylists(mv, self._fetch_text)
        if d.rendition not in playlists.ladder:
            raise OfflineError(f"The service no longer offers the quality this download "
                               f"started with ({d.rendition}); delete it and download again.",
                               code="manifest")
        lic = self.library.license_of(d)
        key = self.library.device_key().unwrap(lic.wrapped_key, lic.license_id)
        return _Context(playlists, pool, d.rendition, key)

    async def _refresh(self, ctx: _Context, d: Download, seen: int) -> None:
        """New signed URLs (and possibly new edges), once for every waiter."""
        if ctx.generation != seen:
            return
        ctx.generation += 1
        playback = await self.cp.start_playback(d.title_id, d.profile_id)
        mv = await self._multivariant(playback.multivariant_playlist, playback.manifest_url)
        ctx.pool.set_edges(edges_of(mv))
        ctx.playlists.reset(mv)
        log.info("download %s: signed URLs refreshed", d.id)

    async def _download(self, d: Download) -> None:
        ctx = await self._context(d)
        await self._subtitles(ctx, d)
        todo = [s.index for s in self.library.journal.segments(d.id) if not s.done]
        queue: asyncio.Queue[int] = asyncio.Queue()
        for index in todo:
            queue.put_nowait(index)

        async def worker() -> None:
            while True:
                try:
                    index = queue.get_nowait()
                except asyncio.QueueEmpty:
                    return
                self._check_going(d)
                await self._segment(ctx, d, index)
                self._event(self.library.get(d.id))

        workers = [asyncio.ensure_future(worker())
                   for _ in range(max(1, min(self.config.parallel_segments, len(todo))))]
        try:
            await asyncio.gather(*workers)
        finally:
            for w in workers:
                w.cancel()
            await asyncio.gather(*workers, return_exceptions=True)
        final = self.library.get(d.id)
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

    async def _subtitles(self, ctx: _Context, d: Download) -> None:
        """Every subtitle language of the rendition, from the best edge that serves it."""
        mv = ctx.playlists.multivariant
        store = self.library.store
        languages: list[str] = []
        for pathway in mv.pathways:
            group = pathway.variants[0].subtitles_group
            languages += [s.language for s in mv.subtitles.get(group or "", ())
                          if s.language and s.language not in languages]
        for language in languages:
            path = store.subtitle_path(d.id, language)
            if path.exists():
                continue
            for status in ctx.pool.ordered():
                group = mv.pathway(status.name).variants[0].subtitles_group
                rendition = next((s for s in mv.subtitles.get(group or "", ())
                                  if s.language == language and s.uri), None)
                if rendition is None or rendition.uri is None:
                    continue
                try:
                    text = await self._fetch_text(status.name, rendition.uri)
                    parts = [await self._fetch_text(status.name, segment.uri) for segment
                             in parse_media_playlist(text, rendition.uri).segments]
                    await asyncio.to_thread(store.write_file, path, "\n".join(parts).encode())
                    break
                except (_EdgeFailed, _Expired, ManifestError) as exc:
                    log.info("subtitles %s from %s failed: %s", language, status.name, exc)

    async def _segment(self, ctx: _Context, d: Download, index: int) -> None:
        """Fetch one segment into its file, failing over across the edges."""
        rounds = 0
        tried: set[str] = set()
        refreshed: set[str] = set()
        while True:
            edge = self._pick(ctx.pool, tried)
            if edge is None:
                rounds += 1
                if rounds > self.config.retry_rounds:
                    failures = {n: ctx.pool.status(n).last_error or "failed"
                                for n in ctx.pool.names}
                    raise NoEdgeError(failures)
                delay = min(30.0, self.config.retry_backoff_s * 2 ** (rounds - 1))
                log.warning("download %s segment %d: every edge failed; again in %.0f s",
                            d.id, index, delay)
                await asyncio.sleep(delay)
                with contextlib.suppress(PlayerError, httpx.HTTPError):
                    await self._refresh(ctx, d, ctx.generation)
                tried.clear()
                continue
            seen = ctx.generation
            try:
                segment = await ctx.playlists.segment(edge, ctx.rendition, index)
                await self._fetch(ctx, d, edge, segment, index)
                return
            except _Expired:
                if edge in refreshed:
                    failure = _EdgeFailed("403 url_expired after a refresh")
                else:
                    refreshed.add(edge)
                    await self._refresh(ctx, d, seen)
                    continue
            except _EdgeFailed as exc:
                failure = exc
            except ManifestError as exc:
                failure = _EdgeFailed(f"playlist: {exc.message}")
            log.info("download %s segment %d: %s failed (%s); trying another edge", d.id,
                     index, edge, failure.cause)
            ctx.pool.report_failure(edge, failure.cause, hard=failure.hard)
            tried.add(edge)

    @staticmethod
    def _pick(pool: EdgePool, tried: set[str]) -> str | None:
        try:
            return pool.best(exclude=tried).name
        except NoEdgeError:
            pass
        return next((s.name for s in pool.ordered() if s.name not in tried), None)

    async def _fetch(self, ctx: _Context, d: Download, edge: str, segment: Segment,
                     index: int) -> None:
        store = self.library.store
        offset, digest = await asyncio.to_thread(store.open_part, d.id, index)
        headers = {"Accept-Encoding": "identity"}
        if offset:
            headers["Range"] = f"bytes={offset}-"
        part = store.part_path(d.id, index)
        start = self._clock()
        received = 0
        rate = self._rates.setdefault(d.id, _Rate(clock=self._clock))
        expected: int | None = None
        try:
            async with self.http.stream("GET", segment.uri, headers=headers) as response:
                status = response.status_code
                if status == 416 and offset:
                    # The part is already whole (stopped between its last byte and its
                    # rename), or longer than the file: check it, or start over.
                    total = response.headers.get("Content-Range", "").rpartition("/")[2]
                    if not (total.isdigit() and int(total) == offset):
                        store.discard_part(d.id, index)
                        raise _EdgeFailed("a part longer than the segment: starting over")
                    expected = offset
                elif status >= 400:
                    body = await response.aread()
                    if status == 403 and b"url_expired" in body:
                        raise _Expired()
                    raise _EdgeFailed(f"HTTP {status}", hard=status >= 500)
                elif offset and status == 200:
                    log.info("segment %d: %s ignored the Range: starting over", index, edge)
                    offset, digest = 0, hashlib.sha256()
                elif offset and not _range_starts_at(response, offset):
                    raise _EdgeFailed("the Range answer does not match")
                if expected is None:
                    await self._body(response, part, offset, digest, d, rate)
                    length = response.headers.get("Content-Length")
                    expected = offset + int(length) if length and length.isdigit() else None
                received = part.stat().st_size - offset if part.exists() else 0
        except httpx.TransportError as exc:
            received = part.stat().st_size - offset if part.exists() else 0
            raise _EdgeFailed(f"{type(exc).__name__} after {received} bytes",
                              hard=not received) from None
        size = offset + received
        if expected is not None and size < expected:
            raise _EdgeFailed(f"truncated: {size} of {expected} bytes")
        try:
            await asyncio.to_thread(_check_segment, part, ctx.key,
                                    segment.key.iv_for(segment.sequence) if segment.key else None)
        except CorruptSegment as exc:
            store.discard_part(d.id, index)
            raise _EdgeFailed(f"corrupt: {exc.message}", hard=True) from None
        await asyncio.to_thread(store.finish_part, d.id, index)
        self.library.journal.segment_done(d.id, index, size, digest.hexdigest())
        ctx.pool.report_success(edge, received, max(self._clock() - start, 1e-6))

    async def _body(self, response: httpx.Response, part: Path, offset: int,
                    digest: Any, d: Download, rate: _Rate) -> None:
        """Write the body to the part file after its first ``offset`` bytes, hashing as it
        goes; a write that fails (a full disk) drops the part: only this segment is lost."""
        received = 0
        try:
            with part.open("r+b" if offset else "wb") as f:
                f.seek(offset)
                f.truncate()
                async for chunk in response.aiter_raw():
                    f.write(chunk)
                    digest.update(chunk)
                    received += len(chunk)
                    rate.add(len(chunk))
                    self._live(d, received)
        except OSError as exc:
            # Measured before the part is dropped (which frees room again): the true free space.
            full = disk_full_error(part.parent) if is_disk_full(exc) else None
            part.unlink(missing_ok=True)
            if full is not None:
                raise full from None
            raise

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


def _range_starts_at(response: httpx.Response, offset: int) -> bool:
    if response.status_code != 206:
        return False
    unit, _, rest = response.headers.get("Content-Range", "").partition(" ")
    first = rest.partition("-")[0]
    return unit == "bytes" and first.isdigit() and int(first) == offset


def _on_edge(uri: str, base_url: str) -> str:
    return uri if uri.startswith(("http://", "https://")) else base_url.rstrip("/") + uri


def _check_segment(path: os.PathLike[str], key: bytes, iv: bytes | None) -> None:
    """The segment must decrypt (PKCS#7) to whole, in-sync TS packets, as when streaming.
    Read and checked 64 KiB at a time (StreamDecryptor): no segment-sized buffers."""
    stream = StreamDecryptor(key if iv is not None else None, iv)
    with open(path, "rb") as f:
        while chunk := f.read(64 * 1024):
            stream.feed(chunk)
    stream.finish()
