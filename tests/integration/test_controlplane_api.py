"""Contract tests: every control-plane endpoint against the real server process."""

from __future__ import annotations

import base64
import json
import time
from pathlib import Path
from typing import Any

import httpx
import m3u8
import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from player.bundled import ReadyInfo
from tests.conftest import StartControlPlane
from tests.integration.cp_client import (
    Device,
    advance_clock,
    catalog_titles,
    new_device,
    register,
)


def _title(catalog_dir: Path, **match: Any) -> dict[str, Any]:
    for t in catalog_titles(catalog_dir):
        if all(t.get(k) == v for k, v in match.items()):
            return t
    raise AssertionError(f"the fake catalog has no title with {match}")


def _everywhere(catalog_dir: Path) -> dict[str, Any]:
    return next(t for t in catalog_titles(catalog_dir)
                if t["regions"] == ["*"] and t.get("requires_plan", "basic") == "basic")


def _assert_error(r: httpx.Response, status: int, code: str) -> None:
    assert r.status_code == status, r.text
    body = r.json()
    assert body["error"] == code, body
    assert body["message"]


# --- ready line and generic errors ------------------------------------------------------------

def test_ready_line_names_every_url(controlplane: ReadyInfo, http: httpx.Client) -> None:
    raw = controlplane.raw
    assert raw["event"] == "ready" and raw["format"] == 1 and raw["pid"] > 0
    assert len(controlplane.edges) == 3
    assert [name for name, _ in controlplane.edges] == ["edge-1", "edge-2", "edge-3"]
    assert http.get(controlplane.base_url + "/").json()["api"] == "v1"
    for _, url in controlplane.edges:
        assert http.get(url + "/health").status_code == 200
    assert http.get(controlplane.admin_url + "/admin/state",
                    headers=controlplane.admin_headers).status_code == 200
    assert len(base64.b64decode(controlplane.license_public_key)) == 32


def test_unknown_routes_and_bad_bodies_get_json_errors(controlplane: ReadyInfo,
                                                       http: httpx.Client) -> None:
    base = controlplane.base_url
    _assert_error(http.get(base + "/v1/nothing-here"), 404, "not_found")
    _assert_error(http.delete(base + "/v1/accounts"), 405, "method_not_allowed")
    _assert_error(http.post(base + "/v1/accounts", content=b"{not json"), 400, "bad_request")
    _assert_error(http.post(base + "/v1/accounts", json=[1, 2]), 400, "bad_request")
    _assert_error(http.post(base + "/v1/accounts", json={"email": "x@y.z"}), 400, "bad_request")
    _assert_error(http.post(base + "/v1/accounts", json={"email": 5, "password": "abcdefg"}),
                  400, "bad_request")


# --- accounts, devices, tokens ----------------------------------------------------------------

def test_registration_login_and_token_checks(controlplane: ReadyInfo, http: httpx.Client) -> None:
    base = controlplane.base_url
    email = f"reg{time.time_ns()}@example.test"
    assert http.post(base + "/v1/accounts", json={"email": email, "password": "pw1234"}
                     ).status_code == 201
    _assert_error(http.post(base + "/v1/accounts", json={"email": email, "password": "pw1234"}),
                  409, "account_exists")
    _assert_error(http.post(base + "/v1/devices", json={"email": email, "password": "nope!!",
                                                        "name": "tv"}), 401, "bad_credentials")
    _assert_error(http.post(base + "/v1/devices", json={"email": email, "password": "pw1234",
                                                        "name": "tv", "region": "USA"}),
                  400, "bad_request")
    _assert_error(http.post(base + "/v1/devices", json={"email": email, "password": "pw1234",
                                                        "name": "tv", "public_key": "abc"}),
                  400, "bad_request")
    zeros = base64.b64encode(bytes(32)).decode()
    _assert_error(http.post(base + "/v1/devices", json={"email": email, "password": "pw1234",
                                                        "name": "tv", "public_key": zeros}),
                  400, "bad_request")
    device = register(http, controlplane, email, "pw1234")
    assert device.tokens["token_type"] == "Bearer" and device.tokens["expires_in"] > 0
    me = device.get("/v1/me").json()
    assert me["account"]["email"] == email and me["device"]["has_public_key"]
    r = http.post(base + "/v1/auth/login", json={"email": email, "password": "pw1234",
                                                 "device_id": device.tokens["device_id"]})
    assert r.status_code == 200 and r.json()["access_token"] != device.tokens["access_token"]
    _assert_error(http.get(base + "/v1/me"), 401, "missing_token")
    r = http.get(base + "/v1/me", headers={"Authorization": "Bearer garbage"})
    _assert_error(r, 401, "invalid_token")
    assert r.headers["WWW-Authenticate"].startswith("Bearer")


