"""Every edge fault observably does what it says, checked with httpx against the real servers.

One fleet of three edges (real aiohttp servers on loopback) runs on a background loop for the
whole module; every test clears the faults it set. What takes time (latency, pacing, the origin
tier) is checked on a fresh ``paced`` fleet whose clock moves only when an edge sleeps: the
request log's ``duration_ms`` is then exactly what the edge chose to wait. How fast the real
servers are is measured by ``tests/bench/edge_faults.py``.
"""

from __future__ import annotations

import io
import json
import socket
import threading
import time
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiohttp import web

from controlplane.catalog import Catalog
from controlplane.clock import Clock
from controlplane.edge import Edge, EdgeFleet, parse_fault
from controlplane.signing import UrlSigner
from tests.helpers.fake_catalog import make_fake_catalog
from tests.helpers.fake_time import FakeTime
from tests.helpers.loop_thread import LoopThread

SEGMENT = "360p/seg_00001.ts"
ORIGIN_LATENCY_MS = 60.0


@dataclass
class Env:
    loop: LoopThread
    fleet: EdgeFleet
    catalog: Catalog
    signer: UrlSigner
    clock: Clock
    log: io.StringIO
    admin_url: str

    def url(self, edge: Edge, title_id: str, path: str, token: str | None = None) -> str:
        token = token if token is not None else self.signer.token(title_id)
        return f"{edge.url}/v1/media/{token}/{title_id}/{path}"

    def file(self, title_id: str, path: str) -> bytes:
        return (self.catalog.title_dir(title_id) / path).read_bytes()

    def fault(self, edge: Edge, **raw: object) -> None:
        self.loop.run(edge.set_fault(parse_fault(raw)))

    def hit_and_miss(self, title_id: str = "title0") -> tuple[Edge, Edge]:
        hit = next(e for e in self.fleet.edges if e.caches(title_id))
        miss = next(e for e in self.fleet.edges if not e.caches(title_id))
        return hit, miss


async def _start_admin(fleet: EdgeFleet) -> tuple[web.AppRunner, str]:
    app = web.Application()
    fleet.add_admin_routes(app)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    return runner, f"http://127.0.0.1:{runner.addresses[0][1]}"


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Env]:
    catalog = make_fake_catalog(tmp_path_factory.mktemp("edge-catalog"))
    clock = Clock()
    signer = UrlSigner(b"edge-test-secret", clock)
    log = io.StringIO()
    with LoopThread() as loop:
        fleet = EdgeFleet(
            catalog,
            signer,
            clock,
            key_uri=lambda title_id: f"http://cp.test/v1/keys/{title_id}",
            log_stream=log,
            origin_latency_ms=ORIGIN_LATENCY_MS,
        )
        loop.run(fleet.start())
        runner, admin_url = loop.run(_start_admin(fleet))
        try:
            yield Env(loop, fleet, catalog, signer, clock, log, admin_url)
        finally:
            loop.run(runner.cleanup())
            loop.run(fleet.stop())


@pytest.fixture(autouse=True)
def _clear_faults(env: Env) -> Iterator[None]:
    yield
    env.clock.offset_s = 0.0
    for edge in env.fleet.edges:
        env.loop.run(edge.clear_faults())


@pytest.fixture()
def http() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=5.0) as client:
        yield client


@dataclass
class Paced:
    fleet: EdgeFleet
    time: FakeTime

    def logged(self, edge: Edge, count: int = 1) -> list[dict[str, Any]]:
        """The edge's request log once it holds ``count`` entries (an entry is written after
        the last byte went out, so it may trail the client by a moment)."""
        deadline = time.monotonic() + 5
        while len(edge.requests.recent()) < count and time.monotonic() < deadline:
            time.sleep(0.01)
        entries = edge.requests.recent()
        assert len(entries) == count, entries
        return entries


