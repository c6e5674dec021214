"""Steering manifest validation, query parameters and reload timing."""

from __future__ import annotations

import asyncio
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from player.errors import ManifestError, NetworkError, NotFoundError
from player.steering import SteeringClient, parse_steering, with_steering_params
from tests.unit.player.fakes import FakeClock

URI = "http://cp.test/v1/steering/S1"
GOOD = {"VERSION": 1, "TTL": 10, "RELOAD-URI": "/v1/steering/S1?n=2",
        "PATHWAY-PRIORITY": ["edge-2", "edge-1", "edge-3"]}


def test_parse_resolves_reload_uri_against_the_steering_uri() -> None:
    m = parse_steering(GOOD, URI)
    assert m.version == 1 and m.ttl_s == 10.0
    assert m.reload_uri == "http://cp.test/v1/steering/S1?n=2"
    assert m.pathway_priority == ("edge-2", "edge-1", "edge-3")
    no_reload = parse_steering(b'{"VERSION":1,"TTL":5,"PATHWAY-PRIORITY":["a"],"X":1}', URI)
    assert no_reload.reload_uri is None


@pytest.mark.parametrize(("change", "message"), [
    ({"VERSION": 2}, "VERSION 2"), ({"VERSION": None}, "VERSION None"),
    ({"TTL": 0}, "TTL"), ({"TTL": "10"}, "TTL"), ({"TTL": None}, "TTL"),
    ({"RELOAD-URI": 5}, "RELOAD-URI"), ({"PATHWAY-PRIORITY": []}, "non-empty list"),
    ({"PATHWAY-PRIORITY": "edge-1"}, "non-empty list"),
    ({"PATHWAY-PRIORITY": ["ok", "not ok"]}, "invalid pathway 'not ok'"),
    ({"PATHWAY-PRIORITY": ["a", "a"]}, "twice"),
])
def test_invalid_manifests(change: dict[str, Any], message: str) -> None:
    with pytest.raises(ManifestError, match=message):
        parse_steering({**GOOD, **change}, URI)


@pytest.mark.parametrize("data", ["{nope", "[1]", b"null"])
def test_not_a_json_object(data: str | bytes) -> None:
    with pytest.raises(ManifestError, match="not"):
        parse_steering(data, URI)


def test_query_parameters_replace_existing_ones() -> None:
    url = with_steering_params(URI + "?a=1&_HLS_pathway=old", "edge-1", 5_432_100.7)
    assert parse_qs(urlsplit(url).query) == {"a": ["1"], "_HLS_pathway": ["edge-1"],
                                             "_HLS_throughput": ["5432100"]}
    assert with_steering_params(URI, None, None) == URI


def test_client_follows_reload_uri_and_ttl() -> None:
    clock = FakeClock()
    fetched: list[str] = []

    async def fetch(url: str) -> Any:
        fetched.append(url)
        return GOOD

    client = SteeringClient(URI, fetch, clock=clock)
    assert client.reload_due() and client.seconds_until_reload() == 0.0
    m = asyncio.run(client.reload("edge-2", 8e6))
    assert m.pathway_priority[0] == "edge-2"
    assert fetched[0] == URI + "?_HLS_pathway=edge-2&_HLS_throughput=8000000"
    assert not client.reload_due() and client.seconds_until_reload() == 10.0
    clock.advance(9.9)
    assert not client.reload_due()
    clock.advance(0.1)
    assert client.reload_due()
    asyncio.run(client.reload("edge-1"))
    assert fetched[1] == "http://cp.test/v1/steering/S1?n=2&_HLS_pathway=edge-1"
    assert client.priority(["edge-1", "edge-3"]) == ("edge-1", "edge-3")


def test_failed_reload_keeps_the_last_manifest_and_retries_after_ttl() -> None:
    clock = FakeClock()
    answers: list[Any] = [GOOD, NetworkError("down", url=URI), {"VERSION": 9}]

    async def fetch(url: str) -> Any:
        answer = answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer

    client = SteeringClient(URI, fetch, clock=clock)
    asyncio.run(client.reload())
    clock.advance(10)
    with pytest.raises(NetworkError):
        asyncio.run(client.reload())
    assert client.manifest is not None and client.seconds_until_reload() == 10.0
    clock.advance(10)
    with pytest.raises(ManifestError):
        asyncio.run(client.reload())
    assert client.manifest.pathway_priority == ("edge-2", "edge-1", "edge-3")


def test_410_gone_turns_steering_off() -> None:
    async def fetch(url: str) -> Any:
        raise NotFoundError("gone", status=410)

    client = SteeringClient(URI, fetch, clock=FakeClock())
    with pytest.raises(NotFoundError):
        asyncio.run(client.reload())
    assert client.disabled and not client.reload_due() and client.seconds_until_reload() is None