def test_access_tokens_expire_and_refresh_tokens_rotate(start_controlplane: StartControlPlane,
                                                        http: httpx.Client) -> None:
    ready = start_controlplane(policy=("access_token_ttl_s=1",), edges=1).ready
    device = new_device(http, ready)
    assert device.get("/v1/me").status_code == 200
    advance_clock(http, ready, 2)
    _assert_error(device.get("/v1/me"), 401, "token_expired")
    old_refresh = device.tokens["refresh_token"]
    r = http.post(ready.base_url + "/v1/auth/refresh", json={"refresh_token": old_refresh})
    assert r.status_code == 200
    device.tokens = r.json()
    assert device.get("/v1/me").status_code == 200
    _assert_error(http.post(ready.base_url + "/v1/auth/refresh",
                            json={"refresh_token": old_refresh}), 401, "invalid_token")


# --- profiles ---------------------------------------------------------------------------------

def test_profiles_are_managed_and_private(controlplane: ReadyInfo, http: httpx.Client) -> None:
    alice, bob = new_device(http, controlplane), new_device(http, controlplane)
    r = alice.post("/v1/profiles", {"name": "Kids", "kids": True, "avatar_color": "#00aa00"})
    assert r.status_code == 201 and r.json()["kids"] is True
    kid = r.json()["id"]
    r = alice.http.patch(f"{controlplane.base_url}/v1/profiles/{kid}", headers=alice.auth,
                         json={"name": "Little ones"})
    assert r.json()["name"] == "Little ones"
    _assert_error(alice.post("/v1/profiles", {"name": "x", "avatar_color": "red"}), 400,
                  "bad_request")
    # Bob cannot see, change or delete Alice's profiles.
    assert [p["id"] for p in bob.get("/v1/profiles").json()["profiles"]] == [bob.profile_id]
    r = bob.http.delete(f"{controlplane.base_url}/v1/profiles/{kid}", headers=bob.auth)
    _assert_error(r, 404, "unknown_profile")
    _assert_error(bob.get(f"/v1/catalog/rows?profile_id={kid}"), 404, "unknown_profile")
    for i in range(3):
        assert alice.post("/v1/profiles", {"name": f"p{i}"}).status_code == 201
    _assert_error(alice.post("/v1/profiles", {"name": "sixth"}), 409, "profile_limit")
    r = bob.http.delete(f"{controlplane.base_url}/v1/profiles/{bob.profile_id}", headers=bob.auth)
    _assert_error(r, 409, "last_profile")


# --- catalog ----------------------------------------------------------------------------------

def test_catalog_rows_titles_search_and_art(controlplane: ReadyInfo, http: httpx.Client,
                                            fake_catalog_dir: Path) -> None:
    device = new_device(http, controlplane)
    pid = device.profile_id
    titles = device.get(f"/v1/catalog/titles?profile_id={pid}").json()["titles"]
    assert len(titles) == len(catalog_titles(fake_catalog_dir))
    first = titles[0]
    for key in ("id", "name", "synopsis", "year", "genres", "duration_s", "maturity_rating",
                "audio_languages", "subtitle_languages", "regions", "poster_url", "backdrop_url"):
        assert key in first, key
    rows = device.get(f"/v1/catalog/rows?profile_id={pid}").json()["rows"]
    assert rows and all(row["items"] for row in rows)
    assert rows[0]["id"] != "continue-watching"  # nothing watched yet
    name = first["name"]
    hits = device.get(f"/v1/catalog/search?profile_id={pid}&q={name[:4]}").json()["results"]
    assert hits[0]["id"] == first["id"]
    typo = name[0] + name[2:]  # one letter dropped
    hits = device.get(f"/v1/catalog/search?profile_id={pid}&q={typo}").json()["results"]
    assert first["id"] in [h["id"] for h in hits]
    _assert_error(device.get(f"/v1/catalog/search?profile_id={pid}&q="), 400, "bad_request")
    _assert_error(device.get(f"/v1/catalog/titles/nope?profile_id={pid}"), 404, "unknown_title")
    for title in titles:  # more like this: the same genre, never the title itself
        details = device.get(f"/v1/catalog/titles/{title['id']}?profile_id={pid}").json()
        similar = details["more_like_this"]
        assert title["id"] not in [t["id"] for t in similar]
        assert all(set(t["genres"]) & set(title["genres"]) for t in similar)
        assert {t["id"] for t in similar} == {
            t["id"] for t in titles
            if t["id"] != title["id"] and set(t["genres"]) & set(title["genres"])}
    art = http.get(first["poster_url"])
    assert art.status_code == 200 and art.headers["content-type"] == "image/jpeg"
    assert http.get(controlplane.base_url + f"/v1/art/{first['id']}/secret.jpg").status_code == 404