@pytest.fixture()
def paced(env: Env) -> Iterator[Paced]:
    """Two edges of their own on a clock that moves only when they sleep."""
    fake = FakeTime()
    fleet = EdgeFleet(env.catalog, env.signer, env.clock, lambda t: "k", count=2,
                      log_stream=None, origin_latency_ms=ORIGIN_LATENCY_MS,
                      monotonic=fake.monotonic, sleep=fake.sleep)
    env.loop.run(fleet.start())
    try:
        yield Paced(fleet, fake)
    finally:
        env.loop.run(fleet.stop())


def _wait_until(condition: Callable[[], bool], what: str, timeout_s: float = 5.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.01)


def _hung(edge: Edge) -> Callable[[], bool]:
    """True once a request is held by the edge's hang fault."""
    return lambda: edge.held_requests > 0


def _raw_get(edge: Edge, target: str) -> tuple[int, bytes]:
    """Send a request target byte for byte (httpx would normalise dot segments)."""
    with socket.create_connection((edge.host, edge.port), timeout=5) as sock:
        sock.sendall(f"GET {target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    return int(head.split()[1]), body


# --- serving --------------------------------------------------------------------------------


def test_health_names_each_edge_and_ports_differ(env: Env, http: httpx.Client) -> None:
    assert len({e.port for e in env.fleet.edges}) == 3
    for edge in env.fleet.edges:
        resp = http.get(f"{edge.url}/health")
        assert resp.status_code == 200
        assert resp.json() == {"name": edge.name, "status": "ok"}


def test_hit_is_served_at_once_and_miss_waits_for_the_origin_tier(
    env: Env, paced: Paced, http: httpx.Client
) -> None:
    hit = next(e for e in paced.fleet.edges if e.caches("title0"))
    miss = next(e for e in paced.fleet.edges if not e.caches("title0"))
    hit_resp = http.get(env.url(hit, "title0", SEGMENT))
    miss_resp = http.get(env.url(miss, "title0", SEGMENT))
    assert hit_resp.headers["X-Cache"] == "HIT"
    assert miss_resp.headers["X-Cache"] == "MISS"
    assert hit_resp.content == miss_resp.content == env.file("title0", SEGMENT)
    assert miss_resp.headers["Content-Type"] == "video/mp2t"
    assert paced.logged(hit)[0]["duration_ms"] == 0
    assert paced.logged(miss)[0]["duration_ms"] == pytest.approx(ORIGIN_LATENCY_MS)
    assert paced.time.sleeps == [pytest.approx(ORIGIN_LATENCY_MS / 1000)]


def test_playlist_gets_the_key_uri_and_content_types(env: Env, http: httpx.Client) -> None:
    edge = env.fleet.edges[0]
    resp = http.get(env.url(edge, "title1", "360p/index.m3u8"))
    assert resp.status_code == 200
    assert resp.headers["Content-Type"] == "application/vnd.apple.mpegurl"
    assert 'URI="http://cp.test/v1/keys/title1"' in resp.text
    assert "__KEY_URI__" not in resp.text
    assert int(resp.headers["Content-Length"]) == len(resp.content)
    for path, kind in [("subs/en.vtt", "text/vtt"), ("poster.jpg", "image/jpeg")]:
        resp = http.get(env.url(edge, "title1", path))
        assert (resp.status_code, resp.headers["Content-Type"]) == (200, kind)
        assert resp.content == env.file("title1", path)


@pytest.mark.parametrize(
    ("header", "start", "end"),
    [("bytes=10-99", 10, 99), ("bytes=37000-", 37000, 37599), ("bytes=-188", 37412, 37599)],
)
def test_range_requests_return_exact_bytes(
    env: Env, http: httpx.Client, header: str, start: int, end: int
) -> None:
    data = env.file("title0", SEGMENT)
    resp = http.get(env.url(env.fleet.edges[0], "title0", SEGMENT), headers={"Range": header})
    assert resp.status_code == 206
    assert resp.headers["Content-Range"] == f"bytes {start}-{end}/{len(data)}"
    assert resp.content == data[start : end + 1]
    assert resp.headers["Accept-Ranges"] == "bytes"


def test_unsatisfiable_range_is_416(env: Env, http: httpx.Client) -> None:
    url = env.url(env.fleet.edges[0], "title0", SEGMENT)
    resp = http.get(url, headers={"Range": "bytes=99999-"})
    assert resp.status_code == 416
    assert resp.headers["Content-Range"] == "bytes */37600"
    assert resp.json()["error"] == "range_not_satisfiable"


def test_head_gives_length_without_body(env: Env, http: httpx.Client) -> None:
    resp = http.head(env.url(env.fleet.edges[0], "title0", SEGMENT))
    assert resp.status_code == 200
    assert resp.headers["Content-Length"] == "37600"
    assert resp.content == b""


def test_probe_is_incompressible_capped_and_uncached(env: Env, http: httpx.Client) -> None:
    edge = env.fleet.edges[0]
    resp = http.get(f"{edge.url}/v1/probe", params={"bytes": 100_000})
    assert resp.status_code == 200 and len(resp.content) == 100_000
    assert resp.headers["Cache-Control"] == "no-store"
    assert len(zlib.compress(resp.content)) > 99_000
    assert len(http.get(f"{edge.url}/v1/probe").content) == 64 * 1024
    assert len(http.get(f"{edge.url}/v1/probe?bytes=99999999").content) == 4 * 1024 * 1024
    assert http.get(f"{edge.url}/v1/probe?bytes=-5").status_code == 400


def test_unknown_routes_and_methods_answer_json(env: Env, http: httpx.Client) -> None:
    edge = env.fleet.edges[0]
    resp = http.get(f"{edge.url}/nope")
    assert resp.status_code == 404 and resp.json()["error"] == "not_found"
    resp = http.post(f"{edge.url}/health")
    assert resp.status_code == 405 and set(resp.json()) == {"error", "message"}
    resp = http.get(env.url(edge, "nosuchtitle", "360p/index.m3u8"))
    assert resp.status_code == 404 and resp.json()["error"] == "unknown_title"


# --- signed URLs and path safety ------------------------------------------------------------


def test_expired_url_is_403_url_expired(env: Env, http: httpx.Client) -> None:
    edge = env.fleet.edges[0]
    url = env.url(edge, "title0", SEGMENT, env.signer.token("title0", ttl_s=60))
    assert http.get(url).status_code == 200
    env.clock.offset_s = 120.0
    resp = http.get(url)
    assert resp.status_code == 403
    assert resp.json()["error"] == "url_expired"


@pytest.mark.parametrize(
    ("token_for", "mangle", "code"),
    [
        ("title1", lambda t: t, "bad_signature"),  # a token for another title
        ("title0", lambda t: t[:-1] + ("0" if t[-1] != "0" else "1"), "bad_signature"),
        ("title0", lambda t: "garbage", "malformed_token"),
    ],
)
def test_bad_tokens_are_403(
    env: Env, http: httpx.Client, token_for: str, mangle: Callable[[str], str], code: str
) -> None:
    token = mangle(env.signer.token(token_for))
    resp = http.get(env.url(env.fleet.edges[0], "title0", SEGMENT, token))
    assert resp.status_code == 403
    assert resp.json()["error"] == code


@pytest.mark.parametrize(
    "tail",
    [
        "../title1/360p/index.m3u8",
        "360p/../key.bin",
        "key.bin",
        "%2e%2e/%2e%2e/catalog.json",
        "..%2f..%2fcatalog.json",
        "360p%2f..%2f..%2fkey.bin",
        "360p/..\\..\\key.bin",
        "360p/seg_00001.ts%00.jpg",
        "/etc/passwd",
        "360p//seg_00001.ts",
        ".hidden.ts",
        "360p/index.m3u8.bak",
    ],
)
def test_path_traversal_is_refused(env: Env, tail: str) -> None:
    edge = env.fleet.edges[0]
    token = env.signer.token("title0")
    status, body = _raw_get(edge, f"/v1/media/{token}/title0/{tail}")
    assert status in (400, 404)
    assert set(json.loads(body)) == {"error", "message"}
    assert env.catalog.content_key("title0") not in body


def test_traversal_in_the_title_id_is_refused(env: Env) -> None:
    token = env.signer.token("..")
    status, body = _raw_get(env.fleet.edges[0], f"/v1/media/{token}/../catalog.json")
    assert status in (400, 404)
    assert b'"format"' not in body


# --- faults ---------------------------------------------------------------------------------


def test_kill_refuses_connections_and_revives_on_the_same_port(
    env: Env, http: httpx.Client
) -> None:
    edge, other = env.fleet.edges[0], env.fleet.edges[1]
    port = edge.port
    env.fault(edge, kind="kill")
    assert not edge.alive
    with pytest.raises(httpx.ConnectError):  # refused, not timed out (bench: under 1 ms)
        http.get(f"{edge.url}/health")
    assert http.get(f"{other.url}/health").status_code == 200
    env.loop.run(edge.clear_faults("kill"))
    assert edge.alive and edge.port == port
    assert http.get(f"{edge.url}/health").json()["name"] == edge.name


def test_kill_drops_an_open_download(env: Env) -> None:
    edge = env.fleet.edges[0]
    env.fault(edge, kind="slow", rate_kbps=400)  # 100 KB takes 2 s
    received = 0
    with (
        httpx.Client(timeout=5.0) as client,
        pytest.raises(httpx.TransportError),
        client.stream("GET", f"{edge.url}/v1/probe?bytes=100000") as resp,
    ):
        for chunk in resp.iter_bytes():
            received += len(chunk)
            if received > 5000:
                env.fault(edge, kind="kill")
    assert 5000 < received < 100_000


def test_hang_times_out_while_another_edge_answers(env: Env, http: httpx.Client) -> None:
    hung, other = env.fleet.edges[0], env.fleet.edges[1]
    env.fault(hung, kind="hang")
    with httpx.Client(timeout=httpx.Timeout(5.0, read=0.5)) as client:
        with pytest.raises(httpx.ReadTimeout):  # connected, then no answer
            client.get(env.url(hung, "title0", SEGMENT))
        assert client.get(f"{other.url}/health").status_code == 200
        with pytest.raises(httpx.ReadTimeout):
            client.get(f"{hung.url}/health")


def test_clearing_hang_releases_hung_connections(env: Env) -> None:
    edge = env.fleet.edges[0]
    env.fault(edge, kind="hang")
    outcome: list[BaseException | int] = []

    def fetch() -> None:
        try:
            with httpx.Client(timeout=10.0) as client:
                outcome.append(client.get(f"{edge.url}/health").status_code)
        except httpx.HTTPError as exc:
            outcome.append(exc)

    thread = threading.Thread(target=fetch)
    thread.start()
    _wait_until(_hung(edge), "the request to be held")
    assert not outcome
    env.loop.run(edge.clear_faults("hang"))
    thread.join(5)  # the client's own timeout is 10 s: an answer by then came from the release
    assert not thread.is_alive()
    assert isinstance(outcome[0], httpx.RemoteProtocolError)
    with httpx.Client(timeout=2.0) as client:
        assert client.get(f"{edge.url}/health").status_code == 200


def test_slow_rate_paces_a_500_kb_body_to_2_s(
    env: Env, paced: Paced, http: httpx.Client
) -> None:
    edge = paced.fleet.edges[0]
    env.fault(edge, kind="slow", rate_kbps=2000)
    resp = http.get(f"{edge.url}/v1/probe?bytes=500000")
    assert len(resp.content) == 500_000
    entry = paced.logged(edge)[0]
    assert entry["fault"] == ["slow"]
    assert entry["duration_ms"] == pytest.approx(2000, abs=1)  # 4,000 kbit at 2,000 kbit/s
    assert len(paced.time.sleeps) > 10  # paced in slices, not one wait and a burst


def test_slow_trace_replay_follows_the_trace(env: Env, paced: Paced) -> None:
    edge = paced.fleet.edges[0]
    trace = [
        {"duration_ms": 1000, "bandwidth_kbps": 4000, "latency_ms": 100},
        {"duration_ms": 1000, "bandwidth_kbps": 1000, "latency_ms": 100},
    ]
    env.fault(edge, kind="slow", trace=trace)
    started_s = paced.time.now_s
    with httpx.Client(timeout=10.0) as client:
        assert len(client.get(f"{edge.url}/v1/probe?bytes=600000").content) == 600_000
    assert paced.time.sleeps[0] == pytest.approx(0.1)  # the trace's latency, before any byte
    # 100 ms of latency, then the link: 3,600 kbit by 1 s, 1,000 kbit by 2 s, and the last
    # 200 kbit at 4,000 kbit/s (50 ms). At the rate of the first phase it would end at 1.3 s.
    assert (paced.time.now_s - started_s) * 1000 == pytest.approx(2050, abs=1)
    assert paced.logged(edge)[0]["duration_ms"] == pytest.approx(2050, abs=1)


def test_slow_trace_file_in_the_shared_format(env: Env, paced: Paced, tmp_path: Path) -> None:
    trace_file = tmp_path / "trace.json"
    trace_file.write_text('[{"duration_ms": 500, "bandwidth_kbps": 800, "latency_ms": 0}]')
    edge = paced.fleet.edges[1]
    env.fault(edge, kind="slow", trace_file=str(trace_file))
    with httpx.Client(timeout=5.0) as client:
        assert len(client.get(f"{edge.url}/v1/probe?bytes=50000").content) == 50_000
    assert paced.logged(edge)[0]["duration_ms"] == pytest.approx(500, abs=1)  # 400 kbit


def test_the_admin_api_reads_a_trace_file(env: Env, tmp_path: Path) -> None:
    trace_file = tmp_path / "trace.json"
    trace_file.write_text('[{"duration_ms": 500, "bandwidth_kbps": 800, "latency_ms": 0}]')
    edge = env.fleet.edges[1]
    with httpx.Client(timeout=5.0) as client:
        resp = client.post(
            f"{env.admin_url}/admin/edges/{edge.name}/faults",
            json={"kind": "slow", "trace_file": str(trace_file)},
        )
        assert resp.status_code == 200
        missing = client.post(
            f"{env.admin_url}/admin/edges/{edge.name}/faults",
            json={"kind": "slow", "trace_file": str(tmp_path / "nope.json")},
        )
    assert [f.kind for f in edge.faults] == ["slow"]
    assert missing.status_code == 400 and set(missing.json()) == {"error", "message"}


def test_error_rate_half_fails_exactly_every_other_request(env: Env, http: httpx.Client) -> None:
    edge = env.fleet.edges[0]
    env.fault(edge, kind="error", rate=0.5, status=503)
    statuses = [http.get(env.url(edge, "title0", SEGMENT)).status_code for _ in range(20)]
    assert statuses == [200, 503] * 10
    health = [http.get(f"{edge.url}/health") for _ in range(2)]
    assert [r.status_code for r in health] == [200, 503]  # the sequence counts every request
    assert health[1].json()["error"] == "injected_fault"


def test_errors_scoped_to_segments_spare_playlists_and_health(
    env: Env, http: httpx.Client
) -> None:
    edge = env.fleet.edges[0]
    env.fault(edge, kind="error", rate=1.0, status=500, paths="segments")
    assert http.get(env.url(edge, "title0", "360p/index.m3u8")).status_code == 200
    assert http.get(f"{edge.url}/health").status_code == 200
    assert http.get(env.url(edge, "title0", SEGMENT)).status_code == 500


def test_truncate_sends_full_length_but_cuts_the_body(env: Env) -> None:
    edge = env.fleet.edges[0]
    env.fault(edge, kind="truncate", after_bytes=1000)
    received = 0
    with (
        httpx.Client(timeout=5.0) as client,
        pytest.raises(httpx.RemoteProtocolError),
        client.stream("GET", env.url(edge, "title0", SEGMENT)) as resp,
    ):
        assert resp.headers["Content-Length"] == "37600"
        for chunk in resp.iter_raw():
            received += len(chunk)
    assert received == 1000


def test_truncate_by_fraction(env: Env) -> None:
    edge = env.fleet.edges[0]
    env.fault(edge, kind="truncate", fraction=0.5)
    received = 0
    with (
        httpx.Client(timeout=5.0) as client,
        pytest.raises(httpx.RemoteProtocolError),
        client.stream("GET", env.url(edge, "title0", SEGMENT)) as resp,
    ):
        for chunk in resp.iter_raw():
            received += len(chunk)
    assert received == 18800


def test_corrupt_flips_bytes_at_the_documented_positions(env: Env, http: httpx.Client) -> None:
    edge = env.fleet.edges[0]
    env.fault(edge, kind="corrupt", bytes=4)
    original = env.file("title0", SEGMENT)
    resp = http.get(env.url(edge, "title0", SEGMENT))
    assert resp.status_code == 200 and len(resp.content) == len(original)
    diff = [i for i in range(len(original)) if resp.content[i] != original[i]]
    size = len(original)
    assert diff == [(2 * i + 1) * size // 8 for i in range(4)]  # 4700, 14100, 23500, 32900
    assert all(resp.content[i] == original[i] ^ 0xFF for i in diff)
    ranged = http.get(env.url(edge, "title0", SEGMENT), headers={"Range": "bytes=4000-4999"})
    assert ranged.content == resp.content[4000:5000] != original[4000:5000]
    playlist = http.get(env.url(edge, "title0", "360p/index.m3u8"))
    assert "#EXTM3U" in playlist.text  # only .ts bodies are corrupted


def test_latency_delays_the_first_byte(env: Env, paced: Paced, http: httpx.Client) -> None:
    edge, other = paced.fleet.edges
    env.fault(edge, kind="latency", ms=300)
    assert http.get(f"{edge.url}/health").status_code == 200
    assert http.get(f"{other.url}/health").status_code == 200
    assert paced.time.sleeps == [pytest.approx(0.3)]  # one wait, before the answer
    assert paced.logged(edge)[0]["duration_ms"] == pytest.approx(300)
    assert paced.logged(other)[0]["duration_ms"] == 0


def test_faults_on_one_edge_never_touch_another(
    env: Env, paced: Paced, http: httpx.Client
) -> None:
    faulty, other = paced.fleet.edges
    for raw in (
        {"kind": "error", "rate": 1.0},
        {"kind": "latency", "ms": 500},
        {"kind": "slow", "rate_kbps": 100},
        {"kind": "truncate", "after_bytes": 10},
        {"kind": "corrupt", "bytes": 100},
    ):
        env.fault(faulty, **raw)
    assert len(faulty.faults) == 5
    assert other.faults == ()
    resp = http.get(env.url(other, "title2", SEGMENT))
    assert resp.status_code == 200
    assert resp.content == env.file("title2", SEGMENT)
    entry = paced.logged(other)[0]
    assert entry["fault"] is None
    origin_ms = 0 if entry["cache"] == "HIT" else ORIGIN_LATENCY_MS  # no latency, no pacing
    assert entry["duration_ms"] == pytest.approx(origin_ms)


def test_stop_closes_hung_connections_promptly(env: Env, tmp_path: Path) -> None:
    catalog = make_fake_catalog(tmp_path, titles=1, segments=1)
    fleet = EdgeFleet(catalog, env.signer, env.clock, lambda t: "k", count=1, log_stream=None)
    env.loop.run(fleet.start())
    edge = fleet.edges[0]
    env.loop.run(edge.set_fault(parse_fault({"kind": "hang"})))
    errors: list[BaseException] = []

    def fetch() -> None:
        try:
            with httpx.Client(timeout=10.0) as client:
                client.get(f"{edge.url}/health")
        except httpx.HTTPError as exc:
            errors.append(exc)

    thread = threading.Thread(target=fetch)
    thread.start()
    _wait_until(_hung(edge), "the request to be held")
    env.loop.run(fleet.stop())
    thread.join(5)  # the client's own timeout is 10 s: an error by then came from the stop
    assert not thread.is_alive()
    assert errors and not edge.alive and edge.held_requests == 0


# --- admin API and request log --------------------------------------------------------------


def test_admin_api_sets_lists_and_clears_faults(env: Env) -> None:
    base = f"{env.admin_url}/admin/edges"
    with httpx.Client(timeout=5.0) as client:
        edges = client.get(base).json()
        assert [e["name"] for e in edges] == ["edge-1", "edge-2", "edge-3"]
        assert all(e["alive"] and e["faults"] == [] for e in edges)
        assert all(0 < len(e["cached_titles"]) < 3 for e in edges)
        resp = client.post(f"{base}/edge-2/faults", json={"kind": "latency", "ms": 5})
        assert resp.status_code == 200
        assert resp.json()["faults"] == [{"kind": "latency", "ms": 5.0, "paths": "all"}]
        client.post(f"{base}/edge-2/faults", json={"kind": "error", "rate": 0.25})
        resp = client.delete(f"{base}/edge-2/faults/latency")
        assert [f["kind"] for f in resp.json()["faults"]] == ["error"]
        resp = client.delete(f"{base}/edge-2/faults")
        assert resp.json()["faults"] == []
        resp = client.post(f"{base}/edge-2/faults", json={"kind": "kill"})
        assert resp.json()["alive"] is False
        assert client.delete(f"{base}/edge-2/faults/kill").json()["alive"] is True


@pytest.mark.parametrize(
    ("path", "body", "status"),
    [
        ("/admin/edges/edge-1/faults", {"kind": "explode"}, 400),
        ("/admin/edges/edge-1/faults", {"kind": "error", "rate": 2}, 400),
        ("/admin/edges/edge-1/faults", {"kind": "slow"}, 400),
        ("/admin/edges/edge-1/faults", ["kill"], 400),
        ("/admin/edges/edge-9/faults", {"kind": "kill"}, 404),
    ],
)
def test_admin_api_rejects_bad_faults(env: Env, path: str, body: object, status: int) -> None:
    with httpx.Client(timeout=5.0) as client:
        resp = client.post(env.admin_url + path, json=body)
    assert resp.status_code == status
    assert set(resp.json()) == {"error", "message"}
    assert all(edge.faults == () for edge in env.fleet.edges)


def test_request_log_is_one_json_line_per_request_with_the_token_redacted(
    env: Env, http: httpx.Client
) -> None:
    edge = env.fleet.edges[2]
    token = env.signer.token("title1")
    env.fault(edge, kind="latency", ms=1)
    sent_at = env.clock.now()
    http.get(env.url(edge, "title1", SEGMENT, token), headers={"Range": "bytes=0-99"})
    answered_at = env.clock.now()
    path = f"/v1/media/REDACTED/title1/{SEGMENT}"

    def ours() -> list[dict[str, Any]]:
        # An earlier test's request to this edge may finish (and log) after this one.
        entries = [json.loads(line) for line in env.log.getvalue().splitlines()]
        return [e for e in entries if e["edge"] == edge.name and e["path"] == path
                and e["range"] == "bytes=0-99"]
    _wait_until(lambda: bool(ours()), "the request's log line")
    assert token not in env.log.getvalue()
    last = ours()[-1]
    assert last["status"] == 206 and last["bytes"] == 100 and last["range"] == "bytes=0-99"
    assert last["cache"] == ("HIT" if edge.caches("title1") else "MISS")
    assert last["fault"] == ["latency"] and last["method"] == "GET"
    assert last["client"] == "127.0.0.1" and last["duration_ms"] >= 1.0
    assert round(sent_at, 3) <= last["ts"] <= round(answered_at, 3)
    resp = http.get(f"{env.admin_url}/admin/edges/{edge.name}/requests?limit=1000")
    assert last in resp.json()
    assert len(http.get(f"{env.admin_url}/admin/edges/{edge.name}/requests?limit=1").json()) == 1
    assert http.get(f"{env.admin_url}/admin/edges/{edge.name}/requests?limit=x").status_code == 400
