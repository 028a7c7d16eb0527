"""A partner's rate limit (services.rate_limits), every API's, with an injected clock: one process's token bucket,
and processes drawing on one bucket through the store's statement (run here on an in-memory SQLite
database, as Database.write_statement runs it)."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from typing import Any, cast

import pytest
import sqlalchemy as sa
from sqlalchemy.pool import StaticPool

from orderhub.domain.errors import RateLimited
from orderhub.domain.partners import Partner, Principal
from orderhub.services import rate_limits
from orderhub.services.ports import Database, DatabaseUnavailable
from orderhub.services.rate_limits import IDLE_SECONDS, DatabaseBuckets, RateLimiter
from orderhub.store.tables import metadata
from orderhub.store.unit_of_work import BoundUnitOfWork

START = 1_800_000_000.0
CO = "partner-co"


class MovableClock:
    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> float:
        return self.now


class SharedStore:
    """The database every process reaches: its rate-limit buckets, which can be made to fail or hang."""

    def __init__(self) -> None:
        engine = sa.create_engine("sqlite://", poolclass=StaticPool)
        metadata.create_all(engine)
        self.connection = engine.connect()
        self.writes = 0
        self.failure: Exception | None = None

    async def write_statement(self, work: Callable[[Any], Any]) -> Any:
        if self.failure is not None:
            raise self.failure
        self.writes += 1
        with self.connection.begin():
            return work(BoundUnitOfWork(self.connection))

    def levels(self) -> dict[str, float]:
        rows = self.connection.exec_driver_sql("SELECT partner_id, used FROM rate_limit_buckets")
        return {partner_id: used for partner_id, used in rows}


class HangingStore(SharedStore):
    """A store whose statements wait until ``answer`` is set (a server that stopped answering)."""

    def __init__(self) -> None:
        super().__init__()
        self.answer = asyncio.Event()

    async def write_statement(self, work: Callable[[Any], Any]) -> Any:
        await self.answer.wait()
        return await super().write_statement(work)


@pytest.fixture
def clock() -> MovableClock:
    return MovableClock()


@pytest.fixture
def store() -> SharedStore:
    return SharedStore()


def process(store: SharedStore, clock: MovableClock, *, sync_seconds: float = 1.0) -> RateLimiter:
    """An API process's limiter on ``store``."""
    return RateLimiter(DatabaseBuckets(cast(Database, store), wall_clock=clock), sync_seconds=sync_seconds, clock=clock)


def sync(*processes: RateLimiter) -> None:
    for each in processes:
        asyncio.run(each.sync())


def test_one_process_lets_the_limit_through_at_once_then_a_request_per_refill(clock: MovableClock) -> None:
    limiter = RateLimiter(clock=clock)
    assert [limiter.retry_after(CO, 6) for _ in range(6)] == [0] * 6
    assert limiter.retry_after(CO, 6) == 10  # a request's worth refills in 60 / 6 s
    clock.now += 4
    assert limiter.retry_after(CO, 6) == 6
    clock.now += 6
    assert limiter.retry_after(CO, 6) == 0
    assert limiter.retry_after(CO, 6) == 10
    assert limiter.retry_after("another-co", 6) == 0  # its own budget
    assert all(limiter.retry_after("unlimited", None) == 0 for _ in range(100))
    clock.now += 60  # refilled over the minute, not more than the limit
    assert [limiter.retry_after(CO, 6) for _ in range(7)] == [0] * 6 + [10]
    # A limit raised refills faster; one lowered below what was used asks for a minute more at most.
    assert [limiter.retry_after(CO, 600) for _ in range(594)] == [0] * 594
    assert limiter.retry_after(CO, 600) == 1
    assert limiter.retry_after(CO, 6) == 70


@pytest.mark.parametrize("per_minute", [1, 7, 60, 1000, 100_000])
def test_retry_after_is_never_0_and_the_request_goes_once_it_has_passed(clock: MovableClock, per_minute: int) -> None:
    limiter = RateLimiter(clock=clock)
    for _ in range(3):
        while (wait := limiter.retry_after(CO, per_minute)) == 0:
            pass
        assert 1 <= wait <= 60
        clock.now += wait
        assert limiter.retry_after(CO, per_minute) == 0


def test_admit_counts_a_principals_partner_and_refuses_with_the_wait(clock: MovableClock) -> None:
    """The other APIs' way in (esim-v1, tmf-productorder, TMF622): the partner's bucket, its limit."""
    limiter = RateLimiter(clock=clock)
    limited = Principal(Partner("limited", "Limited", frozenset(), frozenset(), rate_limit_per_minute=2))
    unlimited = Principal(Partner("unlimited", "Unlimited", frozenset(), frozenset()))
    limiter.admit(limited)
    assert limiter.retry_after("limited", 2) == 0  # onapi-order's requests draw on the same bucket
    with pytest.raises(RateLimited) as refused:
        limiter.admit(limited)
    assert refused.value.retry_after == 30 and limiter.wait(limited) == 30
    for _ in range(100):
        limiter.admit(unlimited)
    assert limiter.wait(unlimited) == 0 and "unlimited" not in limiter._buckets  # nothing kept for it


