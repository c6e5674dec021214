"""The offline library: the journal, the files, the device key and the license rules together.

``OfflineLibrary(root, device=…)`` owns ``<root>/downloads.sqlite3`` (the journal) and
``<root>/media/`` (the files). Everything that decides whether a download may play lives here
and needs no network: the trusted license key, the trusted time, the license policy, the device
key, the segment index. What decides it is anchored in the keyring (:mod:`offline.anchors`): the
journal's license-relevant columns are sealed with a keyring secret, and the trusted-time mark,
first plays and play counts live in the keyring. :mod:`offline.downloader` fills the library;
:mod:`offline.playback` plays from it.
"""

from __future__ import annotations

import base64
import dataclasses
import json
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import keyring.backend

from offline import license as licenses
from offline.anchors import TrustAnchors, records_changed
from offline.devicekey import DeviceKey, DeviceKeyStore
from offline.errors import OfflineError
from offline.journal import Download, Journal
from offline.license import OfflineLicense
from offline.store import Store
from offline.trustedtime import DEFAULT_TOLERANCE_S, TrustedTime
from player.private import private_dir

log = logging.getLogger("offline")

MiB = 1024 * 1024


@dataclass(frozen=True)
class OfflineConfig:
    quota_bytes: int | None = None
    """Most bytes all downloads together may take; None: only the disk's free space. The
    app's setting (Settings → Downloads). Default None."""
    min_free_bytes: int = 256 * MiB
    """A download pauses (``disk_full``) rather than leave less free space than this, bytes.
    Default 256 MiB."""
    title_budget_bytes: int = 2048 * MiB
    """With no quality chosen, the best rung whose whole title fits this many bytes (and the
    space left). Default 2 GiB: a 2-hour film at about 2.2 Mbit/s."""
    concurrent_downloads: int = 2
    """Downloads running at once; more wait in the queue. Default 2."""
    parallel_segments: int = 2
    """Segments of one download in flight at once (hides each request's round trip). Default 2."""
    retry_rounds: int = 5
    """When every edge fails, how many rounds (with back-off) before the download is marked
    failed (resume retries it). Default 5."""
    retry_backoff_s: float = 1.0
    """First back-off between rounds, doubling each time, seconds. Default 1."""
    progress_interval_s: float = 0.5
    """Least time between two progress events of one download, seconds. Default 0.5."""
    rollback_tolerance_s: float = DEFAULT_TOLERANCE_S
    """How far the local clock may be behind the trusted-time mark, seconds. Default 300."""