def test_kids_profile_sees_only_kids_titles(controlplane: ReadyInfo, http: httpx.Client,
                                            fake_catalog_dir: Path) -> None:
    device = new_device(http, controlplane)
    kid = device.post("/v1/profiles", {"name": "Kid", "kids": True}).json()["id"]
    adult_only = _title(fake_catalog_dir, maturity_rating="R")
    ids = [t["id"] for t in device.get(f"/v1/catalog/titles?profile_id={kid}").json()["titles"]]
    assert adult_only["id"] not in ids and ids
    r = device.post("/v1/playback", {"title_id": adult_only["id"], "profile_id": kid})
    _assert_error(r, 403, "maturity")


# --- playback, steering, keys, signed edge URLs -----------------------------------------------

def test_playback_refuses_with_reasons(controlplane: ReadyInfo, http: httpx.Client,
                                       fake_catalog_dir: Path) -> None:
    gb_only = _title(fake_catalog_dir, regions=["GB"])
    premium = _title(fake_catalog_dir, requires_plan="premium")
    us = new_device(http, controlplane)
    r = us.post("/v1/playback", {"title_id": gb_only["id"], "profile_id": us.profile_id})
    _assert_error(r, 403, "region_blocked")
    assert "GB" in r.json()["message"]
    gb = new_device(http, controlplane, account_region="GB")
    r = gb.post("/v1/playback", {"title_id": gb_only["id"], "profile_id": gb.profile_id})
    assert r.status_code == 201, r.text
    basic = new_device(http, controlplane, plan="basic")
    r = basic.post("/v1/playback", {"title_id": premium["id"], "profile_id": basic.profile_id})
    _assert_error(r, 403, "plan_required")
    _assert_error(basic.get(f"/v1/licenses/streaming/{premium['id']}"), 403, "plan_required")
    r = us.post("/v1/playback", {"title_id": "no-such-title", "profile_id": us.profile_id})
    _assert_error(r, 404, "unknown_title")


def _start(device: Device, title_id: str) -> dict[str, Any]:
    r = device.post("/v1/playback", {"title_id": title_id, "profile_id": device.profile_id})
    assert r.status_code == 201, r.text
    return dict(r.json())


def test_multivariant_playlist_steering_key_and_segments(controlplane: ReadyInfo,
                                                         http: httpx.Client,
                                                         fake_catalog_dir: Path) -> None:
    title = _everywhere(fake_catalog_dir)
    device = new_device(http, controlplane)
    play = _start(device, title["id"])
    assert play["resume_position_s"] == 0.0
    assert play["segment_durations_s"] == title["segment_durations_s"]
    assert {p["id"] for p in play["pathways"]} == {"edge-1", "edge-2", "edge-3"}

    text = http.get(play["manifest_url"]).text
    inline = play["multivariant_playlist"]
    assert inline.splitlines()[:4] == text.splitlines()[:4]  # same playlist, tokens re-signed
    assert len(inline.splitlines()) == len(text.splitlines())
    playlist = m3u8.loads(text)
    assert playlist.is_variant
    renditions = len(title["renditions"])
    assert len(playlist.playlists) == 3 * renditions
    by_pathway: dict[str, int] = {}
    for variant in playlist.playlists:
        pathway = variant.stream_info.pathway_id
        by_pathway[pathway] = by_pathway.get(pathway, 0) + 1
        assert variant.stream_info.bandwidth > 0 and variant.stream_info.resolution
    assert by_pathway == {"edge-1": renditions, "edge-2": renditions, "edge-3": renditions}
    steering = playlist.content_steering
    assert steering.uri == play["steering_url"]
    assert steering.pathway_id == play["pathways"][0]["id"]

    manifest = http.get(play["steering_url"]).json()
    assert manifest["VERSION"] == 1 and manifest["TTL"] > 0
    assert manifest["RELOAD-URI"].startswith(controlplane.base_url)
    assert sorted(manifest["PATHWAY-PRIORITY"]) == ["edge-1", "edge-2", "edge-3"]

    media_url = playlist.playlists[0].absolute_uri
    media = m3u8.loads(http.get(media_url).text, uri=media_url)
    assert media.keys[0].method == "AES-128" and media.keys[0].uri == play["license_url"]
    assert len(media.segments) == len(title["segment_durations_s"])

    _assert_error(http.get(play["license_url"]), 401, "missing_token")
    key = device.get(play["license_url"].removeprefix(controlplane.base_url))
    assert key.status_code == 200
    assert key.content == (fake_catalog_dir / "titles" / title["id"] / "key.bin").read_bytes()

    segment_url = media.segments[0].absolute_uri
    segment = http.get(segment_url)
    assert segment.status_code == 200 and len(segment.content) > 0
    token = segment_url.split("/v1/media/")[1].split("/")[0]
    _assert_error(http.get(segment_url.replace(token, token[:-1] + ("0" if token[-1] != "0"
                                                                      else "1"))),
                  403, "bad_signature")
    subs = [m for m in playlist.media if m.type == "SUBTITLES"]
    assert len(subs) == 3 * len(title["subtitles"])
    sub_playlist = m3u8.loads(http.get(subs[0].uri).text)
    assert http.get(sub_playlist.segments[0].uri).text.startswith("WEBVTT")


