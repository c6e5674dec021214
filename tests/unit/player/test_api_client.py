"""ControlPlaneClient over httpx.MockTransport: retries, refresh-on-401, typed errors."""

from __future__ import annotations

import asyncio
import json
import random
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from player.api import ControlPlaneClient, RetryPolicy
from player.errors import (
    AuthError,
    ConflictError,
    EntitlementError,
    LicenseError,
    NetworkError,
    NotFoundError,
    PlayerError,
    RequestError,
    ServerError,
)
from player.tokens import Credentials, MemoryStore

BASE = "http://cp.test"
Handler = Callable[[httpx.Request], httpx.Response]


class NoJitter(random.Random):
    def random(self) -> float:
        return 0.0


def tokens(access: str = "A1", refresh: str = "R1") -> dict[str, Any]:
    return {"token_type": "Bearer", "access_token": access, "expires_in": 900,
            "refresh_token": refresh, "refresh_expires_in": 3600, "device_id": "dev_1",
            "account_id": "acct_1"}


def error(status: int, code: str, message: str = "it went wrong",
          headers: dict[str, str] | None = None) -> httpx.Response:
    return httpx.Response(status, json={"error": code, "message": message}, headers=headers)


class Env:
    def __init__(self, handler: Handler, *, signed_in: bool = True, attempts: int = 4) -> None:
        self.sleeps: list[float] = []
        self.requests: list[httpx.Request] = []
        store = MemoryStore(Credentials("dev_1", "A1", "R1") if signed_in else None)

        def record(request: httpx.Request) -> httpx.Response:
            self.requests.append(request)
            return handler(request)

        async def sleep(seconds: float) -> None:
            self.sleeps.append(seconds)

        self.store = store
        self.client = ControlPlaneClient(
            BASE, store=store, transport=httpx.MockTransport(record),
            retry=RetryPolicy(attempts=attempts, base_delay_s=0.25, max_delay_s=1.0),
            sleep=sleep, clock=lambda: 1000.0, rng=NoJitter())

    def run(self, coro_fn: Callable[[ControlPlaneClient], Any]) -> Any:
        async def main() -> Any:
            async with self.client:
                return await coro_fn(self.client)
        return asyncio.run(main())

    def paths(self) -> list[str]:
        return [f"{r.method} {r.url.path}" for r in self.requests]


def test_get_retries_connect_errors_with_exponential_back_off() -> None:
    calls = iter([httpx.ConnectError("refused")] * 3)

    def handler(request: httpx.Request) -> httpx.Response:
        exc = next(calls, None)
        if exc is not None:
            raise exc
        return httpx.Response(200, json={"profiles": [{"id": "p1"}]},
                              headers={"X-Server-Time": "1790000000.5"})

    env = Env(handler)
    assert env.run(lambda c: c.profiles()) == [{"id": "p1"}]
    assert env.sleeps == [0.25, 0.5, 1.0]
    assert env.client.last_server_time == 1790000000.5


def test_jitter_shortens_each_back_off_by_at_most_the_fraction() -> None:
    policy = RetryPolicy(base_delay_s=1.0, max_delay_s=100.0, jitter_fraction=0.5)
    rng = random.Random(7)
    for retry in range(1, 6):
        ceiling = 2.0 ** (retry - 1)
        assert ceiling * 0.5 <= policy.delay_s(retry, rng) <= ceiling


def test_exhausted_retries_raise_network_error_naming_the_url() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("Connection refused")

    env = Env(handler, attempts=3)
    with pytest.raises(NetworkError) as info:
        env.run(lambda c: c.rows("p1"))
    assert len(env.requests) == 3 and env.sleeps == [0.25, 0.5]
    assert info.value.url.startswith(f"{BASE}/v1/catalog/rows")
    assert BASE in info.value.message and info.value.code == "network"


def test_503_is_retried_for_get_and_put_but_not_for_playback_post() -> None:
    statuses = iter([503, 502, 200])

    def handler(request: httpx.Request) -> httpx.Response:
        if request.method == "POST":
            return error(503, "unavailable", "try later")
        status = next(statuses)
        return httpx.Response(status, json={"applied": True} if status == 200 else {})

    env = Env(handler)
    result = env.run(lambda c: c.put_progress("p1", "t1", position_s=12.0, event_time_ms=5))
    assert result == {"applied": True} and env.sleeps == [0.25, 0.5]
    assert json.loads(env.requests[0].content)["device_id"] == "dev_1"
    env2 = Env(handler)
    with pytest.raises(NetworkError) as info:
        env2.run(lambda c: c.start_playback("t1", "p1"))
    assert len(env2.requests) == 1 and env2.sleeps == []
    assert "try later" in info.value.message and info.value.status == 503


