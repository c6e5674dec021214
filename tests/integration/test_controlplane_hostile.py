"""Hostile input against the real control plane: every finding of the adversarial run, each a
request that used to be accepted or to end in a 500 (reproduced as with curl)."""

from __future__ import annotations

import json
import socket
import time
from pathlib import Path
from typing import Any

import httpx

from player.bundled import ReadyInfo
from tests.integration.cp_client import catalog_titles, new_device


def _error(r: httpx.Response, status: int, code: str | None = None) -> dict[str, Any]:
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/json"), r.headers
    body: dict[str, Any] = r.json()
    assert body["message"] and (code is None or body["error"] == code), body
    assert "Traceback" not in r.text
    return body


def _everywhere(catalog_dir: Path) -> str:
    return str(next(t["id"] for t in catalog_titles(catalog_dir)
                    if t["regions"] == ["*"] and t.get("requires_plan", "basic") == "basic"))


def _put_raw(http: httpx.Client, ready: ReadyInfo, device: Any, title: str,
             text: str) -> httpx.Response:
    return http.put(f"{ready.base_url}/v1/profiles/{device.profile_id}/progress/{title}",
                    content=text.encode(),
                    headers={**device.auth, "Content-Type": "application/json"})


def test_a_device_cannot_claim_another_region(controlplane: ReadyInfo, http: httpx.Client,
                                              fake_catalog_dir: Path) -> None:
    """MEDIUM: a US account registering a device with region "GB" played GB-only titles."""
    gb_only = next(t for t in catalog_titles(fake_catalog_dir) if t["regions"] == ["GB"])
    claimer = new_device(http, controlplane, region="GB")
    r = claimer.post("/v1/playback", {"title_id": gb_only["id"],
                                      "profile_id": claimer.profile_id})
    _error(r, 403, "region_blocked")
    assert claimer.get("/v1/me").json()["device"]["region"] == "US"


def test_progress_from_the_future_is_clamped_and_flagged(controlplane: ReadyInfo,
                                                         http: httpx.Client,
                                                         fake_catalog_dir: Path) -> None:
    """MEDIUM: ``event_time_ms: 1e15`` froze the profile's progress on every device."""
    title = _everywhere(fake_catalog_dir)
    device = new_device(http, controlplane)
    path = f"/v1/profiles/{device.profile_id}/progress/{title}"
    bad = device.put(path, {"position_s": 3.0, "event_time_ms": 10**15}).json()
    assert bad["applied"] is True and bad["clamped"] is True
    assert bad["progress"]["event_time_ms"] <= int(time.time() * 1000) + 60_000
    later = int(time.time() * 1000) + 1000
    good = device.put(path, {"position_s": 2.0, "event_time_ms": later}).json()
    assert good["applied"] is True and "clamped" not in good
    assert good["progress"]["position_s"] == 2.0


def test_non_finite_numbers_are_refused_with_400(controlplane: ReadyInfo, http: httpx.Client,
                                                 fake_catalog_dir: Path) -> None:
    """LOW–MEDIUM: ``position_s: NaN`` was a 500; ``Infinity`` was stored and answered as bare
    ``Infinity`` (not JSON)."""
    title = _everywhere(fake_catalog_dir)
    device = new_device(http, controlplane)
    now = int(time.time() * 1000)
    for number in ("NaN", "Infinity", "-Infinity", "1e400"):
        r = _put_raw(http, controlplane, device, title,
                     f'{{"position_s": {number}, "event_time_ms": {now}}}')
        _error(r, 400, "bad_request")
    _error(_put_raw(http, controlplane, device, title,
                    f'{{"position_s": 5, "event_time_ms": {10**30}}}'), 400, "bad_request")
    assert device.get(f"/v1/profiles/{device.profile_id}/progress/{title}").status_code == 404


def test_deep_nesting_is_refused_with_400(controlplane: ReadyInfo, http: httpx.Client) -> None:
    """LOW–MEDIUM: deeply nested JSON was a 500 (RecursionError)."""
    deep = "[" * 100_000 + "]" * 100_000
    for path in ("/v1/accounts", "/v1/devices", "/v1/auth/refresh"):
        _error(http.post(controlplane.base_url + path, content=deep.encode(),
                         headers={"Content-Type": "application/json"}), 400, "bad_request")
    shallow = {"email": "x@y.z", "password": "abcdefg", "extra": [[[[1]]]]}
    assert http.post(controlplane.base_url + "/v1/accounts", json=shallow).status_code != 500


