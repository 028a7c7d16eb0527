"""A writer's batch whose COMMIT has to wait for a lock is committed, or run again, never answered 500.

On PostgreSQL every commit of a transaction that notified (each writer batch tells the workers) takes a
lock that the commit holds while its record is flushed. On a loaded machine that took longer than the
writer's brief row-lock wait (100 ms), the COMMIT gave up with "canceling statement due to lock
timeout" and every order of the batch was answered 500. Here a deferred constraint trigger makes the
COMMIT wait for an advisory lock the test holds, as it waits for that lock."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa

from orderhub.services.ports import DatabaseUnavailable
from orderhub.store.runtime import SqlDatabase
from orderhub.store.unit_of_work import BoundUnitOfWork

GATE = 4242


@pytest.fixture
def gated(pg_url: str) -> Iterator[tuple[sa.Engine, SqlDatabase]]:
    """A table whose rows can only be committed while nobody else holds the advisory lock GATE."""
    engine = sa.create_engine(pg_url.replace("postgresql://", "postgresql+psycopg://", 1))
    with engine.begin() as connection:
        connection.execute(sa.text("CREATE TABLE commit_gate (n integer PRIMARY KEY)"))
        connection.execute(
            sa.text(
                "CREATE FUNCTION commit_gate_wait() RETURNS trigger LANGUAGE plpgsql AS "
                f"$$ BEGIN PERFORM pg_advisory_xact_lock({GATE}); RETURN NULL; END $$"
            )
        )
        connection.execute(
            sa.text(
                "CREATE CONSTRAINT TRIGGER commit_gate_wait AFTER INSERT ON commit_gate "
                "DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION commit_gate_wait()"
            )
        )
    database = SqlDatabase(pg_url, write_timeout=3, writers=1)
    try:
        yield engine, database
    finally:
        database.close()
        engine.dispose()


class GateHeld:
    """Another session holds the gate's lock for ``seconds``."""

    def __init__(self, engine: sa.Engine, seconds: float) -> None:
        self._connection = engine.connect()
        self._connection.execute(sa.text(f"SELECT pg_advisory_lock({GATE})"))
        self._timer = threading.Timer(seconds, self.let_go)
        self._timer.start()
        self._lock = threading.Lock()

    def let_go(self) -> None:
        with self._lock:
            if not self._connection.closed:
                self._connection.execute(sa.text(f"SELECT pg_advisory_unlock({GATE})"))
                self._connection.close()

    def __enter__(self) -> GateHeld:
        return self

    def __exit__(self, *_: object) -> None:
        self._timer.cancel()
        self.let_go()


def _insert(n: int) -> Any:
    def work(uow: BoundUnitOfWork) -> None:
        uow.orders._sql.execute("INSERT INTO commit_gate (n) VALUES (?)", (n,))

    return work


def _stored(engine: sa.Engine) -> list[int]:
    with engine.connect() as connection:
        return sorted(connection.execute(sa.text("SELECT n FROM commit_gate")).scalars())


def _together(database: SqlDatabase, *works: Any) -> list[Any]:
    async def submit() -> list[Any]:
        return await asyncio.gather(*(database.write(work) for work in works), return_exceptions=True)

    return asyncio.run(submit())


def _in_one_batch(database: SqlDatabase, *works: Any) -> list[Any]:
    """``works`` committed in one batch: submitted while the writer thread is still busy with a write that
    waits for them. Submitted together but with the writer idle, the first could be taken alone (the
    writer wakes at the first submission: on a busy machine it did, and the second had a batch of its own)."""
    started, submitted = threading.Event(), threading.Event()

    def holds_the_writer(uow: BoundUnitOfWork) -> None:
        started.set()
        submitted.wait(5)

    async def submit() -> list[Any]:
        held = asyncio.ensure_future(database.write(holds_the_writer))
        await asyncio.to_thread(started.wait, 5)
        writes = [asyncio.ensure_future(database.write(work)) for work in works]
        await asyncio.sleep(0)  # each write is queued as its task first runs
        submitted.set()
        await held
        return await asyncio.gather(*writes, return_exceptions=True)

    return asyncio.run(submit())


def test_a_commit_that_waits_longer_than_a_row_lock_wait_commits_the_whole_batch(
    gated: tuple[sa.Engine, SqlDatabase],
) -> None:
    engine, database = gated
    with GateHeld(engine, 0.6):
        outcomes = _in_one_batch(database, _insert(1), lambda uow: "unrelated")
    assert outcomes == [None, "unrelated"], outcomes
    assert _stored(engine) == [1]


def test_a_commit_that_cannot_get_its_lock_by_the_deadline_is_answered_busy_and_nothing_half_done(
    gated: tuple[sa.Engine, SqlDatabase],
) -> None:
    engine, database = gated
    # Held far past the deadline (3 s), and let go as soon as the writes are answered: on a loaded
    # machine the answer may come seconds after the deadline, and must still come before the lock is free.
    with GateHeld(engine, 60):
        started = time.monotonic()
        outcomes = _in_one_batch(database, _insert(1), lambda uow: "unrelated")
        waited = time.monotonic() - started
    # Both undone together at the commit, both answered busy (503 with Retry-After), not an error.
    assert all(isinstance(outcome, DatabaseUnavailable) for outcome in outcomes), outcomes
    assert all(outcome.retry_after == 1 and "busy" in outcome.reason for outcome in outcomes), outcomes
    assert waited < 15, waited
    assert _stored(engine) == []
    # The writer goes on: once the lock is free the same write commits.
    assert _together(database, _insert(1)) == [None]
    assert _stored(engine) == [1]
