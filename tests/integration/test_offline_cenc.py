"""A download of the bundled pipeline's CENC (cbcs) CMAF title: the fragments stored exactly as
the edge served them (still CENC), the KIDs signed into the license with the content key wrapped
to the device; played offline in real libmpv with the control plane and edges gone; a tampered
wrapped key refused with a clear message."""

from __future__ import annotations

import asyncio
import base64
import json
from pathlib import Path

import pytest

from offline.downloader import DownloadManager
from offline.errors import OfflineError
from offline.journal import Download
from offline.library import OfflineLibrary
from offline.plan import Layout
from tests.conftest import StartControlPlane
from tests.integration.test_cmaf_playback import cmaf_catalog
from tests.integration.test_offline import library, signed_in
from tests.integration.test_offline_fmp4 import _play_offline

__all__ = ["cmaf_catalog", "library"]
pytestmark = [pytest.mark.mpv, pytest.mark.slow]


def test_a_cenc_title_downloads_and_plays_offline_with_its_device_bound_key(
        start_controlplane: StartControlPlane, cmaf_catalog: Path,
        library: OfflineLibrary) -> None:
    plane = start_controlplane(catalog_args=("--catalog-dir", str(cmaf_catalog)))
    entry = json.loads((cmaf_catalog / "catalog.json").read_text())["titles"][0]

    async def fetch() -> Download:
        async with signed_in(plane.ready.base_url, library) as (cp, profile):
            manager = DownloadManager(library, cp, "svc")
            try:
                d = await manager.add("long", profile, audio=["en"])
                manager.start(d.id)
                return await manager.wait(d.id)
            finally:
                await manager.aclose()

    done = asyncio.run(fetch())
    assert done.state == "completed" and done.error is None
    layout = Layout.of(done.info, done.rendition, [])
    assert all(t.cenc and not t.sealed for t in layout.tracks)
    lic = library.license_of(done)
    assert lic.key_ids == (bytes.fromhex(entry["cenc_kid"]),)
    # stored as served: the edge's CENC fragment, byte for byte
    first = layout.video.media[0]
    served = cmaf_catalog / "titles/long" / done.rendition / "seg_00000.m4s"
    assert library.store.segment_path(done.id, first.part).read_bytes() == served.read_bytes()

    plane.stop()  # no network from here on
    seen = asyncio.run(_play_offline(library, library.get(done.id), audio=False))
    assert seen["end"] == "eof" and seen["position_s"] >= 48 - 2.5

    # a flipped byte in the wrapped key's ciphertext: refused, with what to do
    signed = json.loads(lic.to_json())
    payload = json.loads(base64.b64decode(signed["license"]))
    ct = bytearray(base64.b64decode(payload["wrapped_key"]["ciphertext"]))
    ct[0] ^= 1
    payload["wrapped_key"]["ciphertext"] = base64.b64encode(bytes(ct)).decode()
    with pytest.raises(OfflineError) as refused:
        library.device_key().unwrap(payload["wrapped_key"], lic.license_id)
    assert refused.value.code == "wrong_device"
