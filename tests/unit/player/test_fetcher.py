"""SegmentFetcher against fake edges (httpx.MockTransport): failover, resume, refresh, reloads."""

from __future__ import annotations

import asyncio
import hashlib
import json
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

from player.circuit import State
from player.decrypt import Decryptor, KeyCache
from player.edgepool import EdgePool, edges_of
from player.errors import NetworkError, NoEdgeError, PlayerError
from player.failover import FailoverEvent, FetchConfig, adaptive_timeout_s
from player.fetcher import Abandoned, Fetched, SegmentFetcher
from player.manifest import parse_multivariant
from player.presentation import Multivariant
from tests.helpers.fake_catalog import encrypt_segment, fake_segment
from tests.helpers.policies import FixedPolicy
from tests.unit.player.fakes import FakeClock

KEY = hashlib.sha256(b"unit-key").digest()[:16]
KEY_URI = "http://cp.test/v1/licenses/streaming/t1"
EDGES = ("e1", "e2", "e3")
RENDITIONS = (("360p", 800_000), ("720p", 2_500_000))
SEGMENT_BYTES = 188 * 400
FAST = FetchConfig(min_timeout_s=0.1, unmeasured_timeout_s=0.1, last_resort_timeout_s=0.1,
                   progress_interval_s=0.0)


def plaintext(rendition: str, index: int) -> bytes:
    return fake_segment("t1", rendition, index, SEGMENT_BYTES)


def ciphertext(rendition: str, index: int) -> bytes:
    return encrypt_segment(plaintext(rendition, index), KEY, index)


@dataclass
class World:
    """Three fake edges. ``faults[edge]``: refuse, 5xx, hang, truncate, stall, corrupt,
    expired, 404. Tokens rotate with ``generation`` (refresh_urls)."""

    segments: int = 6
    faults: dict[str, str] = field(default_factory=dict)
    generation: int = 0
    requests: list[tuple[str, str, str | None]] = field(default_factory=list)
    calls: list[str] = field(default_factory=list)
    manifest_refusal: Exception | None = None
    """What the control plane answers a manifest reload with, if not a manifest."""

    def token(self, edge: str) -> str:
        return f"tok-{edge}-g{self.generation}"

    def multivariant_text(self) -> str:
        lines = ["#EXTM3U", "#EXT-X-VERSION:6"]
        for edge in EDGES:
            for rendition, bandwidth in RENDITIONS:
                lines += [f'#EXT-X-STREAM-INF:BANDWIDTH={bandwidth},PATHWAY-ID="{edge}"',
                          f"http://{edge}.test/v1/media/{self.token(edge)}/t1/{rendition}/"
                          "index.m3u8"]
        return "\n".join(lines) + "\n"

    def multivariant(self) -> Multivariant:
        return parse_multivariant(self.multivariant_text(), "http://cp.test/master.m3u8")

    def media_text(self) -> str:
        lines = ["#EXTM3U", "#EXT-X-TARGETDURATION:4", "#EXT-X-MEDIA-SEQUENCE:0",
                 f'#EXT-X-KEY:METHOD=AES-128,URI="{KEY_URI}"']
        for index in range(self.segments):
            lines += ["#EXTINF:4.000,", f"seg_{index:05d}.ts"]
        return "\n".join([*lines, "#EXT-X-ENDLIST", ""])

    async def handler(self, request: httpx.Request) -> httpx.Response:
        edge = request.url.host.split(".")[0]
        path = request.url.path
        self.requests.append((edge, path, request.headers.get("Range")))
        fault = self.faults.get(edge)
        if fault == "refuse":
            raise httpx.ConnectError("Connection refused", request=request)
        if fault == "hang":
            await asyncio.sleep(3600)
        if fault == "5xx":
            return httpx.Response(503, json={"error": "injected_fault"})
        if fault == "404":
            return httpx.Response(404, json={"error": "not_found"})
        parts = path.split("/")  # '', v1, media, token, t1, rendition, file
        if parts[3] != self.token(edge) or fault == "expired":
            return httpx.Response(403, json={"error": "url_expired", "message": "expired"})
        if parts[6] == "index.m3u8":
            return httpx.Response(200, text=self.media_text())
        data = ciphertext(parts[5], int(parts[6][4:9]))
        if fault == "corrupt":
            data = bytes(b ^ 0xFF if i % 1000 == 500 else b for i, b in enumerate(data))
        start, status, headers = 0, 200, {}
        wanted = request.headers.get("Range")
        if wanted:
            start = int(wanted.removeprefix("bytes=").rstrip("-"))
            status = 206
            headers["Content-Range"] = f"bytes {start}-{len(data) - 1}/{len(data)}"
        body = data[start:]
        headers["Content-Length"] = str(len(body))
        if fault in ("truncate", "stall"):
            cut = len(body) // 3

            async def partial() -> Any:
                yield body[:cut]
                if fault == "stall":
                    await asyncio.sleep(3600)
            return httpx.Response(status, headers=headers, content=partial())
        return httpx.Response(status, headers=headers, content=body)


