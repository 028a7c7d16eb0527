"""A connection kept out of the pool (a writer's, a reading thread's) that the server closed while it
was idle (PostgreSQL restarted, an administrator's pg_terminate_backend, a failover): its next use
works, not answered 503.

The pool's ping never saw them: with two writers a process, the one that had been idle met its dead
connection with the next burst, however long after the server was back (two API processes each
answered an order 503 6 to 8 s after /readyz said ready), and the first requests after a quiet minute
were answered 503 by a reading thread's (credentials read 2 ms after a ready /readyz).
"""

from __future__ import annotations

import time

import sqlalchemy as sa

from orderhub.bootstrap import build_services
from orderhub.settings import Settings


def terminate_the_other_sessions(url: str) -> int:
    """Ends every other session of the test's own database (none of another database)."""
    engine = sa.create_engine(url)
    try:
        with engine.connect() as db:
            ended = db.execute(
                sa.text(
                    "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
                    " WHERE datname = current_database() AND pid <> pg_backend_pid()"
                )
            ).scalar()
    finally:
        engine.dispose()
    return int(ended or 0)


def test_a_writer_whose_idle_connection_the_server_closed_writes_its_next_batch(pg_url: str) -> None:
    services = build_services(Settings(database_url=pg_url, db_writers=1))
    try:
        database = services.database
        assert database.write_now(lambda uow: "before") == "before"
        assert terminate_the_other_sessions(pg_url) >= 1
        time.sleep(1.5)  # idle a while; the server itself is back at once: only the connection is gone
        assert database.write_now(lambda uow: "after") == "after"
    finally:
        services.close()


def test_a_reading_thread_whose_idle_connection_the_server_closed_reads_again(pg_url: str) -> None:
    services = build_services(Settings(database_url=pg_url))
    try:
        database = services.database  # read_now reads on the calling thread's connection
        assert database.read_now(lambda uow: uow.orders.get("no-such-order")) is None
        assert terminate_the_other_sessions(pg_url) >= 1
        time.sleep(1.5)
        assert database.read_now(lambda uow: uow.orders.get("no-such-order")) is None
    finally:
        services.close()
