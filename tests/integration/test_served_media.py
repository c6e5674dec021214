"""The real test catalog, served end to end: control plane → signed edge URLs → libmpv decodes.

mpv fetches the media playlist from an edge, the AES-128 key from the control plane (with the
device's bearer token) and the encrypted segments from the edge, exactly what a plain HLS player
does with Edgeplay's backend.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import m3u8
import platformdirs
import pytest
from cryptography.hazmat.primitives import padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from player.bundled import ReadyInfo
from tests.conftest import StartControlPlane
from tests.integration.cp_client import Device, new_device

pytestmark = [pytest.mark.slow]


@pytest.fixture(scope="module")
def real_catalog_cp(start_module_controlplane: StartControlPlane) -> ReadyInfo:
    cache = Path(platformdirs.user_cache_dir("edgeplay")) / "controlplane"
    args = ("--catalog", "test", "--cache-dir", str(cache))
    return start_module_controlplane(catalog_args=args).ready


@pytest.fixture()
def device(real_catalog_cp: ReadyInfo) -> Iterator[Device]:
    with httpx.Client(timeout=10) as http:
        yield new_device(http, real_catalog_cp)


def _playable_title(device: Device) -> dict[str, object]:
    titles = device.get(f"/v1/catalog/titles?profile_id={device.profile_id}").json()["titles"]
    return next(t for t in titles if t["playable"])


def _variants(device: Device, title_id: str) -> tuple[dict[str, object], list[m3u8.Playlist]]:
    r = device.post("/v1/playback", {"title_id": title_id, "profile_id": device.profile_id})
    assert r.status_code == 201, r.text
    play = r.json()
    master = m3u8.loads(device.http.get(play["manifest_url"]).text)
    first_pathway = play["pathways"][0]["id"]
    return play, [v for v in master.playlists if v.stream_info.pathway_id == first_pathway]


def test_served_segments_decrypt_to_transport_stream(device: Device) -> None:
    title = _playable_title(device)
    play, variants = _variants(device, str(title["id"]))
    key = device.get(play["license_url"].removeprefix(device.ready.base_url)).content
    assert len(key) == 16
    for variant in variants:
        media = m3u8.loads(device.http.get(variant.uri).text, uri=variant.uri)
        assert media.is_endlist and media.target_duration in range(1, 6)
        seq = media.media_sequence or 0
        body = device.http.get(media.segments[1].absolute_uri).content
        decryptor = Cipher(algorithms.AES(key), modes.CBC((seq + 1).to_bytes(16, "big"))
                           ).decryptor()
        unpadder = padding.PKCS7(128).unpadder()
        plain = unpadder.update(decryptor.update(body) + decryptor.finalize()) + unpadder.finalize()
        assert len(plain) % 188 == 0 and plain[::188] == b"\x47" * (len(plain) // 188)


@pytest.mark.mpv
def test_libmpv_plays_every_rendition_from_the_edges(device: Device) -> None:
    import mpv

    title = _playable_title(device)
    _, variants = _variants(device, str(title["id"]))
    assert len(variants) == 5
    token = device.tokens["access_token"]
    for variant in variants:
        # A fresh player per rendition: nothing carries over from the previous file.
        player = mpv.MPV(vo="null", ao="null", ytdl=False,
                         http_header_fields=f"Authorization: Bearer {token}")
        try:
            width, height = variant.stream_info.resolution
            player.play(variant.uri)
            deadline = time.monotonic() + 20
            while time.monotonic() < deadline:
                pos = player.time_pos
                if pos is not None and pos > 1.0 and player.width:
                    break
                time.sleep(0.05)
            assert (player.width, player.height) == (width, height), variant.uri
            assert (player.time_pos or 0) > 1.0
            audio = [t for t in player.track_list if t["type"] == "audio"]
            assert len(audio) == 2
        finally:
            player.terminate()
