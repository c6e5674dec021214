"""Device-code sign-in against the real control plane: start, confirm (app or /activate page),
poll (pending, slow_down, tokens once), expiry, wrong codes, denial, reuse."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from player.bundled import ReadyInfo
from tests.integration.cp_client import Device, advance_clock, new_device

ALPHABET = set("BCDFGHJKLMNPQRSTVWXZ")


@pytest.fixture(scope="module")
def cp(start_module_controlplane: Any) -> ReadyInfo:
    """This module's own control plane: its tests move the server clock."""
    return start_module_controlplane().ready  # type: ignore[no-any-return]


def _start(http: httpx.Client, ready: ReadyInfo) -> dict[str, Any]:
    r = http.post(ready.base_url + "/v1/auth/device/code", json={"name": "Living-room TV"})
    assert r.status_code == 201, r.text
    return dict(r.json())


def _poll(http: httpx.Client, ready: ReadyInfo, pairing: dict[str, Any]) -> httpx.Response:
    return http.post(ready.base_url + "/v1/auth/device/token",
                     json={"device_code": pairing["device_code"]})


def _error(r: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert r.status_code == status, r.text
    body = dict(r.json())
    assert body["error"] == code and body["message"], body
    return body


def _confirm(device: Device, code: str, allow: bool = True) -> httpx.Response:
    return device.post("/v1/auth/device/confirm", {"user_code": code, "allow": allow})


def test_a_tv_signs_in_with_a_code_a_signed_in_app_confirms(cp: ReadyInfo,
                                                           http: httpx.Client) -> None:
    pairing = _start(http, cp)
    code = pairing["user_code"]
    assert len(code) == 9 and code[4] == "-" and set(code.replace("-", "")) <= ALPHABET
    assert pairing["verification_uri"] == cp.base_url + "/activate"
    assert pairing["expires_in"] == 600 and pairing["interval"] == 5
    _error(_poll(http, cp, pairing), 400, "authorization_pending")
    # polling again at once: slow_down, and the interval grows by 5 s
    assert _error(_poll(http, cp, pairing), 400, "slow_down")["interval"] == 10
    phone = new_device(http, cp)
    r = _confirm(phone, code.lower().replace("-", " "))  # typed loosely: still the code
    assert r.status_code == 200 and r.json() == {"confirmed": True,
                                                 "device_name": "Living-room TV"}
    _error(_confirm(phone, code), 409, "code_used")
    advance_clock(http, cp, 11)
    tokens = _poll(http, cp, pairing)
    assert tokens.status_code == 200, tokens.text
    tv = Device(http, cp, tokens.json(), None, "")
    me = tv.get("/v1/me").json()
    assert me["account"]["id"] == phone.get("/v1/me").json()["account"]["id"]
    assert me["device"]["id"] != phone.tokens["device_id"]
    advance_clock(http, cp, 11)
    _error(_poll(http, cp, pairing), 400, "invalid_grant")  # tokens only once


def test_wrong_and_expired_codes_are_refused_with_reasons(cp: ReadyInfo,
                                                          http: httpx.Client) -> None:
    ready = cp
    phone = new_device(http, ready)
    _error(_confirm(phone, "BCDF-GHJK"), 404, "unknown_code")
    _error(_confirm(phone, "AEIO"), 404, "unknown_code")
    _error(http.post(ready.base_url + "/v1/auth/device/confirm", json={"user_code": "x"}),
           401, "missing_token")
    pairing = _start(http, ready)
    advance_clock(http, ready, 601)
    _error(_confirm(phone, pairing["user_code"]), 410, "expired_token")
    _error(_poll(http, ready, pairing), 400, "expired_token")
    _error(http.post(ready.base_url + "/v1/auth/device/token", json={"device_code": "nope"}),
           400, "invalid_grant")
    _error(http.post(ready.base_url + "/v1/auth/device/token", json={}), 400, "bad_request")


def test_a_denied_code_ends_the_pairing(cp: ReadyInfo, http: httpx.Client) -> None:
    pairing = _start(http, cp)
    phone = new_device(http, cp)
    assert _confirm(phone, pairing["user_code"], allow=False).json()["confirmed"] is False
    _error(_poll(http, cp, pairing), 400, "access_denied")
    advance_clock(http, cp, 6)
    _error(_poll(http, cp, pairing), 400, "invalid_grant")


def test_the_activate_page_confirms_with_email_and_password(cp: ReadyInfo,
                                                            http: httpx.Client) -> None:
    pairing = _start(http, cp)
    page = http.get(pairing["verification_uri_complete"])
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert f'value="{pairing["user_code"]}"' in page.text
    url = cp.base_url + "/activate"
    form = {"code": pairing["user_code"], "email": "demo@edgeplay.test", "password": "wrong",
            "decision": "allow"}
    bad = http.post(url, data=form)
    assert bad.status_code == 401 and "email or password is wrong" in bad.text
    assert "<script" not in http.post(url, data={**form, "code": "<script>"}).text
    ok = http.post(url, data={**form, "password": "edgeplay"})
    assert ok.status_code == 200 and "Your TV is signed in" in ok.text, ok.text
    assert _poll(http, cp, pairing).status_code == 200
    again = http.post(url, data={**form, "password": "edgeplay"})
    assert again.status_code == 409 and "already used" in again.text


@pytest.mark.parametrize("body", [{"name": 5}, {}, {"name": "tv", "public_key": "%%"}])
def test_a_bad_start_is_a_clear_400(cp: ReadyInfo, http: httpx.Client,
                                    body: dict[str, Any]) -> None:
    r = http.post(cp.base_url + "/v1/auth/device/code", json=body)
    _error(r, 400, "bad_request")
