"""A write that meets another transaction's row lock does not hold up the writes batched with it.

A burst of line orders across two processes answered unrelated esim-v1 orders 503 after 10 s: each job
of a batch that waited for a row lock another process's batch held waited up to the lock timeout (1 s),
ran again in the same transaction, and every other job of the batch waited with it (while the batch's
own locks were what the other batch waited for). Now such a job waits briefly, is undone, and runs
again in the writer's next batch."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa

from orderhub.bootstrap import Services, build_services
from orderhub.services.ports import DatabaseUnavailable
from orderhub.settings import Settings


@pytest.fixture
def one_writer(pg_url: str) -> Iterator[Services]:
    """One writer, so that the writes submitted together share its batches."""
    built = build_services(Settings(database_url=pg_url, db_writers=1))
    try:
        yield built
    finally:
        built.close()


def a_customer(services: Services) -> str:
    with services.engine.connect() as connection:
        return str(connection.execute(sa.text("SELECT id FROM customers ORDER BY id LIMIT 1")).scalar_one())


CUSTOMER_ROW = "SELECT 1 FROM customers WHERE id = :id FOR UPDATE"


class LockHolder:
    """Another process's transaction: holds the rows ``locking`` locks (by default the customer's row)
    until told to let go (at most 15 s)."""

    def __init__(
        self,
        services: Services,
        customer_id: str = "",
        locking: str = "SELECT 1 FROM customers WHERE id = :id FOR UPDATE",
    ) -> None:
        self.holding, self.release = threading.Event(), threading.Event()
        self._thread = threading.Thread(target=self._hold, args=(services.engine, sa.text(locking), customer_id))
        self._thread.start()
        assert self.holding.wait(10)

    def _hold(self, engine: sa.Engine, locking: sa.TextClause, customer_id: str) -> None:
        with engine.begin() as connection:
            connection.execute(locking, {"id": customer_id} if customer_id else {})
            self.holding.set()
            self.release.wait(15)

    def let_go(self) -> None:
        self.release.set()
        self._thread.join(10)


def test_a_write_batched_with_one_that_waits_for_a_row_lock_is_answered_while_the_lock_is_held(
    one_writer: Services,
) -> None:
    database = one_writer.database
    customer_id = a_customer(one_writer)
    holder = LockHolder(one_writer, customer_id)
    answered_while_held: list[bool] = []

    async def run() -> list[Any]:
        # The writer is busy a moment, so that the two writes after it go in one batch.
        busy = asyncio.ensure_future(database.write(lambda uow: time.sleep(0.2)))
        await asyncio.sleep(0.05)
        locked = asyncio.ensure_future(database.write(lambda uow: uow.erasures.lock_customer(customer_id)))
        unrelated = asyncio.ensure_future(database.write(lambda uow: "unrelated"))
        await busy
        try:
            # The lock is held until the unrelated write is answered (or 10 s went by).
            answered_while_held.append(await asyncio.wait_for(asyncio.shield(unrelated), 10) == "unrelated")
        finally:
            holder.let_go()
        return list(await asyncio.gather(locked, unrelated, return_exceptions=True))

    try:
        outcomes = asyncio.run(run())
    finally:
        holder.let_go()
    assert answered_while_held == [True]
    # The write that met the lock ran again in later batches and went through once the lock was let go.
    assert outcomes == [None, "unrelated"], outcomes


def test_a_write_that_keeps_meeting_a_row_lock_is_answered_busy_by_its_deadline(one_writer: Services) -> None:
    database = one_writer.database
    customer_id = a_customer(one_writer)
    holder = LockHolder(one_writer, customer_id)
    try:
        started = time.monotonic()
        with pytest.raises(DatabaseUnavailable) as refused:
            asyncio.run(database.write(lambda uow: uow.erasures.lock_customer(customer_id)))
        waited = time.monotonic() - started
    finally:
        holder.let_go()
    assert refused.value.retry_after == 1 and "busy" in refused.value.reason
    # Answered at its deadline (the write timeout, 2 s), not after the answer timeout (10 s).
    assert waited < 6, waited