def test_signed_urls_expire(start_controlplane: StartControlPlane, http: httpx.Client,
                            fake_catalog_dir: Path) -> None:
    ready = start_controlplane(policy=("signed_url_ttl_s=1",), edges=1).ready
    device = new_device(http, ready)
    play = _start(device, _everywhere(fake_catalog_dir)["id"])
    variant = m3u8.loads(http.get(play["manifest_url"]).text).playlists[0].uri
    assert http.get(variant).status_code == 200
    advance_clock(http, ready, 2)
    _assert_error(http.get(variant), 403, "url_expired")
    fresh = m3u8.loads(http.get(play["manifest_url"]).text).playlists[0].uri
    assert http.get(fresh).status_code == 200


def test_steering_ranks_a_dead_edge_last(start_controlplane: StartControlPlane,
                                         http: httpx.Client, fake_catalog_dir: Path) -> None:
    cp = start_controlplane(policy=("steering_ttl_s=1", "health_interval_s=0.2"))
    ready = cp.ready
    device = new_device(http, ready)
    play = _start(device, _everywhere(fake_catalog_dir)["id"])
    first = http.get(play["steering_url"]).json()["PATHWAY-PRIORITY"][0]
    r = http.post(f"{ready.admin_url}/admin/edges/{first}/faults", json={"kind": "hang"},
                  headers=ready.admin_headers)
    assert r.status_code == 200, r.text
    # The control plane's health checks are real requests with a real timeout: wait for them.
    deadline = time.monotonic() + 30
    while (order := http.get(play["steering_url"]).json()["PATHWAY-PRIORITY"])[-1] != first:
        assert time.monotonic() < deadline, f"{first} still ranked {order}"
        time.sleep(0.1)
    assert order[0] != first
    http.delete(f"{ready.admin_url}/admin/edges/{first}/faults", headers=ready.admin_headers)


# --- offline licenses -------------------------------------------------------------------------

def _open_license(ready: ReadyInfo, device: Device, body: dict[str, Any]) -> tuple[dict[str, Any],
                                                                                    bytes]:
    raw = base64.b64decode(body["license"])
    Ed25519PublicKey.from_public_bytes(base64.b64decode(ready.license_public_key)).verify(
        base64.b64decode(body["signature"]), raw)
    payload = json.loads(raw)
    wrapped = payload["wrapped_key"]
    assert device.private_key is not None
    shared = device.private_key.exchange(
        X25519PublicKey.from_public_bytes(base64.b64decode(wrapped["ephemeral_public_key"])))
    lid = payload["license_id"].encode()
    kek = HKDF(hashes.SHA256(), 32, salt=lid, info=b"edgeplay offline content key v1"
               ).derive(shared)
    key = AESGCM(kek).decrypt(base64.b64decode(wrapped["nonce"]),
                              base64.b64decode(wrapped["ciphertext"]), lid)
    return payload, key


