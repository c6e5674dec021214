"""CENC key sources: --key pairs, EME ClearKey licences, the session's key cache."""

from __future__ import annotations

import asyncio
import base64
import json

import httpx
import pytest

from player.errors import LicenseError
from player.keysource import (
    CencKeys,
    ClearKeyLicense,
    StaticKeys,
    b64url,
    licence_poster,
    licence_request,
    parse_key_pair,
    parse_licence,
)

KID = bytes.fromhex("0123456789abcdef0123456789abcdef")
KEY = bytes.fromhex("00112233445566778899aabbccddeeff")
KID2 = bytes(range(16))
KEY2 = bytes(range(16, 32))


def _licence(pairs: dict[bytes, bytes]) -> bytes:
    return json.dumps({"keys": [{"kty": "oct", "kid": b64url(k), "k": b64url(v)}
                                for k, v in pairs.items()], "type": "temporary"}).encode()


def test_a_key_pair_is_two_128_bit_hex_numbers() -> None:
    assert parse_key_pair(f"{KID.hex()}:{KEY.hex()}") == (KID, KEY)
    uuid = f"{KID.hex()[:8]}-{KID.hex()[8:12]}-{KID.hex()[12:16]}-{KID.hex()[16:20]}-" \
        f"{KID.hex()[20:]}"
    assert parse_key_pair(f"{uuid}:{KEY.hex().upper()}") == (KID, KEY)
    for bad, what in (("zz", "KID"), (KID.hex(), "KID"), (f"{KID.hex()}:12", "KEY"),
                      (f"{KID.hex()[:-1]}g:{KEY.hex()}", "KID")):
        with pytest.raises(ValueError, match=f"{what} must be 32 hex digits"):
            parse_key_pair(bad)


def test_the_licence_request_and_answer_are_w3c_clearkey_json() -> None:
    body = json.loads(licence_request([KID, KID2]))
    assert body == {"kids": ["ASNFZ4mrze8BI0VniavN7w", b64url(KID2)], "type": "temporary"}
    assert "=" not in body["kids"][0]
    assert parse_licence(_licence({KID: KEY, KID2: KEY2}), "x") == {KID: KEY, KID2: KEY2}
    for bad in (b"not json", b"{}", b'{"keys": [{"kid": "AA", "k": "AA"}]}', b"[]",
                b'{"keys": [{"kid": 5}]}'):
        with pytest.raises(LicenseError, match="not a JSON Web Key set"):
            parse_licence(bad, "x")


def test_a_data_uri_carries_the_licence_in_place() -> None:
    url = "data:application/json;base64," + base64.b64encode(_licence({KID: KEY})).decode()

    async def no_post(url: str, body: bytes) -> bytes:
        raise AssertionError("no request for a data: URI")

    assert asyncio.run(ClearKeyLicense(url, no_post).keys_for([KID])) == {KID: KEY}


def test_given_keys_come_first_and_a_licence_is_asked_once_for_concurrent_segments() -> None:
    posts: list[tuple[str, bytes]] = []

    async def post(url: str, body: bytes) -> bytes:
        posts.append((url, body))
        await asyncio.sleep(0)
        return _licence({KID2: KEY2})

    async def main() -> None:
        keys = CencKeys({KID: KEY}, post)
        assert keys.cached([KID]) == {KID: KEY}
        assert keys.cached([KID, KID2]) is None
        got = await asyncio.gather(*(keys.get([KID, KID2], "http://lic/x") for _ in range(3)))
        assert got == [{KID: KEY, KID2: KEY2}] * 3
        assert keys.cached([KID2]) == {KID2: KEY2}
        assert await keys.get([KID2], "http://lic/x") == {KID2: KEY2}

    asyncio.run(main())
    assert len(posts) == 1
    assert json.loads(posts[0][1])["kids"] == [b64url(KID2)]  # only the missing KID


def test_an_unknown_kid_is_left_out_and_a_raw_key_uri_serves_every_kid() -> None:
    async def raw() -> bytes:
        return KEY2

    async def main() -> None:
        assert await CencKeys().get([KID]) == {}
        assert await CencKeys({KID: KEY}).get([KID, KID2], raw_key=raw) == {KID: KEY, KID2: KEY2}
        assert await StaticKeys({KID: KEY}).keys_for([KID, KID2]) == {KID: KEY}

    asyncio.run(main())


def test_the_licence_poster_turns_refusals_into_licence_errors() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if request.url.path == "/ok":
            return httpx.Response(200, content=_licence({KID: KEY}))
        if request.url.path == "/big":
            return httpx.Response(200, content=b" " * 70_000)
        return httpx.Response(403, json={"error": "forbidden"})

    async def main() -> None:
        async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as http:
            keys = CencKeys(post=licence_poster(http))
            assert await keys.get([KID], "http://lic.example/ok") == {KID: KEY}
            with pytest.raises(LicenseError, match=r"lic\.example answered HTTP 403"):
                await CencKeys(post=licence_poster(http)).get([KID], "http://lic.example/no")
            with pytest.raises(LicenseError, match="larger than"):
                await CencKeys(post=licence_poster(http)).get([KID], "http://lic.example/big")

    asyncio.run(main())
    assert seen[0].method == "POST"
    assert seen[0].headers["content-type"] == "application/json"
    assert json.loads(seen[0].content) == {"kids": [b64url(KID)], "type": "temporary"}


def test_a_kid_is_verified_by_a_strong_check_and_a_failure_sticks() -> None:
    async def main() -> None:
        keys = CencKeys({KID: KEY, KID2: KEY2})
        assert keys.verified([KID]) is None
        waiting = asyncio.ensure_future(keys.wait_verified([KID], timeout_s=30))
        await asyncio.sleep(0)
        assert not waiting.done()
        keys.confirm(KID, True)
        assert await waiting is True and keys.verified([KID]) is True
        keys.confirm(KID2, False)
        keys.confirm(KID2, True)  # the first failure sticks
        assert keys.verified([KID, KID2]) is False
        assert await keys.wait_verified([KID2], timeout_s=30) is False

    asyncio.run(main())


def test_a_kid_nothing_verifies_is_waited_for_once() -> None:
    async def main() -> None:
        keys = CencKeys({KID: KEY})
        assert await keys.wait_verified([KID], timeout_s=0.01) is None
        assert keys.verified([KID]) is True  # not waited for again
        assert await keys.wait_verified([KID], timeout_s=30) is True

    asyncio.run(main())
