"""The circuit breaker's state machine with a fake clock."""

from __future__ import annotations

from player.circuit import CircuitBreaker, CircuitConfig, State
from tests.unit.player.fakes import FakeClock

CONFIG = CircuitConfig(failure_threshold=3, cooldown_s=2.0, cooldown_growth=2.0,
                       max_cooldown_s=5.0, trial_timeout_s=10.0)


def breaker() -> tuple[CircuitBreaker, FakeClock]:
    clock = FakeClock()
    return CircuitBreaker(CONFIG, clock), clock


def test_soft_failures_open_after_the_threshold_and_success_resets_the_count() -> None:
    b, _ = breaker()
    b.record_failure()
    b.record_failure()
    b.record_success()
    b.record_failure()
    b.record_failure()
    assert b.state is State.CLOSED and b.allow()
    b.record_failure()
    assert b.state is State.OPEN and not b.allow() and b.reopens_in_s == 2.0


def test_one_hard_failure_opens() -> None:
    b, _ = breaker()
    b.record_failure(hard=True)
    assert b.state is State.OPEN


def test_half_open_lets_one_trial_through_and_success_closes() -> None:
    b, clock = breaker()
    b.record_failure(hard=True)
    clock.advance(1.99)
    assert b.state is State.OPEN
    clock.advance(0.01)
    assert b.state is State.HALF_OPEN and b.available()
    assert b.allow() and not b.allow() and not b.available()
    b.record_success()
    assert b.state is State.CLOSED and b.trips == 0 and b.cooldown_s == 2.0


def test_cooldown_grows_on_repeated_trips_up_to_the_cap() -> None:
    b, clock = breaker()
    b.record_failure(hard=True)
    periods = []
    for _ in range(4):
        periods.append(b.cooldown_s)
        clock.advance(b.cooldown_s)
        assert b.allow()              # the half-open trial
        b.record_failure()            # fails: open again, longer
        assert b.state is State.OPEN
    assert periods == [2.0, 4.0, 5.0, 5.0]


def test_a_lost_trial_frees_the_slot_after_the_trial_timeout() -> None:
    b, clock = breaker()
    b.record_failure(hard=True)
    clock.advance(2.0)
    assert b.allow() and not b.allow()
    clock.advance(10.0)
    assert b.allow()


def test_failures_while_open_do_not_extend_the_cooldown() -> None:
    b, clock = breaker()
    b.record_failure(hard=True)
    clock.advance(1.0)
    b.record_failure(hard=True)
    assert b.trips == 1 and b.reopens_in_s == 1.0