def test_offline_license_is_signed_wrapped_and_limited(start_controlplane: StartControlPlane,
                                                       http: httpx.Client,
                                                       fake_catalog_dir: Path) -> None:
    ready = start_controlplane(policy=("download_limit=2", "offline_license_ttl_s=100",
                                       "offline_playback_window_s=30"), edges=1).ready
    title = _everywhere(fake_catalog_dir)
    pk = http.get(ready.base_url + "/v1/licenses/public-key").json()
    assert pk["public_key"] == ready.license_public_key and pk["algorithm"] == "Ed25519"

    keyless = new_device(http, ready, with_key=False)
    r = keyless.post("/v1/licenses/offline", {"title_id": title["id"],
                                              "profile_id": keyless.profile_id})
    _assert_error(r, 400, "no_device_key")

    device = new_device(http, ready)
    ask = {"title_id": title["id"], "profile_id": device.profile_id}
    asked_at = time.time()
    r = device.post("/v1/licenses/offline", ask)
    answered_at = time.time()
    assert r.status_code == 201, r.text
    payload, key = _open_license(ready, device, r.json())
    assert key == (fake_catalog_dir / "titles" / title["id"] / "key.bin").read_bytes()
    assert payload["expires_at"] - payload["issued_at"] == pytest.approx(100)
    assert payload["playback_window_s"] == 30 and payload["first_played_at"] is None
    assert asked_at - 1 <= payload["server_time"] <= answered_at + 1  # the unshifted clock

    # A tampered license fails verification.
    tampered = base64.b64decode(r.json()["license"]).replace(b'"expires_at":', b'"expires_at":9')
    with pytest.raises(InvalidSignature):
        Ed25519PublicKey.from_public_bytes(base64.b64decode(ready.license_public_key)).verify(
            base64.b64decode(r.json()["signature"]), tampered)

    second = device.post("/v1/licenses/offline", ask)
    assert second.status_code == 201
    _assert_error(device.post("/v1/licenses/offline", ask), 403, "download_limit")

    lid = payload["license_id"]
    advance_clock(http, ready, 60)
    played = payload["issued_at"] + 0.5  # the server keeps a first play between issue and now
    renewed = device.post(f"/v1/licenses/offline/{lid}/renew", {"first_played_at": played})
    assert renewed.status_code == 200, renewed.text
    new_payload, _ = _open_license(ready, device, renewed.json())
    assert new_payload["expires_at"] > payload["expires_at"]
    assert new_payload["first_played_at"] == played

    r = device.post(f"/v1/licenses/offline/{lid}/release")
    assert r.status_code == 200 and r.json()["active"] == 1
    _assert_error(device.post(f"/v1/licenses/offline/{lid}/renew"), 409, "license_released")
    assert device.post("/v1/licenses/offline", ask).status_code == 201

    other = new_device(http, ready)
    _assert_error(other.post(f"/v1/licenses/offline/{lid}/release"), 404, "unknown_license")

    # Moving server time past the expiry frees the slots.
    http.post(ready.admin_url + "/admin/clock", json={"offset_s": 200},
              headers=ready.admin_headers)
    assert device.get("/v1/licenses/offline").json()["licenses"] == []
    assert device.post("/v1/licenses/offline", ask).status_code == 201
    http.post(ready.admin_url + "/admin/clock", json={"offset_s": 0},
              headers=ready.admin_headers)


# --- progress and telemetry -------------------------------------------------------------------