def test_two_processes_draw_on_one_bucket(store: SharedStore, clock: MovableClock) -> None:
    a, b = process(store, clock), process(store, clock)
    answers = []
    for index in range(12):
        answers.append((a if index % 2 else b).retry_after(CO, 6))
        clock.now += 0.1
        sync(a, b)  # each learns the other's requests within a sync interval
    assert answers[:6] == [0] * 6
    assert all(9 <= wait <= 10 for wait in answers[6:])
    # A request's worth refills for both: one of them lets one request through, the other then refuses.
    clock.now += 10
    assert a.retry_after(CO, 6) == 0
    sync(a, b)
    assert 9 <= b.retry_after(CO, 6) <= 10


def test_an_overshoot_between_syncs_is_bounded_and_paid_back(store: SharedStore, clock: MovableClock) -> None:
    a, b, c = process(store, clock), process(store, clock), process(store, clock)
    # A burst at three processes at once, before any of them adds to the bucket: each lets a full
    # bucket through, the most a process lets through on its own.
    assert [p.retry_after(CO, 6) for p in (a, b, c) for _ in range(7)] == ([0] * 6 + [10]) * 3
    sync(a, b, c)
    sync(a, b, c)  # the first to add learns the others' requests with its next sync
    # The bucket keeps at most two minutes' worth used: every process waits until it has refilled
    # below a request's room, 70 s (never more than about a minute past what one bucket would ask).
    assert [p.retry_after(CO, 6) for p in (a, b, c)] == [70, 70, 70]
    clock.now += 60
    assert [p.retry_after(CO, 6) for p in (a, b, c)] == [10, 10, 10]
    clock.now += 10
    assert a.retry_after(CO, 6) == 0


def test_a_process_started_later_learns_the_bucket_with_its_first_sync(store: SharedStore, clock: MovableClock) -> None:
    running = process(store, clock)
    assert [running.retry_after(CO, 6) for _ in range(5)] == [0] * 5
    sync(running)
    started = process(store, clock)
    # Judged before it has learned anything, as the first request of a partner at any process whose
    # bucket for it had refilled: the bound's one request.
    assert started.retry_after(CO, 6) == 0
    sync(started)
    assert started.retry_after(CO, 6) == 10


def test_while_the_store_fails_each_process_counts_alone_and_shares_again_once_it_answers(
    store: SharedStore, clock: MovableClock, caplog: pytest.LogCaptureFixture
) -> None:
    a, b = process(store, clock), process(store, clock)
    caplog.set_level(logging.WARNING, "orderhub.rate_limits")
    for failure in (DatabaseUnavailable("the database did not answer in time"), RuntimeError("no such table")):
        store.failure = failure
        assert [a.retry_after(CO, 6) for _ in range(4)] == [0] * 4
        assert [b.retry_after(CO, 6) for _ in range(4)] == [0] * 4
        sync(a, b)
        sync(a, b)
        assert a.retry_after(CO, 6) == 0 and b.retry_after(CO, 6) == 0  # 5 each: neither knows the other's
        assert a.retry_after(CO, 6) == 0 and b.retry_after(CO, 6) == 0
        assert a.retry_after(CO, 6) == 10 and b.retry_after(CO, 6) == 10  # each still holds its own limit
        store.failure = None
        sync(a, b)
        clock.now += 120  # refilled
    alone = [r.getMessage() for r in caplog.records if "alone" in r.getMessage()]
    assert len(alone) == 4  # once per process and outage, not once per sync
    assert "the database did not answer in time" in alone[0]
    assert len([r for r in caplog.records if "shared with the other processes again" in r.getMessage()]) == 4
    # Sharing again: what each lets through, the other learns.
    assert b.retry_after(CO, 6) == 0
    assert [a.retry_after(CO, 6) for _ in range(5)] == [0] * 5
    sync(a, b, a)
    assert a.retry_after(CO, 6) == 10 and b.retry_after(CO, 6) == 10


