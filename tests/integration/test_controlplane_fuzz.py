"""The control plane's JSON endpoints under seeded random mutation, against the real server
process: no 500, no traceback (in an answer or in the server's log), bounded memory, and every
error in the project's JSON shape. A 3 s run is part of the suite; ``tests/bench/fuzz.py`` runs
the same targets for minutes and reports executions per second."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from player.bundled import BundledControlPlane
from tests.conftest import StartControlPlane
from tests.helpers.fuzz import Mutator, Stats, run
from tests.integration.cp_client import catalog_titles, new_device


@dataclass(frozen=True)
class Endpoint:
    method: str
    path: str
    seed: dict[str, Any]
    admin: bool = False


def endpoints(cp: BundledControlPlane, http: httpx.Client,
              catalog_dir: Path) -> tuple[list[Endpoint], dict[str, str]]:
    """Every JSON-bodied endpoint with a valid body to start from, and the caller's auth."""
    device = new_device(http, cp.ready)
    title = str(catalog_titles(catalog_dir)[0]["id"])
    profile = device.profile_id
    lic = device.post("/v1/licenses/offline", {"title_id": title, "profile_id": profile})
    license_id = lic.json()["payload"]["license_id"] if lic.status_code == 201 else "lic_x"
    now = int(time.time() * 1000)
    progress = {"position_s": 1.0, "duration_s": 8.0, "event_time_ms": now,
                "device_id": device.tokens["device_id"]}
    pairing = http.post(cp.ready.base_url + "/v1/auth/device/code", json={"name": "tv"}).json()
    found = [
        Endpoint("POST", "/v1/auth/device/code", {"name": "tv", "platform": "tv",
                                                  "public_key": "A" * 43 + "="}),
        Endpoint("POST", "/v1/auth/device/token", {"device_code": pairing["device_code"]}),
        Endpoint("POST", "/v1/auth/device/confirm", {"user_code": pairing["user_code"],
                                                     "allow": True}),
        Endpoint("POST", "/v1/accounts", {"email": "a@b.c", "password": "secret-pw",
                                          "plan": "premium", "region": "US"}),
        Endpoint("POST", "/v1/devices", {"email": "a@b.c", "password": "secret-pw",
                                         "name": "tv", "platform": "linux", "region": "GB",
                                         "public_key": "A" * 43 + "="}),
        Endpoint("POST", "/v1/auth/login", {"email": "a@b.c", "password": "secret-pw",
                                            "device_id": device.tokens["device_id"]}),
        Endpoint("POST", "/v1/auth/refresh", {"refresh_token": "x" * 43}),
        Endpoint("POST", "/v1/profiles", {"name": "Kid", "kids": True,
                                          "avatar_color": "#e50914"}),
        Endpoint("PATCH", f"/v1/profiles/{profile}", {"name": "Renamed", "kids": False}),
        Endpoint("POST", "/v1/playback", {"title_id": title, "profile_id": profile}),
        Endpoint("POST", "/v1/licenses/offline", {"title_id": title, "profile_id": profile}),
        Endpoint("POST", f"/v1/licenses/offline/{license_id}/renew",
                 {"first_played_at": time.time()}),
        Endpoint("POST", f"/v1/licenses/offline/{license_id}/first-play",
                 {"first_played_at": time.time()}),
        Endpoint("PUT", f"/v1/profiles/{profile}/progress/{title}", progress),
        Endpoint("POST", f"/v1/profiles/{profile}/progress/{title}/watched",
                 {"watched": True, "event_time_ms": now}),
        Endpoint("POST", "/v1/progress/batch", {"items": [
            {"profile_id": profile, "title_id": title, **progress},
            {"profile_id": profile, "title_id": title, "watched": False,
             "event_time_ms": now}]}),
        Endpoint("POST", "/v1/telemetry", {"events": [{"type": "startup", "ttff_ms": 40.0},
                                                      {"type": "rebuffer", "seconds": 1}]}),
        Endpoint("POST", "/admin/clock", {"offset_s": 0}, admin=True),
        Endpoint("POST", "/admin/edges/edge-1/faults", {"kind": "latency", "ms": 5,
                                                        "paths": "segments"}, admin=True),
    ]
    return found, device.auth


