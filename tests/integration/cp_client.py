"""A tiny test-side client for the control plane's HTTP API (the product's client is player/)."""

from __future__ import annotations

import base64
import itertools
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from player.bundled import ReadyInfo

_seq = itertools.count()


@dataclass
class Device:
    http: httpx.Client
    ready: ReadyInfo
    tokens: dict[str, Any]
    private_key: X25519PrivateKey | None
    profile_id: str

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens['access_token']}"}

    def get(self, path: str, **kw: Any) -> httpx.Response:
        return self.http.get(self.ready.base_url + path, headers=self.auth, **kw)

    def post(self, path: str, body: Any = None, **kw: Any) -> httpx.Response:
        return self.http.post(self.ready.base_url + path, json=body, headers=self.auth, **kw)

    def put(self, path: str, body: Any, **kw: Any) -> httpx.Response:
        return self.http.put(self.ready.base_url + path, json=body, headers=self.auth, **kw)


def new_account(http: httpx.Client, ready: ReadyInfo, plan: str = "premium",
                region: str = "US") -> tuple[str, str]:
    email = f"user{next(_seq)}-{id(http)}@example.test"
    r = http.post(f"{ready.base_url}/v1/accounts",
                  json={"email": email, "password": "secret-pw", "plan": plan, "region": region})
    assert r.status_code == 201, r.text
    return email, "secret-pw"


def register(http: httpx.Client, ready: ReadyInfo, email: str, password: str, *,
             region: str | None = None, with_key: bool = True) -> Device:
    key = X25519PrivateKey.generate() if with_key else None
    body: dict[str, Any] = {"email": email, "password": password, "name": "test device",
                            "platform": "linux"}
    if region:
        body["region"] = region
    if key is not None:
        raw = key.public_key().public_bytes(serialization.Encoding.Raw,
                                            serialization.PublicFormat.Raw)
        body["public_key"] = base64.b64encode(raw).decode()
    r = http.post(f"{ready.base_url}/v1/devices", json=body)
    assert r.status_code == 201, r.text
    device = Device(http, ready, r.json(), key, "")
    device.profile_id = device.get("/v1/profiles").json()["profiles"][0]["id"]
    return device


def new_device(http: httpx.Client, ready: ReadyInfo, **kw: Any) -> Device:
    plan = kw.pop("plan", "premium")
    region = kw.pop("account_region", "US")
    email, password = new_account(http, ready, plan=plan, region=region)
    return register(http, ready, email, password, **kw)


def catalog_titles(catalog_dir: Path) -> list[dict[str, Any]]:
    titles: list[dict[str, Any]] = json.loads((catalog_dir / "catalog.json").read_text())["titles"]
    return titles


def advance_clock(http: httpx.Client, ready: ReadyInfo, seconds: float) -> float:
    """Move the control plane's clock (tokens, signed URLs, licenses) ``seconds`` ahead through
    the admin API, instead of sleeping; returns the new offset."""
    headers = ready.admin_headers
    state = http.get(ready.admin_url + "/admin/state", headers=headers).raise_for_status().json()
    offset = float(state["clock_offset_s"]) + seconds
    http.post(ready.admin_url + "/admin/clock", json={"offset_s": offset},
              headers=headers).raise_for_status()
    return offset
