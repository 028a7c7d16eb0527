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
from tests.integration.support import OrderhubProcess, OrderhubProcesses, client, wait_until

ACME, FIBRA = demo_credentials()["onapi-order"][:2]
LIMIT = 6
# Each process adds its requests and learns the others' every 50 ms.
SYNC_SECONDS = "0.05"
PACE_SECONDS = 0.15
# A trigger notes each change of a bucket with the application (PGAPPNAME) whose statement made it, so
# that the test can tell when each process has added a request and the other has learned of it.
NOTE_SYNCS = [
    "CREATE TABLE bucket_syncs (n bigserial PRIMARY KEY, app text NOT NULL, partner_id text NOT NULL)",
    "CREATE FUNCTION note_bucket_sync() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN"
    " INSERT INTO bucket_syncs (app, partner_id) VALUES (current_setting('application_name'), NEW.partner_id);"
    " RETURN NULL; END $$",
    "CREATE TRIGGER note_bucket_sync AFTER INSERT OR UPDATE ON rate_limit_buckets"
    " FOR EACH ROW EXECUTE FUNCTION note_bucket_sync()",
]


@pytest.fixture
def limited(pg_url: str) -> Iterator[Services]:
    setup = build_services(Settings(database_url=pg_url))
    for operator in (ACME, FIBRA):
        setup.partners.set_rate_limit(operator["partner"], LIMIT)
    with setup.engine.begin() as connection:
        for statement in NOTE_SYNCS:
            connection.execute(sa.text(statement))
    try:
        yield setup
    finally:
        setup.close()


def two_api_processes(
    orderhub_procs: OrderhubProcesses, pg_url: str, env: dict[str, str] | None = None
) -> list[OrderhubProcess]:
    # Each with its name in its connections (libpq's PGAPPNAME), for the trigger's notes.
    envs = [
        {"ORDERHUB_RATE_LIMIT_SYNC_SECONDS": SYNC_SECONDS, "PGAPPNAME": f"api-{n}", **(env or {})} for n in range(2)
    ]
    return [
        orderhub_procs.serve(orderhub_procs.tmp_path, demo=False, db_url=pg_url, extra_args=["--no-worker"], env=each)
        for each in envs
    ]


class Syncs:
    """The bucket changes the trigger noted, of one partner."""

    def __init__(self, engine: sa.Engine, partner_id: str) -> None:
        self._engine = engine
        self._partner_id = partner_id

    def last(self) -> int:
        with self._engine.connect() as connection:
            return int(connection.execute(sa.text("SELECT coalesce(max(n), 0) FROM bucket_syncs")).scalar_one())

    def second_after(self, mark: int, app: str) -> int:
        """The note of ``app``'s second sync after ``mark``, once there is one: the first may have begun
        before ``mark``; the second began after the first was answered, and so after ``mark``."""

        def second() -> int:
            with self._engine.connect() as connection:
                notes = connection.execute(
                    sa.text(
                        "SELECT n FROM bucket_syncs WHERE n > :mark AND app = :app AND partner_id = :partner"
                        " ORDER BY n LIMIT 2"
                    ),
                    {"mark": mark, "app": app, "partner": self._partner_id},
                ).scalars()
                found = list(notes)
            return found[1] if len(found) == 2 else 0

        return int(wait_until(second, timeout=30, interval=0.02, message=f"two syncs of {app} after {mark}"))


def in_turn(
    apis: list[OrderhubProcess], operator: dict[str, str], count: int, syncs: Syncs | None = None
) -> list[tuple[httpx.Response, float]]:
    """``count`` requests of ``operator``, to each process in turn, each answer with how long it took: a
    product list or an order (a body the route refuses, 400, after the rate limit), two of each in turn.

    With ``syncs``: each request is sent once the process that answered the one before has added it to
    the shared bucket and the other process has learned the bucket since (each has synced twice in turn;
    a pause of so many sync intervals could be outlasted by a loaded machine's statements). Without: a
    pause of PACE_SECONDS between requests."""
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
            if syncs is None:
                time.sleep(PACE_SECONDS)
            elif n > 0:  # the other process has had a request: it has a bucket, which it keeps in step
                added = syncs.second_after(syncs.last(), f"api-{n % 2}")
                syncs.second_after(added, f"api-{(n + 1) % 2}")
    return answers


def let_through(answers: list[tuple[httpx.Response, float]]) -> int:
    assert {answer.status_code for answer, _ in answers} <= {200, 400, 429}, [a.status_code for a, _ in answers]
    for answer, _ in answers:
        if answer.status_code == 429:
            assert 1 <= int(answer.headers["Retry-After"]) <= 70 and answer.json() == {"cause": "Too many requests"}
    return sum(answer.status_code != 429 for answer, _ in answers)


def assert_shared(answers: list[tuple[httpx.Response, float]], started: float) -> None:
    """Each request judged by a process that knew of every request before it: the first LIMIT let
    through, then each refused but for what the bucket refilled meanwhile (a request's worth every
    60 / LIMIT s, which a loaded machine's run may reach)."""
    refilled = int((time.monotonic() - started) * LIMIT / 60)
    statuses = [answer.status_code for answer, _ in answers]
    assert let_through(answers[:LIMIT]) == LIMIT, statuses
    assert let_through(answers[LIMIT:]) <= refilled, (statuses, refilled)


def test_a_co_sending_to_two_processes_in_turn_gets_its_limit_in_total(
    limited: Services, pg_url: str, orderhub_procs: OrderhubProcesses
) -> None:
    apis = two_api_processes(orderhub_procs, pg_url)
    started = time.monotonic()
    answers = in_turn(apis, ACME, 2 * LIMIT + 2, Syncs(limited.engine, ACME["partner"]))
    # Counted per process, each let 6 through: 12. Shared: 6, refused by both after.
    assert_shared(answers, started)


def test_a_database_that_does_not_answer_for_the_limit_leaves_each_process_its_own_count(
    limited: Services, pg_url: str, orderhub_procs: OrderhubProcesses
) -> None:
    # A statement waits for a lock 4 s (half the write bound): well past what a loaded machine added to an
    # answer (1.5 s seen), so that an answer that waited for one stands out. Not much longer: the table's
    # lock is held until the syncs have failed at it, and other tests on the server wait for transactions
    # in progress (the TMF622 events' settling reads the server's snapshot).
    apis = two_api_processes(orderhub_procs, pg_url, {"ORDERHUB_DB_WRITE_TIMEOUT_SECONDS": "8"})
    alone = "rate limits counted by this process alone until the database answers"
    with limited.engine.connect() as holder:
        # The buckets' table locked: every sync waits for the lock until its lock_timeout, and fails.
        holder.execute(sa.text("LOCK TABLE rate_limit_buckets IN ACCESS EXCLUSIVE MODE"))
        answers = in_turn(apis, ACME, 2 * LIMIT + 2)
        for api in apis:
            wait_until(lambda api=api: alone in api.log(200_000), timeout=60, message="a sync to fail")
        holder.rollback()
    # No 5xx, no answer waiting on the database: each process let its own limit through.
    assert let_through(answers) == 2 * LIMIT, [answer.status_code for answer, _ in answers]
    # An answer that waited for the locked table would have taken its lock_timeout, 4 s, at least.
    assert max(seconds for _, seconds in answers) < 3.0
    # Once the database answers, the processes share again.
    started = time.monotonic()
    assert_shared(in_turn(apis, FIBRA, 2 * LIMIT + 2, Syncs(limited.engine, FIBRA["partner"])), started)
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