def test_requests_are_answered_while_a_sync_waits_on_a_store_that_does_not_answer(clock: MovableClock) -> None:
    store = HangingStore()
    a = process(store, clock, sync_seconds=0.01)

    async def scenario() -> list[int]:
        answers = [a.retry_after(CO, 6) for _ in range(3)]
        await asyncio.sleep(0.05)  # a's sync is under way, waiting on the store
        answers += [a.retry_after(CO, 6) for _ in range(4)]
        store.answer.set()
        await asyncio.sleep(0.05)
        await a.stop()
        return answers

    assert asyncio.run(scenario()) == [0] * 6 + [10]
    assert store.levels() == {CO: 6.0}  # its requests reached the bucket once the store answered


def test_an_application_that_stops_waits_for_the_statement_under_way_but_not_for_long(
    clock: MovableClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = HangingStore()
    limiter = process(store, clock, sync_seconds=60)

    async def stop_during_a_statement(answer_after: float) -> float:
        limiter.retry_after(CO, 6)
        await asyncio.sleep(0.01)  # its sync is waiting on the store
        asyncio.get_running_loop().call_later(answer_after, store.answer.set)
        started = time.monotonic()
        await limiter.stop()
        return time.monotonic() - started

    # Where the stop must not wait out its bound, the bound is made long: a loaded machine's event loop
    # may take a good part of a second to come round, and that should not pass for the bound.
    bound = rate_limits.STOP_WAIT_SECONDS
    monkeypatch.setattr(rate_limits, "STOP_WAIT_SECONDS", 30.0)
    assert asyncio.run(stop_during_a_statement(0.05)) < 10
    assert store.levels() == {CO: 1.0}  # the statement under way was answered
    monkeypatch.setattr(rate_limits, "STOP_WAIT_SECONDS", bound)
    store.answer = asyncio.Event()
    # A store that does not answer (here for a minute): the bound, a second, and not the minute.
    assert 0.9 < asyncio.run(stop_during_a_statement(60)) < 5
    monkeypatch.setattr(rate_limits, "STOP_WAIT_SECONDS", 30.0)

    async def stop_between_syncs() -> float:
        limiter.retry_after(CO, 6)
        store.answer.set()
        await asyncio.sleep(0.01)  # synced, waiting for the next interval
        started = time.monotonic()
        await limiter.stop()
        return time.monotonic() - started

    store.answer = asyncio.Event()
    assert asyncio.run(stop_between_syncs()) < 10  # at once: not the bound, nor the next sync a minute on


def test_syncs_run_on_the_loop_at_most_once_an_interval_while_a_bucket_is_not_full(
    store: SharedStore, clock: MovableClock
) -> None:
    limiter = process(store, clock, sync_seconds=0.05)

    async def scenario() -> tuple[int, int, float, int]:
        for _ in range(5):
            limiter.retry_after(CO, 60)
        await asyncio.sleep(0.01)
        first = store.writes  # at once, for the five requests
        started = time.monotonic()
        for _ in range(20):
            limiter.retry_after(CO, 60)
            await asyncio.sleep(0.01)
        during, elapsed = store.writes - first, time.monotonic() - started
        await asyncio.sleep(0.06)  # the last requests added
        clock.now += 60  # refilled: nothing left to tell or learn, the syncs stop
        await asyncio.sleep(0.1)
        after = store.writes
        await asyncio.sleep(0.2)
        return first, during, elapsed, store.writes - after

    first, during, elapsed, after_full = asyncio.run(scenario())
    assert first == 1
    assert 1 <= during <= elapsed / 0.05 + 1
    assert after_full == 0


def test_a_bucket_idle_for_minutes_is_deleted_with_a_later_sync(store: SharedStore, clock: MovableClock) -> None:
    limiter = process(store, clock)
    limiter.retry_after(CO, 6)
    sync(limiter)
    clock.now += IDLE_SECONDS + 1
    limiter.retry_after("another-co", 6)
    sync(limiter)
    assert list(store.levels()) == ["another-co"]


def test_the_shared_bucket_refills_again_after_the_wall_clock_is_set_back(store: SharedStore) -> None:
    # The processes' clocks of time elapsing (monotonic) go on; the wall clock the shared bucket is
    # dated by steps an hour back (an NTP step on every host). The bucket was dated an hour "ahead":
    # it refilled nothing for that hour, and the CO was refused (429) all of it once its limit was used.
    elapsed, wall = MovableClock(), MovableClock()
    a = RateLimiter(DatabaseBuckets(cast(Database, store), wall_clock=wall), clock=elapsed)
    assert [a.retry_after(CO, 6) for _ in range(6)] == [0] * 6
    sync(a)
    wall.now -= 3600
    for _ in range(3):  # syncing every 30 s: a minute and a half, refilled
        elapsed.now += 30
        wall.now += 30
        sync(a)
    assert [a.retry_after(CO, 6) for _ in range(7)] == [0] * 6 + [10]
    sync(a)
    assert store.levels() == {CO: 6.0}