Hook = Callable[[], Awaitable[Any]]


async def run_fetch(world: World, body: Callable[[SegmentFetcher], Awaitable[Any]], *,
                    policy: FixedPolicy | None = None, config: FetchConfig = FAST,
                    with_hooks: bool = True, buffer_s: float = 20.0,
                    clock: Callable[[], float] = time.monotonic) -> tuple[Any, list[Any]]:
    events: list[FailoverEvent] = []

    async def fetch_key(uri: str) -> bytes:
        world.calls.append("key")
        return KEY

    async def refresh_urls() -> Multivariant:
        world.calls.append("refresh_urls")
        world.generation += 1
        return world.multivariant()

    async def reload_steering() -> Sequence[str] | None:
        world.calls.append("reload_steering")
        return list(EDGES)

    async def reload_manifest() -> Multivariant:
        world.calls.append("reload_manifest")
        if world.manifest_refusal is not None:
            raise world.manifest_refusal
        world.generation += 1
        return world.multivariant()

    async with httpx.AsyncClient(transport=httpx.MockTransport(world.handler)) as http:
        mv = world.multivariant()
        pool = EdgePool(edges_of(mv), http)
        fetcher = SegmentFetcher(
            http, pool, mv, Decryptor(KeyCache(fetch_key)), policy or FixedPolicy(),
            buffer_s=lambda: buffer_s, refresh_urls=refresh_urls,
            reload_steering=reload_steering if with_hooks else None,
            reload_manifest=reload_manifest if with_hooks else None,
            on_failover=events.append, config=config, clock=clock)
        return await body(fetcher), events


def fetch(world: World, index: int = 1, rung: int = 0, **kw: Any) -> tuple[Any, list[Any]]:
    return asyncio.run(run_fetch(world, lambda f: f.fetch(index, rung), **kw))


def segment_requests(world: World) -> list[tuple[str, str | None]]:
    return [(edge, rng) for edge, path, rng in world.requests if path.endswith(".ts")]


# --- the timeout rule --------------------------------------------------------------------------

def test_timeout_is_a_multiple_of_the_expected_time_clamped_by_the_buffer() -> None:
    c = FetchConfig()  # factor 4, min 0.3 s, 25 % of the buffer, max 5 s
    assert adaptive_timeout_s(0.002, 30.0, c) == pytest.approx(0.3)   # loopback: the floor
    assert adaptive_timeout_s(0.2, 30.0, c) == pytest.approx(0.8)     # 4 × expected
    assert adaptive_timeout_s(1.0, 8.0, c) == pytest.approx(2.0)      # a quarter of the buffer
    assert adaptive_timeout_s(1.0, 0.0, c) == pytest.approx(0.3)      # empty: the floor wins
    assert adaptive_timeout_s(10.0, 120.0, c) == pytest.approx(5.0)   # never above max


# --- the happy path ----------------------------------------------------------------------------

def test_a_segment_comes_from_the_first_edge_decrypted() -> None:
    world = World()
    policy = FixedPolicy()
    result, events = fetch(world, index=2, policy=policy)
    assert isinstance(result, Fetched)
    assert result.data == plaintext("360p", 2) and result.edge == "e1"
    assert events == [] and result.failovers == 0
    assert policy.completed == [(0, len(ciphertext("360p", 2)))]
    assert segment_requests(world) == [("e1", None)]


# --- failover ----------------------------------------------------------------------------------

@pytest.mark.parametrize(("fault", "cause", "hard"), [
    ("refuse", "refused", True),
    ("5xx", "http_5xx", False),
    ("hang", "ttfb_timeout", True),
    ("corrupt", "corrupt", True),
    ("404", "http_4xx", False),
])
def test_a_failing_edge_fails_over_to_the_next(fault: str, cause: str, hard: bool) -> None:
    world = World(faults={"e1": fault})

    timeouts: list[float] = []

    async def body(fetcher: SegmentFetcher) -> tuple[Any, State]:
        timeouts.append(fetcher.ttfb_timeout_s("e1"))
        result = await fetcher.fetch(1, 1)
        return result, fetcher.pool.status("e1").state

    # Only a hang waits for the clock: the others are timed on one that never moves.
    clock = time.monotonic if fault == "hang" else FakeClock()
    (result, state), events = asyncio.run(run_fetch(world, body, clock=clock))
    assert isinstance(result, Fetched) and result.edge == "e2"
    assert result.data == plaintext("720p", 1) and result.failovers == 1
    [event] = events
    assert (event.cause, event.from_edge, event.to_edge) == (cause, "e1", "e2")
    assert event.resume_from_byte == 0
    assert (state is State.OPEN) == hard
    if fault == "hang":  # the first request (the playlist) given up after the TTFB timeout
        assert event.detail.endswith(f"no answer in {timeouts[0]:.2f} s")
        assert event.detection_s >= timeouts[0] - 0.01
    else:  # detected on the answer itself
        assert event.detection_s == 0


