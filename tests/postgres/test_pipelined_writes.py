"""The writers' batches go out pipelined on PostgreSQL (store.fastsql): statements whose answers nobody
reads are sent without waiting, so a job costs a few round trips instead of one per statement, and
every error still belongs to the job, and the savepoint, that ran the statement that met it."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import sqlalchemy as sa

from orderhub.bootstrap import build_services
from orderhub.services.order_commands import PlacedOrder, PlaceOrder
from orderhub.services.ports import DuplicateKey
from orderhub.settings import Settings
from orderhub.store.runtime import SqlDatabase
from orderhub.store.unit_of_work import BoundUnitOfWork
from tests.postgres.test_hung_server import FreezableProxy
from tests.postgres.test_races import caller, esim, placing

Work = Callable[[BoundUnitOfWork], Any]


@pytest.fixture
def probe_table(pg_url: str) -> Iterator[sa.Engine]:
    engine = sa.create_engine(pg_url.replace("postgresql://", "postgresql+psycopg://", 1))
    with engine.begin() as connection:
        connection.execute(sa.text("CREATE TABLE pipe_probe (n integer PRIMARY KEY)"))
    try:
        yield engine
    finally:
        engine.dispose()


@pytest.fixture
def probe(pg_url: str, probe_table: sa.Engine) -> Iterator[tuple[sa.Engine, SqlDatabase]]:
    database = SqlDatabase(pg_url, write_timeout=10, writers=1)
    try:
        yield probe_table, database
    finally:
        database.close()


def _insert(uow: BoundUnitOfWork, n: int) -> None:
    uow.orders._sql.execute("INSERT INTO pipe_probe (n) VALUES (?)", (n,))


def _stored(engine: sa.Engine) -> list[int]:
    with engine.connect() as connection:
        return sorted(connection.execute(sa.text("SELECT n FROM pipe_probe")).scalars())


def _together(database: SqlDatabase, *works: Work) -> list[Any]:
    """The works submitted at once, so that they run in one batch; each one's result or exception."""

    async def submit() -> list[Any]:
        return await asyncio.gather(*(database.write(work) for work in works), return_exceptions=True)

    return asyncio.run(submit())


def test_a_job_of_ten_inserts_and_a_read_waits_for_the_server_a_few_times_not_once_a_statement(
    pg_url: str, probe_table: sa.Engine
) -> None:
    url = sa.make_url(pg_url)
    proxy = FreezableProxy(url.port or 5432)
    database = SqlDatabase(str(url.set(host="127.0.0.1", port=proxy.port)), write_timeout=10, writers=1)

    def ten_inserts_and_a_read(uow: BoundUnitOfWork) -> int:
        for n in range(10):
            _insert(uow, n)
        (count,) = uow.orders._sql.one("SELECT count(*) FROM pipe_probe") or (0,)
        return int(count)

    try:
        asyncio.run(database.write(lambda uow: uow.orders._sql.one("SELECT 1")))  # connected
        before = proxy.settled()
        assert asyncio.run(database.write(ten_inserts_and_a_read)) == 10
        waits = proxy.answers - before
    finally:
        database.close()
        proxy.close()
    # One statement at a time it was 17 (BEGIN, SAVEPOINT, 10 inserts, the read, RELEASE, NOTIFY, COMMIT); now 5.
    assert waits <= 6, waits
    assert _stored(probe_table) == list(range(10))


def test_a_statement_that_fails_unread_fails_its_own_job_only_and_undoes_all_of_it(
    probe: tuple[sa.Engine, SqlDatabase],
) -> None:
    engine, database = probe

    def clashes(uow: BoundUnitOfWork) -> str:
        _insert(uow, 1)
        _insert(uow, 2)
        _insert(uow, 1)  # a duplicate key, sent without waiting
        _insert(uow, 3)
        return "answered"

    outcomes = _together(database, lambda uow: _insert(uow, 10), clashes, lambda uow: _insert(uow, 11))
    assert outcomes[0] is None and outcomes[2] is None
    assert isinstance(outcomes[1], DuplicateKey)
    assert _stored(engine) == [10, 11]


def test_an_error_inside_a_nested_savepoint_is_undone_there_and_the_job_goes_on(
    probe: tuple[sa.Engine, SqlDatabase],
) -> None:
    engine, database = probe
    caught: list[Exception] = []

    def recovers(uow: BoundUnitOfWork) -> str:
        _insert(uow, 1)
        try:
            with uow.savepoint():
                _insert(uow, 2)
                _insert(uow, 1)  # fails, unread: the savepoint's end collects it
        except Exception as exc:
            caught.append(exc)
        _insert(uow, 3)
        return "went on"

    assert _together(database, recovers) == ["went on"]
    assert len(caught) == 1 and "duplicate key" in str(caught[0])
    assert _stored(engine) == [1, 3]


