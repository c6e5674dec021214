"""The license side of downloads (part of :class:`~offline.downloader.DownloadManager`): the
license server's trusted key, renewals, first plays reported, releases owed after a delete."""

from __future__ import annotations

import base64
import logging
import time

from offline import license as licenses
from offline.errors import OfflineError
from offline.journal import Download
from offline.library import OfflineLibrary
from offline.license import verify
from player.api import ControlPlaneClient
from player.errors import ConflictError, NotFoundError, PlayerError

log = logging.getLogger("offline.download")


class Licensing:
    library: OfflineLibrary
    cp: ControlPlaneClient
    service: str

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