def checker(cp: BundledControlPlane, http: httpx.Client, found: list[Endpoint],
            auth: dict[str, str]) -> tuple[Callable[[str], None], Callable[[Any], None]]:
    """The fuzz target (send a mutated body to the endpoint its seed came from, judge the
    answer) and what tells it that seed."""
    by_seed = {json.dumps(e.seed, sort_keys=True): e for e in found}
    picked: list[Endpoint] = []

    def target(text: str) -> None:
        endpoint = picked.pop() if picked else found[0]
        base = cp.ready.admin_url if endpoint.admin else cp.ready.base_url
        headers = {**(cp.ready.admin_headers if endpoint.admin else auth),
                   "Content-Type": "application/json"}
        r = http.request(endpoint.method, base + endpoint.path, content=text.encode(),
                         headers=headers)
        if endpoint.path == "/admin/clock":  # a shifted clock expires the caller's token
            http.post(base + endpoint.path, json={"offset_s": 0}, headers=headers)
        where = f"{endpoint.method} {endpoint.path} → {r.status_code}"
        assert r.status_code < 500, f"{where}: {r.text[:200]}"
        assert "Traceback" not in r.text, where
        if r.status_code >= 400:
            body = r.json()
            assert isinstance(body, dict) and body.get("error") and body.get("message"), where
        else:
            json.loads(r.text, parse_constant=lambda c: (_ for _ in ()).throw(
                AssertionError(f"{where}: answered {c}")))

    def pick(seed: Any) -> None:
        picked.append(by_seed[json.dumps(seed, sort_keys=True)])

    return target, pick


class PickingMutator(Mutator):
    """Remembers which seed each input came from, so the target sends it to its endpoint."""

    def __init__(self, seed: int, on_pick: Callable[[Any], None]) -> None:
        super().__init__(seed)
        self.on_pick = on_pick

    def mutate(self, seeds: Any) -> str:
        seed = self.random.choice(seeds)
        self.on_pick(seed)
        return super().mutate([seed])


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def fuzz_controlplane(cp: BundledControlPlane, catalog_dir: Path, *, seconds: float,
                      seed: int) -> tuple[Stats, int]:
    """Run the fuzzer against ``cp``; returns the stats and how much its RSS grew, KiB."""
    with httpx.Client(timeout=10.0) as http:
        found, auth = endpoints(cp, http, catalog_dir)
        target, pick = checker(cp, http, found, auth)
        pid = int(cp.ready.raw["pid"])
        warm = run(target, PickingMutator(seed + 1, pick),
                   [e.seed for e in found], seconds=min(1.0, seconds / 4))
        before = rss_kib(pid)
        stats = run(target, PickingMutator(seed, pick),
                    [e.seed for e in found], seconds=seconds)
        stats.findings[:0] = warm.findings
        http.delete(cp.ready.admin_url + "/admin/edges/edge-1/faults",
                    headers=cp.ready.admin_headers)
        return stats, rss_kib(pid) - before


@pytest.fixture(scope="module")
def fuzzed(start_module_controlplane: StartControlPlane) -> Iterator[BundledControlPlane]:
    yield start_module_controlplane(edges=1)


def test_fuzzing_the_json_endpoints_finds_no_500_and_no_traceback(
        fuzzed: BundledControlPlane, fake_catalog_dir: Path) -> None:
    stats, grown_kib = fuzz_controlplane(fuzzed, fake_catalog_dir, seconds=3.0, seed=17)
    assert stats.findings == []
    assert stats.executions > 50
    assert grown_kib < 64 * 1024, f"the control plane grew by {grown_kib} KiB"
    logged = "\n".join(fuzzed.output)
    assert "Traceback" not in logged and "unhandled error" not in logged, logged[-2000:]