class OfflineLibrary:
    def __init__(self, root: Path, *, device: str | None = None,
                 keyring_backend: keyring.backend.KeyringBackend | None = None,
                 config: OfflineConfig | None = None,
                 wall: Callable[[], float] = time.time) -> None:
        self.root = Path(root)
        self.config = config or OfflineConfig()
        private_dir(self.root)
        self.journal = Journal(self.root / "downloads.sqlite3")
        self.store = Store(self.root / "media")
        device = device or str(self.root.resolve())
        self.device = device
        """The keyring's name for this device (another process opening the library uses it)."""
        self.keys = DeviceKeyStore(device, backend=keyring_backend)
        self.anchors = TrustAnchors(device, backend=keyring_backend)
        self.time = TrustedTime(self.anchors, wall=wall,
                                tolerance_s=self.config.rollback_tolerance_s)
        self._device_key: DeviceKey | None = None

    def close(self) -> None:
        self.journal.close()

    # --- the device key and the trusted license keys ------------------------------------------

    def device_key(self) -> DeviceKey:
        """This device's key (made on first use; needs the keyring)."""
        if self._device_key is None:
            self._device_key = self.keys.load_or_create()
        return self._device_key

    def pinned_key(self, service: str) -> bytes | None:
        """The license server key trusted for ``service`` (shipped, or in the keyring)."""
        return self.anchors.license_key(service)

    def pin(self, service: str, public_key_raw: bytes) -> None:
        """Trust ``public_key_raw`` for ``service``'s licenses (the bundled control plane's key
        from its ready line, or a server's on first use): kept in the keyring; a different one
        later is an error, never a silent switch."""
        self.anchors.trust_license_key(service, public_key_raw)

    def forget_keys(self) -> None:
        """Delete this device's keyring entries (tests; a device being wiped)."""
        self.keys.delete()
        self.anchors.delete()

    # --- finding downloads --------------------------------------------------------------------

    def all(self) -> list[Download]:
        return self.journal.all()

    def get(self, download_id: str) -> Download:
        d = self.journal.get(download_id)
        if d is None:
            raise OfflineError(f"There is no download {download_id!r}.",
                               code="unknown_download")
        return d

    def find(self, what: str) -> Download:
        """A download by id, title id or title name (case-insensitive)."""
        downloads = self.all()
        for match in (lambda d: d.id == what, lambda d: d.title_id == what,
                      lambda d: d.title_name.casefold() == what.casefold(),
                      lambda d: what.casefold() in d.title_name.casefold()):
            found = [d for d in downloads if match(d)]
            if found:
                return found[-1]
        raise OfflineError(f"Nothing called {what!r} is downloaded. `edgeplay downloads list` "
                           "shows what is.", code="not_downloaded")

    def for_title(self, title_id: str) -> Download | None:
        return next((d for d in reversed(self.all()) if d.title_id == title_id), None)

    # --- licenses ------------------------------------------------------------------------------

    def add(self, d: Download, durations_s: Sequence[float]) -> Download:
        """Write a new download into the journal, sealed."""
        sealed = dataclasses.replace(d, seal=self.anchors.seal(dataclasses.asdict(d)))
        self.journal.add(sealed, durations_s)
        return self.get(d.id)

    def check_records(self, d: Download) -> None:
        """Raise ``records_changed`` unless the download's license-relevant columns are the
        ones this device sealed, and its first play and play count the keyring's."""
        row = self.journal.row(d.id)
        if row is None or not self.anchors.check_seal(row, row.get("seal")):
            self._other_device(d)
            raise records_changed()
        if d.license_id:
            first, count = self.anchors.plays(d.license_id)
            if first is not None and (row["first_played_at"] != first
                                      or row["play_count"] != count):
                raise records_changed()

    def _other_device(self, d: Download) -> None:
        """A row this device never sealed may be a copy from another device: say so when its
        content key is wrapped to another device key (the seal alone cannot tell)."""
        try:
            signed = json.loads(d.license or "")
            payload = json.loads(base64.b64decode(signed["license"]))
            wrapped, license_id = payload["wrapped_key"], str(payload["license_id"])
        except (ValueError, TypeError, KeyError):
            return
        try:
            self.device_key().unwrap(wrapped, license_id)
        except OfflineError as exc:
            if exc.code == "wrong_device":
                raise

    def trusted_first_play(self, d: Download) -> float | None:
        """This device's first play of ``d``: the keyring's record, else the sealed row's."""
        first = self.anchors.plays(d.license_id)[0] if d.license_id else None
        if first is not None:
            return first
        try:
            self.check_records(d)
        except OfflineError:
            return None
        return d.first_played_at

    def license_of(self, d: Download) -> OfflineLicense:
        if d.license is None:
            raise OfflineError("This download has no license yet; download it again.",
                               code="license_invalid")
        self.check_records(d)
        key = self.pinned_key(d.service)
        if key is None:
            raise OfflineError("No license key is trusted for the service this download came "
                               "from; delete it and download it again.", code="license_invalid")
        return licenses.from_json(d.license, key)

    def store_license(self, d: Download, lic: OfflineLicense) -> None:
        """Keep a (new or renewed) license, verified by the caller, and seal the row again:
        the first play and play count come from the keyring, so a renewal restores records
        that were changed."""
        if lic.title_id != d.title_id:
            raise OfflineError("The service sent a license for another title.",
                               code="license_invalid")
        self.time.observe_server(lic.server_time)
        first = self.trusted_first_play(d)
        count = self.anchors.plays(lic.license_id)[1] if first is not None else 0
        self.journal.write_sealed(d.id, self.anchors.seal, license=lic.to_json(),
                                  license_id=lic.license_id, expires_at=lic.expires_at,
                                  first_played_at=first, play_count=count)

    def remaining_s(self, d: Download) -> float | None:
        """Seconds this download may still play (None: no readable license). Never raises
        for a rolled-back clock: it uses the larger of the clock and the mark."""
        try:
            lic = self.license_of(d)
        except OfflineError:
            return None
        now = max(self.time.wall(), self.time.mark)
        return licenses.remaining_s(lic, now, d.first_played_at)

    def content_key(self, d: Download, *, first_play: bool = False) -> bytes:
        """The content key, if the download may play now; ``first_play`` records a play (the
        first one starts the window). Raises :class:`OfflineError` with what to do (every
        check is local)."""
        if not d.complete:
            raise OfflineError(f"{d.title_name} has not finished downloading "
                               f"({d.segments_done} of {d.segment_count} parts). Resume the "
                               "download first.", code="incomplete")
        lic = self.license_of(d)
        now = self.time.now()
        licenses.check_playable(lic, now, d.first_played_at)
        key = self.device_key().unwrap(lic.wrapped_key, lic.license_id)
        if first_play:
            first, count = self.anchors.record_play(lic.license_id, now)
            self.journal.write_sealed(d.id, self.anchors.seal, first_played_at=first,
                                      play_count=count)
            if count == 1:
                log.info("%s: first offline play; the viewing window starts now", d.title_name)
        return key

    # --- integrity -----------------------------------------------------------------------------

    def damaged_segments(self, d: Download) -> list[int]:
        """Finished segments whose file is missing or changed (reads every file)."""
        return [s.index for s in self.journal.segments(d.id)
                if s.done and not self.store.check(d.id, s.index, s.size, s.sha256)]

    def mark_for_repair(self, d: Download, indices: list[int]) -> None:
        """Fetch ``indices`` again on the next resume."""
        for index in indices:
            self.store.segment_path(d.id, index).unlink(missing_ok=True)
        self.journal.segments_undone(d.id, indices)
        self.journal.set_state(d.id, "paused", error_code="tampered",
                               error=f"{len(indices)} damaged part(s) to fetch again")

    def used_bytes(self) -> int:
        """What the downloads take, from the journal (no walk over the files)."""
        return self.journal.used_bytes()
