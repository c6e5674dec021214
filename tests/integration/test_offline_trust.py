"""The local user edits the journal of real downloads (as with sqlite3): the edit is found on the
next play, nothing else is lost, a renewal online restores the download, and the server learns
the first play at the next contact."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import pytest

from offline.downloader import DownloadManager
from offline.errors import OfflineError
from offline.journal import Download
from offline.library import OfflineLibrary
from player.bundled import ReadyInfo
from tests.conftest import StartControlPlane
from tests.integration.test_offline import catalog, download, library, signed_in

__all__ = ["catalog", "library"]  # fixtures shared with test_offline.py


@pytest.fixture(scope="module")
def fleet(start_module_controlplane: StartControlPlane, catalog: Path) -> ReadyInfo:
    return start_module_controlplane(catalog_args=("--catalog-dir", str(catalog)), edges=1).ready


def _sql(lib: OfflineLibrary, statement: str, *args: object) -> None:
    db = sqlite3.connect(lib.journal.path)
    db.execute(statement, args)
    db.commit()
    db.close()


def test_a_journal_edit_is_found_and_renew_restores_it(fleet: ReadyInfo,
                                                       library: OfflineLibrary) -> None:
    async def main() -> None:
        async with signed_in(fleet.base_url, library) as (cp, profile):
            a, _ = await download(library, cp, profile, "title0", quality="0")
            b, _ = await download(library, cp, profile, "title3", quality="0")
            library.content_key(library.get(a.id), first_play=True)
            played_at = library.get(a.id).first_played_at
            _sql(library, "UPDATE downloads SET first_played_at = NULL WHERE id = ?", a.id)
            _sql(library, "DELETE FROM meta")
            with pytest.raises(OfflineError) as caught:
                library.content_key(library.get(a.id), first_play=True)
            assert caught.value.code == "records_changed"
            assert "This download's records were changed; renew it online" in str(caught.value)
            assert library.content_key(library.get(b.id), first_play=True)  # b still plays
            manager = DownloadManager(library, cp, "svc")
            try:
                renewed = await manager.renew(a.id)
                assert library.content_key(renewed)
                assert renewed.first_played_at == played_at  # the window was not reset
                # The server heard of the first plays (a's with the renewal, b's now).
                assert await manager.report_first_plays() == 1
                assert await manager.report_first_plays() == 0
                server = {x["id"]: x["first_played_at"]
                          for x in (await cp.offline_licenses())["licenses"]}
            finally:
                await manager.aclose()
            assert server[a.license_id] == pytest.approx(played_at, abs=1)
            assert server[library.get(b.id).license_id] is not None

    asyncio.run(main())


def test_the_download_refuses_a_key_planted_in_the_journal(fleet: ReadyInfo,
                                                           library: OfflineLibrary) -> None:
    async def main() -> Download:
        async with signed_in(fleet.base_url, library) as (cp, profile):
            d, _ = await download(library, cp, profile, "title0", quality="0")
            return d

    d = asyncio.run(main())
    trusted = library.pinned_key("svc")
    _sql(library, "INSERT OR REPLACE INTO meta VALUES ('pin:svc', 'AAAA')")
    assert library.pinned_key("svc") == trusted and trusted is not None
    assert library.content_key(library.get(d.id))
