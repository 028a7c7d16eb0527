"""Reads on PostgreSQL: one round trip a statement, no transaction left open on the server."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from typing import cast

import sqlalchemy as sa

from orderhub.store.runtime import SqlDatabase
from orderhub.store.unit_of_work import BoundUnitOfWork


def _server_state(admin: sa.Engine, pid: int) -> str:
    with admin.connect() as connection:
        state = connection.execute(sa.text("SELECT state FROM pg_stat_activity WHERE pid = :pid"), {"pid": pid})
        return str(state.scalar())


def test_a_read_opens_no_transaction_on_the_server_and_sees_each_commit(pg_url: str) -> None:
    admin = sa.create_engine(pg_url.replace("postgresql://", "postgresql+psycopg://", 1))
    database = SqlDatabase(pg_url, write_timeout=10)
    seen: dict[str, object] = {}

    def read(uow: BoundUnitOfWork) -> None:
        sql = uow.orders._sql  # the reader's own connection
        (pid,) = sql.one("SELECT pg_backend_pid()") or (0,)
        # Between two statements of a read the server holds no transaction for it (a BEGIN would
        # cost a round trip, and an idle transaction holds back vacuum).
        seen["state"] = _server_state(admin, pid)
        seen["version_before"] = sql.one("SELECT version FROM config_version WHERE id = 1")
        with admin.begin() as connection:
            connection.execute(sa.text("UPDATE config_version SET version = version + 1 WHERE id = 1"))
        # READ COMMITTED, as before: the next statement sees what was committed meanwhile.
        seen["version_after"] = sql.one("SELECT version FROM config_version WHERE id = 1")

    try:
        asyncio.run(database.read(lambda uow: read(cast(BoundUnitOfWork, uow))))
    finally:
        database.close()
        admin.dispose()
    assert seen["state"] == "idle"
    assert seen["version_after"][0] == seen["version_before"][0] + 1  # type: ignore[index]


def test_reads_from_many_threads_at_once_all_get_a_connection(pg_url: str) -> None:
    """A host with many cores gives asyncio's default executor up to 32 threads, more than the pool
    holds; the reads must still all be answered, not wait for a connection and fail."""
    database = SqlDatabase(pg_url, write_timeout=1)  # the default pool

    def slow_read(uow: BoundUnitOfWork) -> int:
        (value,) = uow.orders._sql.one("SELECT 1 FROM pg_sleep(0.05)") or (0,)
        return int(value)

    async def many_at_once() -> list[int]:
        asyncio.get_running_loop().set_default_executor(ThreadPoolExecutor(max_workers=32))
        return await asyncio.gather(
            *(database.read(lambda uow: slow_read(cast(BoundUnitOfWork, uow))) for _ in range(96))
        )

    try:
        assert asyncio.run(many_at_once()) == [1] * 96
    finally:
        database.close()


def test_the_config_version_is_never_at_hand(pg_url: str) -> None:
    # Reading it is a wait on PostgreSQL: an order then takes its credentials from the cache and has
    # its write check them (services.auth.Caller).
    database = SqlDatabase(pg_url, write_timeout=10)

    async def scenario() -> tuple[int | None, int]:
        return database.config_version_at_hand(), await database.config_version()

    try:
        at_hand, read = asyncio.run(scenario())
    finally:
        database.close()
    assert at_hand is None
    assert read > 0