@pytest.mark.parametrize("fault", ["truncate", "stall"])
def test_a_half_fetched_segment_resumes_with_a_range_on_the_next_edge(fault: str) -> None:
    world = World(faults={"e1": fault})
    result, events = fetch(world, index=3)
    assert isinstance(result, Fetched) and result.edge == "e2"
    assert result.data == plaintext("360p", 3)  # byte-identical after decryption
    cut = len(ciphertext("360p", 3)) // 3
    assert segment_requests(world) == [("e1", None), ("e2", f"bytes={cut}-")]
    [event] = events
    assert event.cause == ("truncated" if fault == "truncate" else "stall")
    assert event.resume_from_byte == cut == result.resumed_from_byte
    assert event.measured_from == "last_byte"


def test_an_expired_url_is_refreshed_and_the_same_edge_retried() -> None:
    world = World()

    async def body(fetcher: SegmentFetcher) -> Any:
        await fetcher.fetch(0, 0)           # caches e1's playlist with generation-0 tokens
        world.generation += 1               # the edge now wants fresh tokens
        return await fetcher.fetch(1, 0)

    result, events = asyncio.run(run_fetch(world, body))
    assert isinstance(result, Fetched) and result.edge == "e1"
    assert world.calls.count("refresh_urls") == 1
    assert [e.cause for e in events] == ["url_refresh"]
    assert events[0].from_edge == events[0].to_edge == "e1"


def test_every_edge_down_reloads_steering_then_manifest_then_raises() -> None:
    world = World(faults={e: "refuse" for e in EDGES})
    with pytest.raises(NoEdgeError) as info:
        fetch(world)
    assert [c for c in world.calls if c.startswith("reload")] == ["reload_steering",
                                                                   "reload_manifest"]
    assert set(info.value.failures) == set(EDGES)
    assert all("refused" in cause for cause in info.value.failures.values())
    # three rounds: each edge tried once per round (open circuits are forced after a reload)
    assert len(segment_requests(world)) + len([r for r in world.requests
                                               if r[1].endswith(".m3u8")]) == 9


@pytest.mark.parametrize("refusal, code", [
    (PlayerError("The playback session ended on the server", code="session_ended"),
     "session_ended"),
    (NetworkError("the control plane is unreachable", url="http://127.0.0.1:9"), "no_edge"),
])
def test_when_every_edge_fails_the_manifest_reloads_refusal_is_the_cause(
        refusal: PlayerError, code: str) -> None:
    world = World(faults={e: "refuse" for e in EDGES}, manifest_refusal=refusal)
    with pytest.raises(PlayerError) as info:
        fetch(world)
    assert info.value.code == code  # the control plane's answer, not "no edge", when it gave one


def test_mixed_failures_are_listed_per_edge() -> None:
    world = World(faults={"e1": "refuse", "e2": "5xx", "e3": "corrupt"})
    with pytest.raises(NoEdgeError) as info:
        fetch(world, with_hooks=False)
    failures = info.value.failures
    assert failures["e1"].startswith("refused") and failures["e2"].startswith("http_5xx")
    assert failures["e3"].startswith("corrupt")


def test_a_recovered_edge_after_steering_reload_serves() -> None:
    world = World(faults={e: "refuse" for e in EDGES})
    original = world.handler

    async def healing(request: httpx.Request) -> httpx.Response:
        if "reload_steering" in world.calls:
            world.faults.pop("e3", None)
        return await original(request)

    world.handler = healing  # type: ignore[method-assign]
    result, events = fetch(world)
    assert isinstance(result, Fetched) and result.edge == "e3"
    assert "reload_steering" in world.calls and "reload_manifest" not in world.calls
    assert events[-1].to_edge == "e3"


# --- abandonment ---------------------------------------------------------------------------------

def test_abandonment_returns_the_lower_rung_without_blaming_the_edge() -> None:
    world = World(faults={"e1": "stall"})  # the body never finishes
    policy = FixedPolicy(rung=1, abandon_to=0)

    async def body(fetcher: SegmentFetcher) -> tuple[Any, State]:
        result = await fetcher.fetch(2, 1)
        return result, fetcher.pool.status("e1").state

    (result, state), events = asyncio.run(run_fetch(world, body, policy=policy))
    assert isinstance(result, Abandoned)
    assert (result.rung, result.lower, result.edge) == (1, 0, "e1")
    assert result.bytes_so_far == len(ciphertext("720p", 2)) // 3
    assert state is State.CLOSED and events == []
    assert policy.completed == [(1, result.bytes_so_far)] and policy.progress


def test_timeline_comes_from_the_first_edge_that_answers() -> None:
    world = World(faults={"e1": "refuse"})
    playlist, _ = asyncio.run(run_fetch(world, lambda f: f.timeline()))
    assert len(playlist.segments) == world.segments
    assert json.dumps([r[0] for r in world.requests]) == '["e1", "e2"]'
