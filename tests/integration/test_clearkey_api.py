"""The ClearKey licence endpoint and the CENC playback answer, on the pipeline's own CMAF output
(two 8 s titles: one everywhere on the basic plan, one for premium accounts in GB)."""

from __future__ import annotations

import base64
import dataclasses
import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from controlplane.pipeline.build import build_catalog
from controlplane.pipeline.ffmpeg import find_ffmpeg
from controlplane.pipeline.profiles import PROFILES
from controlplane.pipeline.titles import TitleSpec
from player.bundled import ReadyInfo
from tests.conftest import StartControlPlane
from tests.integration.cp_client import Device, new_device

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def cenc_catalog(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("cenc-media") / "catalog"
    specs = (TitleSpec("open", "Open", "Everywhere.", 2024, ("Drama",), 8.0, "PG"),
             TitleSpec("gb-only", "GB Only", "Premium, GB.", 2024, ("Drama",), 8.0, "PG",
                       regions=("GB",), requires_plan="premium"))
    profile = dataclasses.replace(PROFILES["test"], name="cenc-api", titles=specs)
    build_catalog(find_ffmpeg(), profile, root, lambda _line: None)
    return root


@pytest.fixture(scope="module")
def fleet(start_module_controlplane: StartControlPlane, cenc_catalog: Path) -> ReadyInfo:
    return start_module_controlplane(catalog_args=("--catalog-dir", str(cenc_catalog))).ready


@pytest.fixture()
def http() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=10) as client:
        yield client


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _start(device: Device, title_id: str) -> httpx.Response:
    return device.post("/v1/playback", {"title_id": title_id, "profile_id": device.profile_id})


def test_a_cenc_title_says_clearkey_and_its_licence_holds_the_titles_key(
        fleet: ReadyInfo, http: httpx.Client, cenc_catalog: Path) -> None:
    device = new_device(http, fleet, plan="basic")
    answer = _start(device, "open").json()
    assert answer["drm"] == "clearkey"
    assert answer["license_url"] == f"{fleet.base_url}/v1/licenses/clearkey"
    kid = bytes.fromhex(answer["key_ids"][0])
    playlist = http.get(answer["multivariant_playlist"].splitlines()[-1]).text
    assert f'URI="{answer["license_url"]}"' in playlist and "METHOD=SAMPLE-AES" in playlist
    r = device.post("/v1/licenses/clearkey", {"kids": [_b64url(kid)], "type": "temporary"})
    assert r.status_code == 200 and r.headers["Cache-Control"] == "no-store"
    keys = r.json()["keys"]
    assert r.json()["type"] == "temporary" and len(keys) == 1 and keys[0]["kty"] == "oct"
    assert _unb64url(keys[0]["kid"]) == kid
    assert _unb64url(keys[0]["k"]) == (cenc_catalog / "titles/open/key.bin").read_bytes()


def test_the_licence_is_refused_outside_the_titles_region_and_plan(
        fleet: ReadyInfo, http: httpx.Client, cenc_catalog: Path) -> None:
    entries = json.loads((cenc_catalog / "catalog.json").read_text())["titles"]
    kid = _b64url(bytes.fromhex(next(t["cenc_kid"] for t in entries if t["id"] == "gb-only")))
    basic_gb = new_device(http, fleet, plan="basic", account_region="GB")
    assert basic_gb.post("/v1/licenses/clearkey", {"kids": [kid]}).json()["error"] \
        == "plan_required"
    premium_us = new_device(http, fleet, plan="premium", account_region="US")
    r = premium_us.post("/v1/licenses/clearkey", {"kids": [kid]})
    assert r.status_code == 403 and r.json()["error"] == "region_blocked"
    premium_gb = new_device(http, fleet, plan="premium", account_region="GB")
    assert premium_gb.post("/v1/licenses/clearkey", {"kids": [kid]}).status_code == 200


@pytest.mark.parametrize("body, status, code", [
    ({"kids": [_b64url(bytes(16))]}, 404, "unknown_key"),
    ({"kids": []}, 400, "bad_request"),
    ({"kids": ["not base64!"]}, 400, "bad_request"),
    ({"kids": [_b64url(bytes(8))]}, 400, "bad_request"),
    ({"kids": [_b64url(bytes(16))] * 17}, 400, "bad_request"),
    ({"kids": [_b64url(bytes(16))], "type": "persistent-license"}, 400, "bad_request"),
    ({"kids": [_b64url(bytes(16))], "extra": 1}, 400, "bad_request"),
    ([1, 2], 400, "bad_request"),
])
def test_bad_licence_requests_get_a_json_error(
        fleet: ReadyInfo, http: httpx.Client, body: object, status: int, code: str) -> None:
    device = new_device(http, fleet)
    r = device.post("/v1/licenses/clearkey", body)
    assert (r.status_code, r.json()["error"]) == (status, code)


def test_the_licence_needs_the_bearer_token(fleet: ReadyInfo, http: httpx.Client) -> None:
    r = http.post(f"{fleet.base_url}/v1/licenses/clearkey", json={"kids": [_b64url(bytes(16))]})
    assert r.status_code == 401


def test_dash_serves_the_mpd_with_a_signed_base_url_per_edge_and_the_licence_url(
        fleet: ReadyInfo, http: httpx.Client, cenc_catalog: Path) -> None:
    from mpegdash.parser import MPEGDASHParser

    device = new_device(http, fleet)
    answer = device.post("/v1/playback", {"title_id": "open", "profile_id": device.profile_id,
                                          "format": "dash"}).json()
    assert answer["format"] == "dash" and answer["multivariant_playlist"] is None
    assert answer["manifest_url"].endswith("/manifest.mpd")
    r = http.get(answer["manifest_url"])
    assert r.status_code == 200 and r.headers["Content-Type"].startswith("application/dash+xml")
    mpd = MPEGDASHParser.parse(r.text)
    bases = mpd.base_urls
    assert [b.service_location for b in bases] == [p["id"] for p in answer["pathways"]]
    assert len(bases) == len(fleet.edges) >= 2
    adaptation = mpd.periods[0].adaptation_sets[0]
    protections = {p.scheme_id_uri: p for p in adaptation.content_protections}
    mp4 = protections["urn:mpeg:dash:mp4protection:2011"]
    assert mp4.value == "cbcs" and mp4.cenc_default_kid.replace("-", "") == answer["key_ids"][0]
    assert "urn:uuid:e2719d58-a985-b3c9-781a-b030af78d30e" in protections
    assert f"<dashif:laurl>{answer['license_url']}</dashif:laurl>" in r.text
    # every BaseURL serves the segments the template names, as the pipeline stored them
    template = adaptation.representations[0].segment_templates[0]
    first = template.media.replace("$Number%05d$", "00000")
    stored = (cenc_catalog / "titles/open" / first).read_bytes()
    for base in bases:
        assert http.get(base.base_url_value + first).content == stored


def test_an_unknown_format_is_refused(fleet: ReadyInfo, http: httpx.Client) -> None:
    device = new_device(http, fleet)
    r = device.post("/v1/playback", {"title_id": "open", "profile_id": device.profile_id,
                                     "format": "smooth"})
    assert (r.status_code, r.json()["error"]) == (400, "bad_request")
