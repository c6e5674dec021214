"""The failover timeouts adapt to the path (TTFB percentiles, RTT) and to CPU load (loop lag),
and an edge slower than the lowest rendition is left: the decisions, with injected clocks."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable

import httpx
import pytest

from player.decrypt import Decryptor, KeyCache
from player.edgepool import EdgePool, EdgePoolConfig, edges_of
from player.failover import FailoverEvent, FetchConfig, adaptive_timeout_s
from player.fetcher import Fetched, SegmentFetcher
from player.loadlag import LagConfig, LoopLag
from tests.helpers.policies import FixedPolicy
from tests.unit.player.fakes import FakeClock
from tests.unit.player.test_fetcher import KEY, RENDITIONS, World, plaintext

Handler = Callable[[httpx.Request], Awaitable[httpx.Response]]
HANG_LIMIT_S = 1.5
"""A dead or hung edge must be left within this (the issue's goal)."""


def fetcher_for(world: World, buffer_s: float = 0.0, clock: FakeClock | None = None,
                config: FetchConfig | None = None, handler: Handler | None = None,
                ) -> tuple[SegmentFetcher, httpx.AsyncClient]:
    async def key(uri: str) -> bytes:
        return KEY

    http = httpx.AsyncClient(transport=httpx.MockTransport(handler or world.handler))
    mv = world.multivariant()
    clock = clock or FakeClock()
    pool = EdgePool(edges_of(mv), http, clock=clock)
    fetcher = SegmentFetcher(http, pool, mv, Decryptor(KeyCache(key)), FixedPolicy(),
                             buffer_s=lambda: buffer_s, config=config or FetchConfig(),
                             clock=clock)
    return fetcher, http


# --- the rule ----------------------------------------------------------------------------------

def test_the_floor_holds_against_an_empty_buffer_and_load_adds_on_top() -> None:
    c = FetchConfig()
    assert adaptive_timeout_s(1.0, 0.0, c) == pytest.approx(0.3)        # the old floor alone
    assert adaptive_timeout_s(0.4, 0.0, c, floor_s=0.8) == pytest.approx(0.8)
    assert adaptive_timeout_s(0.4, 0.0, c, floor_s=0.8, load_s=0.2) == pytest.approx(1.0)
    assert adaptive_timeout_s(0.4, 60.0, c, floor_s=0.8) == pytest.approx(1.6)  # 4 × expected
    assert adaptive_timeout_s(9.0, 0.0, c, floor_s=30.0) == pytest.approx(c.max_timeout_s)


def test_an_unknown_server_gets_time_for_a_slow_first_answer_but_not_for_a_hang() -> None:
    fetcher, _ = fetcher_for(World())
    timeout = fetcher.ttfb_timeout_s("e1")
    assert 0.4 < timeout <= HANG_LIMIT_S  # a 0.4 s server plays; a hung one is still left


def test_a_slow_but_healthy_edge_is_given_its_own_pace_at_an_empty_buffer() -> None:
    fetcher, _ = fetcher_for(World(), buffer_s=0.0)
    for ttfb in (0.38, 0.40, 0.41, 0.39, 0.45):
        fetcher.pool.report_ttfb("e1", ttfb)
    assert fetcher.pool.expected_ttfb_s("e1") == pytest.approx(0.45)  # p90 of five: the max
    assert fetcher.ttfb_timeout_s("e1") >= 2 * 0.45
    # an edge that has not answered yet is on the same (slow) path
    assert fetcher.ttfb_timeout_s("e2") >= 2 * 0.38


def test_a_fast_edge_that_hangs_is_left_at_the_floor() -> None:
    fetcher, _ = fetcher_for(World(), buffer_s=60.0)
    for _ in range(20):
        fetcher.pool.report_ttfb("e1", 0.002)
    assert fetcher.ttfb_timeout_s("e1") == pytest.approx(fetcher.config.min_timeout_s)


def test_percentile_ignores_a_rare_outlier_and_forgets_old_samples() -> None:
    p = EdgePool({"e1": "http://e1.test"}, httpx.AsyncClient(), config=EdgePoolConfig(
        ttfb_window=10, ttfb_percentile=0.9), clock=FakeClock())
    for _ in range(9):
        p.report_ttfb("e1", 0.01)
    p.report_ttfb("e1", 3.0)          # one in ten: above the 90th percentile
    assert p.expected_ttfb_s("e1") == pytest.approx(0.01)
    for _ in range(10):
        p.report_ttfb("e1", 0.5)      # the path got slow: the window follows it
    assert p.expected_ttfb_s("e1") == pytest.approx(0.5)
    assert p.status("e1").ttfb_samples == 10


def test_every_edge_failed_makes_the_next_round_patient() -> None:
    fetcher, _ = fetcher_for(World())
    for _ in range(5):
        fetcher.pool.report_ttfb("e1", 0.002)
    assert fetcher.ttfb_timeout_s("e1", last_resort=True) >= fetcher.config.last_resort_timeout_s
    assert fetcher.ttfb_timeout_s("e1") < fetcher.config.last_resort_timeout_s


def test_load_lengthens_both_timeouts() -> None:
    fetcher, _ = fetcher_for(World(), buffer_s=0.0)
    fetcher.pool.report_ttfb("e1", 0.002)
    ttfb, stall = fetcher.ttfb_timeout_s("e1"), fetcher.stall_timeout_s("e1")
    fetcher.load_allowance_s = lambda: 0.25
    assert fetcher.ttfb_timeout_s("e1") == pytest.approx(ttfb + 0.25)
    assert fetcher.stall_timeout_s("e1") == pytest.approx(stall + 0.25)


def test_probe_waits_longer_on_a_slow_path() -> None:
    p = EdgePool({"e1": "http://e1.test", "e2": "http://e2.test"}, httpx.AsyncClient(),
                 clock=FakeClock())
    assert p.health_timeout_s("e2") == pytest.approx(p.config.health_timeout_s)
    p.report_ttfb("e1", 0.5)
    p.load_allowance_s = lambda: 0.1
    assert p.health_timeout_s("e2") == pytest.approx(2 * 0.5 + 0.1)


# --- loop lag ----------------------------------------------------------------------------------

class LateSleep:
    """asyncio.sleep stand-in: advances the fake clock by the interval plus a scripted lag."""

    def __init__(self, clock: FakeClock, lags: list[float]) -> None:
        self.clock = clock
        self.lags = lags
        self.woken = asyncio.Event()

    async def __call__(self, seconds: float) -> None:
        await asyncio.sleep(0)
        if not self.lags:
            self.woken.set()
            await asyncio.Event().wait()  # until cancelled
        self.clock.advance(seconds + self.lags.pop(0))


def test_loop_lag_measures_lateness_and_forgets_it() -> None:
    clock = FakeClock()
    config = LagConfig(interval_s=0.05, window_s=5.0, factor=3.0, max_allowance_s=1.0)

    async def run() -> tuple[float, float, float]:
        sleep = LateSleep(clock, [0.0, 0.12, 0.01])
        lag = LoopLag(config, clock=clock, sleep=sleep)
        lag.start()
        await sleep.woken.wait()
        seen = (lag.lag_s, lag.allowance_s)
        await lag.stop()
        clock.advance(6.0)
        return (*seen, lag.lag_s)

    lag_s, allowance_s, later = asyncio.run(run())
    assert lag_s == pytest.approx(0.12)
    assert allowance_s == pytest.approx(0.36)
    assert later == 0.0


def test_loop_lag_allowance_is_capped() -> None:
    clock = FakeClock()
    lag = LoopLag(LagConfig(factor=3.0, max_allowance_s=1.0), clock=clock)
    lag.record(2.0)
    assert lag.allowance_s == pytest.approx(1.0)
    lag.record(-0.5)  # woke early: no lag
    assert lag.lag_s == pytest.approx(2.0)


# --- an edge slower than the lowest rendition --------------------------------------------------

def test_an_edge_below_the_lowest_rung_is_left_for_a_healthy_one() -> None:
    world = World()
    clock = FakeClock()
    lowest_bps = RENDITIONS[0][1]

    async def slow_e1(request: httpx.Request) -> httpx.Response:
        response = await world.handler(request)
        if request.url.host.startswith("e1") and request.url.path.endswith(".ts"):
            # the bytes take 4× as long as the lowest rendition allows
            clock.advance(len(response.content) * 8 / lowest_bps * 4)
        return response

    async def run() -> tuple[Fetched, Fetched, bool, list[str]]:
        fetcher, http = fetcher_for(world, buffer_s=30.0, clock=clock, handler=slow_e1)
        async with http:
            first = await fetcher.fetch(0, 0)
            slow = fetcher.pool.status("e1").too_slow
            second = await fetcher.fetch(1, 0)
            order = [s.name for s in fetcher.pool.ordered()]
        assert isinstance(first, Fetched) and isinstance(second, Fetched)
        return first, second, slow, order

    first, second, slow, order = asyncio.run(run())
    assert first.edge == "e1" and slow
    assert second.edge == "e2" and second.data == plaintext("360p", 1)
    assert order[-1] == "e1"


def test_when_every_edge_is_too_slow_steering_decides_again() -> None:
    p = EdgePool({"e1": "http://e1.test", "e2": "http://e2.test"}, httpx.AsyncClient(),
                 clock=FakeClock())
    p.useful_bps = 800_000
    p.report_success("e1", 100_000, 2.0)   # 400 kbit/s
    assert [s.name for s in p.ordered()] == ["e2", "e1"]
    p.report_success("e2", 100_000, 4.0)   # 200 kbit/s: both too slow
    assert p.ordered()[0].name == "e1"
    p.report_success("e1", 1_000_000, 1.0)  # recovered
    assert not p.status("e1").too_slow


def test_the_fetcher_tells_the_pool_the_lowest_rung() -> None:
    fetcher, _ = fetcher_for(World())
    assert fetcher.pool.useful_bps == RENDITIONS[0][1]


def test_a_download_slower_than_the_lowest_rung_moves_to_a_healthy_edge_mid_body() -> None:
    world = World()
    clock = FakeClock()
    config = FetchConfig(progress_interval_s=0.0, slow_check_after_s=1.0)

    async def trickling_e1(request: httpx.Request) -> httpx.Response:
        response = await world.handler(request)
        if not (request.url.host.startswith("e1") and request.url.path.endswith(".ts")):
            return response
        body = response.content
        step = len(body) // 10

        async def chunks() -> AsyncIterator[bytes]:
            for at in range(0, len(body), step):
                clock.advance(0.6)  # ~100 kbit/s: an eighth of the lowest rung
                yield body[at:at + step]
        return httpx.Response(200, headers={"Content-Length": str(len(body))},
                              content=chunks())

    async def run() -> tuple[Fetched, list[FailoverEvent], bool]:
        events: list[FailoverEvent] = []
        fetcher, http = fetcher_for(world, buffer_s=30.0, clock=clock, config=config,
                                    handler=trickling_e1)
        fetcher.subscribe(events.append)
        async with http:
            result = await fetcher.fetch(2, 0)
        assert isinstance(result, Fetched)
        return result, events, fetcher.pool.status("e1").too_slow

    result, events, too_slow = asyncio.run(run())
    assert result.edge == "e2" and result.data == plaintext("360p", 2)
    [event] = events
    assert (event.cause, event.from_edge, event.to_edge) == ("slow", "e1", "e2")
    assert event.resume_from_byte > 0  # the bytes e1 delivered are kept
    assert too_slow
    ts = [(edge, rng) for edge, path, rng in world.requests if path.endswith(".ts")]
    assert ts == [("e1", None), ("e2", f"bytes={event.resume_from_byte}-")]


def test_a_slow_link_everywhere_is_not_failed_over_endlessly() -> None:
    p = EdgePool({"e1": "http://e1.test", "e2": "http://e2.test"}, httpx.AsyncClient(),
                 clock=FakeClock())
    p.useful_bps = 800_000
    assert p.healthy_other_than("e1")
    p.report_throughput("e2", 10_000, 1.0)   # e2 measured too slow as well
    assert not p.healthy_other_than("e1")    # so e1's slow download stays where it is


def test_a_hung_edge_is_left_within_the_goal_however_loaded_the_cpu() -> None:
    fetcher, _ = fetcher_for(World(), buffer_s=60.0)
    lag = LoopLag(clock=FakeClock())
    lag.record(10.0)  # a loop ten seconds late
    fetcher.load_allowance_s = lambda: lag.allowance_s
    assert fetcher.ttfb_timeout_s("e1") <= HANG_LIMIT_S  # not heard from yet: the 1 s floor
    for _ in range(5):
        fetcher.pool.report_ttfb("e1", 0.002)
    assert fetcher.ttfb_timeout_s("e1") <= HANG_LIMIT_S
