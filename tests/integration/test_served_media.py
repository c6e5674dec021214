"""The real test catalog, served end to end: control plane → signed edge URLs → libmpv decodes.

mpv fetches the media playlist from an edge, the key from the control plane (with the
device's bearer token) and the encrypted segments from the edge, exactly what a plain HLS player
does with Edgeplay's backend. Both formats: ``test`` (CMAF: fMP4 video renditions with a clear
init segment, separate audio renditions) and ``test-ts`` (MPEG-TS, audio muxed).
"""

from __future__ import annotations

import base64
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
from player.keysource import b64url
from tests.conftest import StartControlPlane
from tests.integration.cp_client import Device, new_device

pytestmark = [pytest.mark.slow]


@pytest.fixture(scope="module", params=["test", "test-ts"])
def real_catalog_cp(start_module_controlplane: StartControlPlane,
                    request: pytest.FixtureRequest) -> ReadyInfo:
    cache = Path(platformdirs.user_cache_dir("edgeplay")) / "controlplane"
    args = ("--catalog", str(request.param), "--cache-dir", str(cache))
    return start_module_controlplane(catalog_args=args).ready


def _decrypt(key: bytes, sequence: int, body: bytes) -> bytes:
    decryptor = Cipher(algorithms.AES(key), modes.CBC(sequence.to_bytes(16, "big"))).decryptor()
    unpadder = padding.PKCS7(128).unpadder()
    return unpadder.update(decryptor.update(body) + decryptor.finalize()) + unpadder.finalize()


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


def test_served_segments_decrypt_to_transport_stream_or_fragmented_mp4(device: Device) -> None:
    title = _playable_title(device)
    play, variants = _variants(device, str(title["id"]))
    fmp4 = play["segment_container"] == "fmp4"
    cenc = play.get("drm") == "clearkey"  # CMAF: CENC cbcs, the key from the ClearKey licence
    if cenc:
        kid = bytes.fromhex(str(play["key_ids"][0]))
        answer = device.post("/v1/licenses/clearkey", {"kids": [b64url(kid)],
                                                       "type": "temporary"})
        assert answer.status_code == 200, answer.text
        (entry,) = answer.json()["keys"]
        assert entry["kid"] == b64url(kid)
        assert len(base64.urlsafe_b64decode(entry["k"] + "==")) == 16
    else:
        key = device.get(play["license_url"].removeprefix(device.ready.base_url)).content
        assert len(key) == 16
    master = m3u8.loads(device.http.get(play["manifest_url"]).text)
    pathway = play["pathways"][0]["id"]
    audio = [m for m in master.media if m.type == "AUDIO" and m.group_id == f"audio-{pathway}"]
    assert [(m.language, m.default) for m in audio] == ([("en", "YES"), ("es", "NO")] if fmp4
                                                        else [])
    uris = [v.uri for v in variants] + [m.uri for m in audio]
    for uri in uris:
        media = m3u8.loads(device.http.get(uri).text, uri=uri)
        assert media.is_endlist and media.target_duration in range(1, 6)
        seq = media.media_sequence or 0
        body = device.http.get(media.segments[1].absolute_uri).content
        # CENC encrypts samples in place: the box structure is served as it is
        plain = body if cenc else _decrypt(key, seq + 1, body)
        if not fmp4:
            assert len(plain) % 188 == 0 and plain[::188] == b"\x47" * (len(plain) // 188)
            continue
        # CMAF: the init segment is served (signed like the media) and clear
        init = device.http.get(media.segment_map[0].absolute_uri)
        assert init.status_code == 200 and init.headers["content-type"] == "video/mp4"
        assert init.content[4:8] == b"ftyp"
        assert (b"tenc" in init.content) == cenc  # the protection is signalled in the init
        assert b"moof" in plain[:200] and b"mdat" in plain


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
            # MPEG-TS: both languages muxed; CMAF: the video renditions carry no audio
            assert len(audio) == (0 if variant.stream_info.audio else 2)
        finally:
            player.terminate()
