"""onapi-order's rate limit on PostgreSQL: one bucket per communication operator, in the database, drawn
on by every API process; no request waits on the database for it, and a database that does not answer
for it leaves each process counting on its own."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator

import httpx
import pytest
import sqlalchemy as sa

from orderhub.bootstrap import Services, build_services
from orderhub.services.demo import demo_credentials
from orderhub.services.rate_limits import IDLE_SECONDS, DatabaseBuckets
from orderhub.services.records import RequestsToAdd
from orderhub.settings import Settings
from tests.integration.support import OrderhubProcess, OrderhubProcesses, client

ACME, FIBRA = demo_credentials()["onapi-order"][:2]
LIMIT = 6
# Each process adds its requests and learns the others' every 50 ms; the requests below are 150 ms
# apart, so each process has learned the other's earlier requests before it answers the next one.
SYNC_SECONDS = "0.05"
PACE_SECONDS = 0.15


@pytest.fixture
def limited(pg_url: str) -> Iterator[Services]:
    setup = build_services(Settings(database_url=pg_url))
    for operator in (ACME, FIBRA):
        setup.partners.set_rate_limit(operator["partner"], LIMIT)
    try:
        yield setup
    finally:
        setup.close()


def two_api_processes(orderhub_procs: OrderhubProcesses, pg_url: str) -> list[OrderhubProcess]:
    env = {"ORDERHUB_RATE_LIMIT_SYNC_SECONDS": SYNC_SECONDS}
    return [
        orderhub_procs.serve(orderhub_procs.tmp_path, demo=False, db_url=pg_url, extra_args=["--no-worker"], env=env)
        for _ in range(2)
    ]


def in_turn(apis: list[OrderhubProcess], operator: dict[str, str], count: int) -> list[tuple[httpx.Response, float]]:
    """``count`` requests of ``operator``, to each process in turn, each answer with how long it took: a
    product list or an order (a body the route refuses, 400, after the rate limit), two of each in turn."""
    auth = (operator["username"], operator["password"])
    answers = []
    with client(apis[0].base_url) as first, client(apis[1].base_url) as second:
        for n in range(count):
            http = (first, second)[n % 2]
            started = time.monotonic()
            if n // 2 % 2:
                answer = http.post("/2.5/sp_spec/order/", json=[], auth=auth)
            else:
                answer = http.get("/2.5/sp_spec/products/", auth=auth)
            answers.append((answer, time.monotonic() - started))
            time.sleep(PACE_SECONDS)
    return answers


def let_through(answers: list[tuple[httpx.Response, float]]) -> int:
    assert {answer.status_code for answer, _ in answers} <= {200, 400, 429}, [a.status_code for a, _ in answers]
    for answer, _ in answers:
        if answer.status_code == 429:
            assert 1 <= int(answer.headers["Retry-After"]) <= 70 and answer.json() == {"cause": "Too many requests"}
    return sum(answer.status_code != 429 for answer, _ in answers)


def test_a_co_sending_to_two_processes_in_turn_gets_its_limit_in_total(
    limited: Services, pg_url: str, orderhub_procs: OrderhubProcesses
) -> None:
    apis = two_api_processes(orderhub_procs, pg_url)
    answers = in_turn(apis, ACME, 2 * LIMIT + 2)
    # Counted per process, each let 6 through: 12. Shared: 6, or 7 had a sync come late.
    assert LIMIT <= let_through(answers) <= LIMIT + 1, [answer.status_code for answer, _ in answers]
    assert [answer.status_code for answer, _ in answers[-4:]] == [429] * 4  # refused by both


def test_a_database_that_does_not_answer_for_the_limit_leaves_each_process_its_own_count(
    limited: Services, pg_url: str, orderhub_procs: OrderhubProcesses
) -> None:
    apis = two_api_processes(orderhub_procs, pg_url)
    with limited.engine.connect() as holder:
        # The buckets' table locked: every sync waits for the lock until its lock_timeout (1 s), and fails.
        holder.execute(sa.text("LOCK TABLE rate_limit_buckets IN ACCESS EXCLUSIVE MODE"))
        answers = in_turn(apis, ACME, 2 * LIMIT + 2)
        holder.rollback()
    # No 5xx, no answer waiting on the database: each process let its own limit through.
    assert let_through(answers) == 2 * LIMIT, [answer.status_code for answer, _ in answers]
    # An answer that waited for the locked table would have taken its lock_timeout, 1 s, at least.
    assert max(seconds for _, seconds in answers) < 1.0
    for api in apis:
        assert "rate limits counted by this process alone until the database answers" in api.log(200_000)
    # Once the database answers, the processes share again.
    assert LIMIT <= let_through(in_turn(apis, FIBRA, 2 * LIMIT + 2)) <= LIMIT + 1
    for api in apis:
        assert "rate limits shared with the other processes again" in api.log(200_000)
        assert "Traceback" not in api.log(200_000)


class MovableClock:
    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now


def test_the_buckets_statement_refills_caps_and_forgets_idle_buckets(two_processes: tuple[Services, Services]) -> None:
    clock = MovableClock()
    a, b = (DatabaseBuckets(services.database, wall_clock=clock) for services in two_processes)

    def add(buckets: DatabaseBuckets, *added: tuple[str, int]) -> dict[str, float]:
        return asyncio.run(buckets.add([RequestsToAdd(partner, requests, 60) for partner, requests in added]))

    assert add(a, ("co-1", 30), ("co-2", 1)) == {"co-1": 30.0, "co-2": 1.0}
    clock.now += 10  # 10 requests' worth refilled
    assert add(b, ("co-1", 5)) == {"co-1": 25.0}
    assert add(a, ("co-1", 500)) == {"co-1": 120.0}  # two minutes of the limit at most
    clock.now -= 3  # a host whose clock is a little behind refills nothing, and moves no time back
    assert add(b, ("co-1", 0)) == {"co-1": 120.0}
    clock.now += 3 + IDLE_SECONDS + 1
    # b's purge is due: the buckets no process added to for IDLE_SECONDS go (co-1 too, refilled by then).
    assert add(b, ("co-1", 1)) == {"co-1": 1.0}
    with two_processes[0].engine.connect() as connection:
        rows = connection.execute(sa.text("SELECT partner_id FROM rate_limit_buckets")).scalars().all()
    assert rows == ["co-1"]


def test_a_bucket_dated_before_the_clock_was_set_back_refills_from_the_clock_as_it_is(
    two_processes: tuple[Services, Services],
) -> None:
    clock = MovableClock()
    a, b = (DatabaseBuckets(services.database, wall_clock=clock) for services in two_processes)

    def add(buckets: DatabaseBuckets, requests: int) -> dict[str, float]:
        return asyncio.run(buckets.add([RequestsToAdd("co-1", requests, 60)]))

    assert add(a, 60) == {"co-1": 60.0}
    clock.now -= 3600  # an NTP step back on every host: the bucket is dated an hour ahead
    assert add(b, 0) == {"co-1": 60.0}  # dated anew, now
    clock.now += 30
    assert add(a, 0) == {"co-1": 30.0}  # refilling again (before: nothing for the hour)