def test_read_timeout_retried_for_idempotent_posts_only() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("slow")

    env = Env(handler, attempts=2)
    with pytest.raises(NetworkError):
        env.run(lambda c: c.release_offline_license("lic_1"))
    assert len(env.requests) == 2
    env2 = Env(handler, attempts=2)
    with pytest.raises(NetworkError):
        env2.run(lambda c: c.post_telemetry([{"type": "x"}]))
    assert len(env2.requests) == 1


def test_expired_token_is_refreshed_exactly_once_and_the_request_retried() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/v1/auth/refresh":
            assert json.loads(request.content) == {"refresh_token": "R1"}
            return httpx.Response(200, json=tokens("A2", "R2"))
        if request.headers["Authorization"] == "Bearer A1":
            return error(401, "token_expired", "expired",
                         {"WWW-Authenticate": 'Bearer error="token_expired"'})
        return httpx.Response(200, json={"id": "title0"})

    env = Env(handler)
    assert env.run(lambda c: c.title("title0", "p1")) == {"id": "title0"}
    assert env.paths() == ["GET /v1/catalog/titles/title0", "POST /v1/auth/refresh",
                           "GET /v1/catalog/titles/title0"]
    creds = env.store.load()
    assert creds is not None and (creds.access_token, creds.refresh_token) == ("A2", "R2")
    assert creds.access_expires_at == 1900.0


def test_concurrent_401s_share_one_refresh() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/v1/auth/refresh":
            return httpx.Response(200, json=tokens("A2", "R2"))
        if request.headers["Authorization"] == "Bearer A1":
            return error(401, "invalid_token")
        return httpx.Response(200, json={"profiles": []})

    env = Env(handler)

    async def both(c: ControlPlaneClient) -> Any:
        return await asyncio.gather(c.profiles(), c.profiles(), c.profiles())

    env.run(both)
    assert env.paths().count("POST /v1/auth/refresh") == 1


def test_a_second_401_after_refresh_is_not_refreshed_again() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/v1/auth/refresh":
            return httpx.Response(200, json=tokens("A2", "R2"))
        return error(401, "token_expired")

    env = Env(handler)
    with pytest.raises(AuthError) as info:
        env.run(lambda c: c.me())
    assert env.paths() == ["GET /v1/me", "POST /v1/auth/refresh", "GET /v1/me"]
    assert "sign in again" in info.value.message


def test_refused_refresh_is_auth_error_and_keeps_the_device_id() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/v1/auth/refresh":
            return error(401, "invalid_token", "unknown refresh token")
        return error(401, "token_expired")

    env = Env(handler)
    with pytest.raises(AuthError) as info:
        env.run(lambda c: c.profiles())
    assert info.value.code == "auth" and "sign in again" in info.value.message
    creds = env.store.load()
    assert creds is not None and creds.device_id == "dev_1" and not creds.access_token
    assert not env.client.signed_in


def test_not_signed_in_raises_before_any_request() -> None:
    env = Env(lambda r: httpx.Response(200), signed_in=False)
    with pytest.raises(AuthError):
        env.run(lambda c: c.profiles())
    assert env.requests == []


@pytest.mark.parametrize(("status", "code", "kind"), [
    (403, "region_blocked", EntitlementError), (403, "plan_required", EntitlementError),
    (403, "maturity", EntitlementError), (404, "unknown_title", NotFoundError),
    (409, "profile_limit", ConflictError), (400, "bad_request", RequestError),
    (500, "internal", ServerError),
])
def test_errors_are_typed_with_the_server_message(status: int, code: str,
                                                 kind: type[PlayerError]) -> None:
    env = Env(lambda r: error(status, code, f"server says {code}"))
    with pytest.raises(kind) as info:
        env.run(lambda c: c.start_playback("title1", "p1"))
    err: PlayerError = info.value
    assert err.message == f"server says {code}" and err.server_code == code
    assert err.status == status and err.request == "POST /v1/playback"
    assert "POST /v1/playback" in str(err)
    if kind is EntitlementError:
        assert err.code == code


def test_register_device_creates_the_account_and_sends_the_public_key() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/v1/accounts":
            return error(409, "account_exists")
        body = json.loads(request.content)
        assert body["public_key"] == "AAECAw==" and "Authorization" not in request.headers
        return httpx.Response(201, json=tokens("A9", "R9"))

    env = Env(handler, signed_in=False)
    result = env.run(lambda c: c.register_device("a@b.c", "secret", "tv", public_key=b"\0\1\2\3",
                                                 create_account=True))
    assert result.access_token == "A9" and env.store.load() is not None
    assert env.paths() == ["POST /v1/accounts", "POST /v1/devices"]