def test_an_error_sent_before_a_nested_savepoint_is_not_taken_for_the_savepoints_own(
    probe: tuple[sa.Engine, SqlDatabase],
) -> None:
    """Had the inner savepoint undone it, its ROLLBACK TO would have gone to the job's own savepoint
    (one name for all, store.fastsql) and the job would have answered with its first insert lost."""
    engine, database = probe

    def fails_before(uow: BoundUnitOfWork) -> str:
        _insert(uow, 1)
        _insert(uow, 1)  # fails, unread, before the savepoint
        try:
            with uow.savepoint():
                _insert(uow, 2)
        except Exception:
            pass  # as services.fulfilment does around what it fulfils at once
        return "answered"

    outcomes = _together(database, lambda uow: _insert(uow, 10), fails_before)
    assert outcomes[0] is None
    assert isinstance(outcomes[1], Exception), outcomes[1]
    assert _stored(engine) == [10]


@pytest.mark.parametrize("reader", ["fastsql", "sqlalchemy"])
def test_an_error_a_job_catches_still_fails_that_job_alone(probe: tuple[sa.Engine, SqlDatabase], reader: str) -> None:
    """The end of a job's savepoint waits for no answer when every one is in; a read that failed and
    was caught leaves the transaction failed, and that must still be found there, not at the commit
    (which would lose the whole batch)."""
    engine, database = probe

    def catches(uow: BoundUnitOfWork) -> str:
        _insert(uow, 1)
        try:
            if reader == "fastsql":
                uow.orders._sql.one("SELECT 1 / 0")
            else:
                uow.orders._db.execute(sa.text("SELECT 1 / 0"))
        except Exception:
            pass
        return "answered"

    outcomes = _together(database, lambda uow: _insert(uow, 10), catches, lambda uow: _insert(uow, 11))
    assert outcomes[0] is None and outcomes[2] is None, outcomes
    assert isinstance(outcomes[1], Exception), outcomes[1]
    assert _stored(engine) == [10, 11]


def test_statements_sqlalchemy_runs_read_their_answers_inside_a_pipelined_job(
    probe: tuple[sa.Engine, SqlDatabase],
) -> None:
    engine, database = probe

    def mixed(uow: BoundUnitOfWork) -> int:
        _insert(uow, 1)
        _insert(uow, 2)
        connection = uow.orders._db
        return int(connection.execute(sa.text("SELECT count(*) FROM pipe_probe")).scalar_one())

    assert _together(database, mixed) == [2]
    assert _stored(engine) == [1, 2]


def test_orders_placed_together_through_a_pipelined_writer_are_all_stored_whole(pg_url: str) -> None:
    services = build_services(Settings(database_url=pg_url, db_writers=1))
    try:

        async def place_together() -> list[Any]:
            emails = [f"p-{uuid.uuid4().hex[:8]}@example.com" for _ in range(30)]
            calls = [placing(services, esim(email, subscriptions=2)) for email in emails]
            return await asyncio.gather(*(call() for call in calls))

        placed = asyncio.run(place_together())
    finally:
        services.close()
    assert all(isinstance(p, PlacedOrder) for p in placed)
    engine = sa.create_engine(pg_url.replace("postgresql://", "postgresql+psycopg://", 1))
    ids = [p.order_id for p in placed]
    with engine.connect() as connection:
        states = dict(
            connection.execute(sa.text("SELECT id, state FROM orders WHERE id = ANY(:ids)"), {"ids": ids}).all()
        )
        subscriptions = connection.execute(
            sa.text("SELECT count(*) FROM subscriptions WHERE order_id = ANY(:ids)"), {"ids": ids}
        ).scalar_one()
    engine.dispose()
    assert set(states) == set(ids) and set(states.values()) == {"completed"}
    assert subscriptions == 60


