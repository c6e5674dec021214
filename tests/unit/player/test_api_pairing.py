"""Device-code sign-in on the client: polling at the server's pace, slow_down, sentences for
refusals, tokens kept in the store once confirmed."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
import pytest

from player.api import ControlPlaneClient
from player.api.pairing import (
    Pairing,
    confirm_pairing,
    poll_pairing,
    start_pairing,
    wait_for_pairing,
)
from player.errors import AuthError, ConflictError, NotFoundError
from player.tokens import Credentials, MemoryStore

BASE = "http://cp.test"
TOKENS = {"token_type": "Bearer", "access_token": "A9", "expires_in": 900,
          "refresh_token": "R9", "device_id": "dev_tv", "account_id": "acct_1"}
PAIRING = Pairing("secret", "BCDF-GHJK", f"{BASE}/activate", f"{BASE}/activate?code=BCDF-GHJK",
                  600.0, 5.0)


def _error(status: int, code: str) -> httpx.Response:
    return httpx.Response(status, json={"error": code, "message": code.replace("_", " ")})


def _client(answers: list[httpx.Response], seen: list[httpx.Request],
            store: MemoryStore | None = None) -> ControlPlaneClient:
    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return answers.pop(0)
    return ControlPlaneClient(BASE, store=store or MemoryStore(),
                              transport=httpx.MockTransport(handler))


def test_waiting_polls_at_the_interval_slows_down_and_keeps_the_tokens() -> None:
    seen: list[httpx.Request] = []
    store = MemoryStore()
    cp = _client([_error(400, "authorization_pending"), _error(400, "slow_down"),
                  _error(400, "authorization_pending"), httpx.Response(200, json=TOKENS)],
                 seen, store)
    sleeps: list[float] = []

    async def sleep(s: float) -> None:
        sleeps.append(s)

    tokens = asyncio.run(wait_for_pairing(cp, PAIRING, sleep=sleep))
    assert sleeps == [5.0, 5.0, 10.0, 10.0]
    assert tokens.device_id == "dev_tv"
    saved = store.load()
    assert saved is not None and (saved.access_token, saved.refresh_token) == ("A9", "R9")
    assert all(r.url.path == "/v1/auth/device/token" and "authorization" not in r.headers
               for r in seen)
    assert json.loads(seen[0].content) == {"device_code": "secret"}


@pytest.mark.parametrize(("code", "says"), [
    ("expired_token", "expired"), ("access_denied", "refused"), ("invalid_grant", "already used"),
])
def test_refusals_become_sentences(code: str, says: str) -> None:
    cp = _client([_error(400, code)], [])
    with pytest.raises(AuthError, match=says) as info:
        asyncio.run(poll_pairing(cp, PAIRING))
    assert info.value.server_code == code


def test_start_sends_the_name_and_reads_the_answer() -> None:
    seen: list[httpx.Request] = []
    answer = {"device_code": "d", "user_code": "BCDF-GHJK", "verification_uri": "u",
              "expires_in": 600, "interval": 5}
    cp = _client([httpx.Response(201, json=answer), httpx.Response(201, json={"x": 1})], seen)
    pairing = asyncio.run(start_pairing(cp, "TV"))
    assert (pairing.user_code, pairing.verification_uri_complete, pairing.interval_s) == (
        "BCDF-GHJK", "u", 5.0)
    assert json.loads(seen[0].content) == {"name": "TV", "platform": "tv"}
    with pytest.raises(Exception, match="incomplete"):
        asyncio.run(start_pairing(cp, "TV"))


@pytest.mark.parametrize(("answer", "kind", "says"), [
    (_error(404, "unknown_code"), NotFoundError, "No TV is waiting"),
    (_error(409, "code_used"), ConflictError, "already used"),
])
def test_confirming_a_bad_code_says_why(answer: httpx.Response, kind: type[Exception],
                                        says: str) -> None:
    store = MemoryStore(Credentials("dev_1", "A1", "R1"))
    ok: list[Any] = [httpx.Response(200, json={"confirmed": True, "device_name": "Den TV"}),
                     answer]
    seen: list[httpx.Request] = []
    cp = _client(ok, seen, store)
    assert asyncio.run(confirm_pairing(cp, "bcdf ghjk")) == "Den TV"
    assert seen[0].headers["authorization"] == "Bearer A1"
    with pytest.raises(kind, match=says):
        asyncio.run(confirm_pairing(cp, "BCDF-GHJK"))