def test_bad_credentials_is_auth_error_with_the_server_message() -> None:
    env = Env(lambda r: error(401, "bad_credentials", "wrong email or password"),
              signed_in=False)
    with pytest.raises(AuthError, match="wrong email or password"):
        env.run(lambda c: c.register_device("a@b.c", "nope", "tv"))


def test_streaming_key_must_be_16_bytes() -> None:
    env = Env(lambda r: httpx.Response(200, content=b"k" * 15))
    with pytest.raises(LicenseError, match="15 bytes"):
        env.run(lambda c: c.streaming_key(f"{BASE}/v1/licenses/streaming/t"))
    env = Env(lambda r: httpx.Response(200, content=b"k" * 16))
    assert env.run(lambda c: c.streaming_key(f"{BASE}/v1/licenses/streaming/t")) == b"k" * 16
    assert env.requests[0].headers["Authorization"] == "Bearer A1"


def test_refused_key_is_license_error_with_the_reason() -> None:
    env = Env(lambda r: error(403, "plan_required", "needs premium"))
    with pytest.raises(LicenseError) as info:
        env.run(lambda c: c.streaming_key(f"{BASE}/v1/licenses/streaming/t"))
    assert info.value.server_code == "plan_required" and "needs premium" in info.value.message


def test_a_clearkey_licence_is_posted_as_json_with_the_bearer_token() -> None:
    answer = b'{"keys": [], "type": "temporary"}'
    env = Env(lambda r: httpx.Response(200, content=answer))
    body = b'{"kids": ["AAECAwQFBgcICQoLDA0ODw"], "type": "temporary"}'
    got = env.run(lambda c: c.clearkey_licence(f"{BASE}/v1/licenses/clearkey", body))
    assert got == answer
    sent = env.requests[0]
    assert sent.method == "POST" and sent.headers["Authorization"] == "Bearer A1"
    assert json.loads(sent.content) == json.loads(body)
    env = Env(lambda r: error(403, "region_blocked", "not in GB"))
    with pytest.raises(LicenseError) as info:
        env.run(lambda c: c.clearkey_licence(f"{BASE}/v1/licenses/clearkey", body))
    assert info.value.server_code == "region_blocked" and "not in GB" in info.value.message
    assert env.run(lambda c: asyncio.sleep(0, c.owns(f"{BASE}/v1/licenses/clearkey")))
    assert not env.run(lambda c: asyncio.sleep(0, c.owns("http://evil.test/licence")))


def test_bearer_token_never_leaves_the_control_plane() -> None:
    env = Env(lambda r: httpx.Response(200, text="#EXTM3U"))
    env.run(lambda c: c.fetch_text("http://edge.test/v1/media/x/index.m3u8"))
    assert "Authorization" not in env.requests[0].headers
    with pytest.raises(ValueError, match="outside"):
        env.run(lambda c: c.streaming_key("http://evil.test/key"))


def test_tokens_another_process_refreshed_are_used_not_refreshed_again() -> None:
    """Refresh tokens are single-use: the download worker may have refreshed first."""
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/v1/auth/refresh":
            return error(401, "invalid_token", "unknown refresh token")
        if request.headers["Authorization"] != "Bearer A9":
            return error(401, "token_expired")
        return httpx.Response(200, json={"profiles": []})

    env = Env(handler)

    async def go(c: ControlPlaneClient) -> Any:
        assert c.signed_in  # loaded R1
        env.store.save(Credentials("dev_1", "A9", "R9", access_expires_at=1900.0))
        return await c.profiles()

    assert env.run(go) == []
    assert env.paths() == ["GET /v1/profiles", "GET /v1/profiles"]
    assert env.client.signed_in


def test_a_refresh_lost_to_another_process_uses_its_tokens() -> None:
    env: Env

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/v1/auth/refresh":  # the other process got there first
            env.store.save(Credentials("dev_1", "A9", "R9", access_expires_at=1900.0))
            return error(401, "invalid_token", "unknown refresh token")
        if request.headers["Authorization"] != "Bearer A9":
            return error(401, "token_expired")
        return httpx.Response(200, json={"profiles": []})

    env = Env(handler)
    assert env.run(lambda c: c.profiles()) == []
    assert env.paths() == ["GET /v1/profiles", "POST /v1/auth/refresh", "GET /v1/profiles"]
    creds = env.store.load()
    assert creds is not None and creds.refresh_token == "R9"
