"""Reads on PostgreSQL: one round trip a statement, no transaction left open on the server."""

from __future__ import annotations

import asyncio

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
        asyncio.run(database.read(read))
        assert database.config_version() == seen["version_after"][0]  # type: ignore[index]
    finally:
        database.close()
        admin.dispose()
    assert seen["state"] == "idle"
    assert seen["version_after"][0] == seen["version_before"][0] + 1  # type: ignore[index]