def test_progress_last_write_wins_and_feeds_continue_watching(controlplane: ReadyInfo,
                                                             http: httpx.Client,
                                                             fake_catalog_dir: Path) -> None:
    titles = catalog_titles(fake_catalog_dir)
    a = titles[0]
    b = next(t for t in titles if t["id"] != a["id"] and t["regions"] == ["*"]
             and t["requires_plan"] == "basic")
    device = new_device(http, controlplane)
    pid = device.profile_id
    path = f"/v1/profiles/{pid}/progress/{a['id']}"
    r = device.put(path, {"position_s": 3.0, "duration_s": a["duration_s"],
                          "event_time_ms": 2000})
    assert r.json()["applied"] is True
    stale = device.put(path, {"position_s": 1.0, "event_time_ms": 1000})
    assert stale.json()["applied"] is False and stale.json()["progress"]["position_s"] == 3.0
    assert stale.json()["progress"]["device_name"] == "test device"
    assert device.get(path).json()["position_s"] == 3.0
    _assert_error(device.put(path, {"position_s": -1.0, "event_time_ms": 3000}), 400,
                  "bad_request")
    _assert_error(device.put(path, {"position_s": 1.0}), 400, "bad_request")
    device.put(f"/v1/profiles/{pid}/progress/{b['id']}",
               {"position_s": 2.0, "event_time_ms": 5000})
    rows = device.get(f"/v1/catalog/rows?profile_id={pid}").json()["rows"]
    assert rows[0]["id"] == "continue-watching"
    assert [i["id"] for i in rows[0]["items"]] == [b["id"], a["id"]]  # most recent first
    # Near the end counts as watched and leaves the row; unwatched resets it.
    device.put(path, {"position_s": a["duration_s"] * 0.97, "event_time_ms": 6000})
    assert device.get(path).json()["watched"] == 1
    cw = device.get(f"/v1/catalog/rows?profile_id={pid}").json()["rows"][0]
    assert [i["id"] for i in cw["items"]] == [b["id"]]
    r = device.post(f"{path}/watched", {"watched": False, "event_time_ms": 7000})
    assert r.json()["progress"]["watched"] == 0 and r.json()["progress"]["position_s"] == 0.0
    play = _start(device, b["id"])
    assert play["resume_position_s"] == 2.0
    # Two events in the same millisecond: the one written last lists first.
    device.put(f"/v1/profiles/{pid}/progress/{b['id']}", {"position_s": 4.0, "event_time_ms": 8000})
    device.put(path, {"position_s": 5.0, "event_time_ms": 8000})
    listed = device.get(f"/v1/profiles/{pid}/progress").json()["items"]
    assert [i["title_id"] for i in listed] == [a["id"], b["id"]]
    # Another profile of the same account sees none of it.
    other = device.post("/v1/profiles", {"name": "Other"}).json()["id"]
    assert device.get(f"/v1/profiles/{other}/progress").json()["items"] == []


def test_progress_batch_replays_in_order(controlplane: ReadyInfo, http: httpx.Client,
                                         fake_catalog_dir: Path) -> None:
    tid = catalog_titles(fake_catalog_dir)[0]["id"]
    device = new_device(http, controlplane)
    items = [
        {"profile_id": device.profile_id, "title_id": tid, "position_s": 1.0,
         "event_time_ms": 100},
        {"profile_id": "prof_not_mine", "title_id": tid, "position_s": 1.0, "event_time_ms": 150},
        {"profile_id": device.profile_id, "title_id": tid, "position_s": 2.0,
         "event_time_ms": 200},
        "garbage",
    ]
    results = device.post("/v1/progress/batch", {"items": items}).json()["results"]
    assert [r["applied"] for r in results] == [True, False, True, False]
    assert results[1]["error"] == "unknown_profile"
    assert device.get(f"/v1/profiles/{device.profile_id}/progress/{tid}").json()[
        "position_s"] == 2.0


def test_telemetry_intake(controlplane: ReadyInfo, http: httpx.Client) -> None:
    device = new_device(http, controlplane)
    events = [{"type": "session_start", "n": i} for i in range(3)]
    r = device.post("/v1/telemetry", {"events": events})
    assert r.status_code == 202 and r.json()["accepted"] == 3
    _assert_error(device.post("/v1/telemetry", {"events": [{"no": "type"}]}), 400, "bad_request")
    stored = http.get(controlplane.admin_url + "/admin/telemetry?limit=50",
                      headers=controlplane.admin_headers).json()["events"]
    mine = [e for e in stored if e["device_id"] == device.tokens["device_id"]]
    assert [e["event"]["n"] for e in mine] == [0, 1, 2]


# --- lifecycle --------------------------------------------------------------------------------

def test_sigterm_stops_control_plane_and_edges(start_controlplane: StartControlPlane,
                                               http: httpx.Client) -> None:
    cp = start_controlplane(edges=2)
    urls = [cp.ready.base_url] + [url for _, url in cp.ready.edges]
    assert cp.stop() == 0
    for url in urls:
        with pytest.raises(httpx.ConnectError):
            http.get(url + "/health", timeout=1)


def test_state_survives_a_restart(start_controlplane: StartControlPlane, http: httpx.Client,
                                  tmp_path: Path) -> None:
    cp = start_controlplane(edges=1, state_dir=tmp_path)
    device = new_device(http, cp.ready)
    pk = cp.ready.license_public_key
    cp.stop()
    again = start_controlplane(edges=1, state_dir=tmp_path).ready
    device.ready = again
    assert device.get("/v1/me").status_code == 200
    assert again.license_public_key == pk