def test_another_accounts_device_id_is_refused(controlplane: ReadyInfo, http: httpx.Client,
                                               fake_catalog_dir: Path) -> None:
    """LOW–MEDIUM: another account's device id was accepted and its name echoed."""
    title = _everywhere(fake_catalog_dir)
    mine, theirs = new_device(http, controlplane), new_device(http, controlplane)
    now = int(time.time() * 1000)
    r = mine.put(f"/v1/profiles/{mine.profile_id}/progress/{title}",
                 {"position_s": 5.0, "event_time_ms": now,
                  "device_id": theirs.tokens["device_id"]})
    _error(r, 404, "unknown_device")
    batch = mine.post("/v1/progress/batch", {"items": [
        {"profile_id": mine.profile_id, "title_id": title, "position_s": 5.0,
         "event_time_ms": now, "device_id": theirs.tokens["device_id"]}]}).json()
    assert batch["results"][0]["error"] == "unknown_device"
    own = mine.put(f"/v1/profiles/{mine.profile_id}/progress/{title}",
                   {"position_s": 5.0, "event_time_ms": now,
                    "device_id": mine.tokens["device_id"]})
    assert own.json()["progress"]["device_name"] == "test device"


def test_an_oversized_header_gets_a_json_error(controlplane: ReadyInfo) -> None:
    """LOW: an oversized header got aiohttp's plain-text error."""
    host, port = controlplane.base_url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=5) as conn:
        conn.sendall(b"GET /v1/health HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 20_000
                     + b"\r\n\r\n")
        raw = b""
        while b"\r\n\r\n" not in raw or not raw.rstrip().endswith(b"}"):
            chunk = conn.recv(65536)
            if not chunk:
                break
            raw += chunk
    head, _, body = raw.partition(b"\r\n\r\n")
    status = int(head.split()[1])
    assert 400 <= status < 500, head
    assert b"application/json" in head.lower()
    answer = json.loads(body)
    assert answer["error"] and answer["message"]


def test_the_admin_api_wants_its_token_json_and_a_loopback_host(controlplane: ReadyInfo,
                                                                 http: httpx.Client) -> None:
    """LOW–MEDIUM: the admin API took ``text/plain`` bodies, any ``Host``, and no token (a web
    page could reach it by DNS rebinding)."""
    admin, good = controlplane.admin_url, controlplane.admin_headers
    assert controlplane.admin_token
    _error(http.get(admin + "/admin/state"), 401, "admin_token")
    _error(http.get(admin + "/admin/state", headers={"Authorization": "Bearer nope"}), 401)
    _error(http.get(admin + "/admin/state", headers={**good, "Host": "evil.example:80"}),
           403, "bad_host")
    _error(http.post(admin + "/admin/clock", content=b'{"offset_s": 0}',
                     headers={**good, "Content-Type": "text/plain"}), 415)
    assert http.get(admin + "/admin/state", headers=good).status_code == 200
    assert http.get(admin + "/admin/state",
                    headers={**good, "Host": "localhost"}).status_code == 200
    assert http.post(admin + "/admin/clock", json={"offset_s": 0},
                     headers=good).status_code == 200
    _error(http.get(admin + "/admin/telemetry?limit=x", headers=good), 400, "bad_request")


def test_the_server_keeps_the_earliest_first_play(controlplane: ReadyInfo, http: httpx.Client,
                                                  fake_catalog_dir: Path) -> None:
    """The server learns the first play at the next contact; a later report (a reset window)
    does not move it, and renewal keeps the earlier one."""
    device = new_device(http, controlplane)
    r = device.post("/v1/licenses/offline", {"title_id": _everywhere(fake_catalog_dir),
                                             "profile_id": device.profile_id})
    assert r.status_code == 201, r.text
    lic = r.json()["payload"]
    issued = lic["issued_at"]
    path = f"/v1/licenses/offline/{lic['license_id']}"
    future = device.post(path + "/first-play", {"first_played_at": issued + 10**6}).json()
    assert issued <= future["payload"]["first_played_at"] <= time.time() + 60  # now, at most
    assert future["payload"]["expires_at"] == lic["expires_at"]
    first = device.post(path + "/first-play", {"first_played_at": issued - 1000}).json()
    assert first["payload"]["first_played_at"] == issued  # never before the issue
    later = device.post(path + "/first-play", {"first_played_at": issued + 50}).json()
    assert later["payload"]["first_played_at"] == issued
    renewed = device.post(path + "/renew", {"first_played_at": issued + 99}).json()
    assert renewed["payload"]["first_played_at"] == issued
    _error(device.post(path + "/first-play", {"first_played_at": "soon"}), 400, "bad_request")