def test_the_idempotency_key_look_up_of_an_order_costs_no_round_trip_of_its_own(pg_url: str) -> None:
    """An esim-v1 order with an Idempotency-Key, alone in its batch: the key's look-up is sent and its
    answer comes in with the customer's upsert, and the batch's COMMIT with the pipeline's closing sync.
    9 round trips when the look-up waited for its answer, 7 when the COMMIT waited for its own."""
    url = sa.make_url(pg_url)
    proxy = FreezableProxy(url.port or 5432)
    services = build_services(Settings(database_url=str(url.set(host="127.0.0.1", port=proxy.port)), db_writers=1))
    counts = []
    try:
        principal = caller(services)
        for _ in range(6):
            request = esim(f"rt-{uuid.uuid4().hex[:8]}@example.com")
            command = PlaceOrder(
                request, {"email": request.customer_email}, "esim-v1", idempotency_keys=(str(uuid.uuid4()),)
            )
            before = proxy.answers
            assert isinstance(asyncio.run(services.ordering.place(principal, command)), PlacedOrder)
            counts.append(proxy.answers - before)
    finally:
        services.close()
        proxy.close()
    # The first orders also connect and prepare statements; once a second a low-stock check reads.
    assert min(counts[2:]) <= 6, counts


# A statement psycopg runs for the sixth time (its prepare_threshold, 5, reached) goes out as a PREPARE
# and its first use. Neither the texts below nor the savepoint's run anywhere else on the connection.
_COUNTED = "SELECT ?::integer"
_MANY = "INSERT INTO pipe_probe (n) VALUES (?)  -- many"


def _five_jobs(database: SqlDatabase, first: int) -> None:
    """Five jobs one batch each: their savepoint and insert are then prepared on the writer's connection."""
    for n in range(first, first + 5):
        assert _together(database, lambda uow, n=n: _insert(uow, n)) == [None]


def test_a_statement_whose_prepare_a_failed_job_skipped_does_not_lose_a_later_batch(
    probe: tuple[sa.Engine, SqlDatabase],
) -> None:
    """psycopg counts a statement prepared when it sends its PREPARE, and never reads that answer when the
    statement had run before (store.pipelines): sent in a job after a statement that failed, its
    PREPARE is skipped by the server. Its next use was 26000 "prepared statement _pg3_N does not
    exist", and the whole batch of that use was lost (503). A savepoint's rollback made psycopg forget
    its statements only while ROLLBACK TO SAVEPOINT was new to psycopg's counts: one that ran while
    nothing was prepared yet (the first job here, as on any new connection) made it counted."""
    engine, database = probe
    duplicate = lambda uow: (_insert(uow, 1), _insert(uow, 1))  # noqa: E731
    assert isinstance(_together(database, duplicate)[0], DuplicateKey)  # nothing prepared yet
    _five_jobs(database, 100)

    def prepares_after_an_error(uow: BoundUnitOfWork) -> None:
        for n in range(5):
            uow.orders._sql.execute(_COUNTED, (n,))
        _insert(uow, 100)  # a duplicate key, unread
        uow.orders._sql.execute(_COUNTED, (5,))  # its PREPARE, skipped by the server

    def uses_it(uow: BoundUnitOfWork, n: int) -> int:
        (value,) = uow.orders._sql.one(_COUNTED, (n,)) or (0,)
        _insert(uow, n)
        return int(value)

    outcomes = _together(database, lambda uow: _insert(uow, 10), prepares_after_an_error, lambda uow: uses_it(uow, 11))
    assert outcomes[0] is None and outcomes[2] == 11, outcomes
    assert isinstance(outcomes[1], DuplicateKey), outcomes[1]
    assert _together(database, lambda uow: uses_it(uow, 12), lambda uow: _insert(uow, 13)) == [12, None]
    assert _stored(engine) == [10, 11, 12, 13, *range(100, 105)]


def test_a_statement_prepared_right_after_a_savepoint_rolled_back_does_not_lose_a_later_batch(
    probe: tuple[sa.Engine, SqlDatabase],
) -> None:
    """A savepoint's rollback makes psycopg forget its prepared statements, and the DEALLOCATE ALL that
    makes the server forget them too waits for the next statement, and goes out after it: an insert of
    several rows (executemany, prepared at once) right after was deallocated as it was prepared, and
    its next use was 26000, losing the batch of that use."""
    engine, database = probe
    _five_jobs(database, 100)

    def catches_then_inserts_many(uow: BoundUnitOfWork) -> str:
        try:
            with uow.savepoint():
                _insert(uow, 1)
                raise ValueError("refused")  # as fulfilment's inline provisioning may
        except ValueError:
            pass
        uow.orders._sql.execute_many(_MANY, [(2,), (3,)])
        return "answered"

    def inserts_many(uow: BoundUnitOfWork) -> None:
        uow.orders._sql.execute_many(_MANY, [(20,), (21,)])

    assert _together(database, catches_then_inserts_many) == ["answered"]
    assert _together(database, inserts_many, lambda uow: _insert(uow, 22)) == [None, None]
    assert _stored(engine) == [2, 3, 20, 21, 22, *range(100, 105)]
