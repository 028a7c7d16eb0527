"""What store.errors makes of the errors a real PostgreSQL server raises when it refuses orderhub for
reasons of its own: each such error means "the database cannot be used now" (503 with Retry-After,
the background loops wait), never a bug (500, a traceback a turn). A read-only transaction (a standby
after a failover) and revoked privileges were taken for bugs."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import psycopg
import pytest
import sqlalchemy as sa

from orderhub.services.ports import DatabaseUnavailable
from orderhub.store.errors import is_contention, unavailable_cause
from tests.databases import PREFIX

# A role of the test's own, with no privilege on anything (roles are the server's, shared by every
# database: named with the runs' prefix, and dropped after).
ROLE = f"{PREFIX}probe_{uuid.uuid4().hex[:8]}"

# Each: the statements that make the server raise it, on a connection of the test's superuser.
REFUSALS = {
    "25006 read-only transaction": ["SET TRANSACTION READ ONLY", "INSERT INTO errors_probe VALUES (1)"],
    "42501 privileges revoked": [
        f"SET LOCAL ROLE {ROLE}", "INSERT INTO errors_probe VALUES (1)",
    ],
    "57014 statement timeout": ["SET LOCAL statement_timeout = 10", "SELECT pg_sleep(1)"],
    "53400 temp_file_limit": [
        "SET LOCAL temp_file_limit = 0", "SET LOCAL work_mem = '64kB'",
        "SELECT g FROM generate_series(1, 100000) AS g ORDER BY g DESC",
    ],
}  # fmt: skip


@pytest.fixture
def connection(pg_url: str) -> Iterator[psycopg.Connection[tuple[object, ...]]]:
    url = sa.make_url(pg_url).set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(url, autocommit=True) as setup:
        setup.execute("CREATE TABLE errors_probe (n int)")
        setup.execute(f"CREATE ROLE {ROLE} NOLOGIN")
        try:
            with psycopg.connect(url) as opened:
                yield opened
        finally:
            setup.execute(f"DROP ROLE {ROLE}")


@pytest.mark.parametrize("name", sorted(REFUSALS))
def test_an_error_the_server_raises_for_its_own_state_means_unavailable_not_a_bug(
    connection: psycopg.Connection[tuple[object, ...]], name: str
) -> None:
    with pytest.raises(psycopg.Error) as raised:
        for statement in REFUSALS[name]:
            connection.execute(statement)
    assert raised.value.sqlstate == name.split()[0]
    assert unavailable_cause(raised.value, psycopg) is raised.value
    # As SQLAlchemy wraps it (the store's reads), and as a savepoint hands it to the services.
    wrapped = sa.exc.DBAPIError(None, None, raised.value)
    assert unavailable_cause(wrapped, psycopg) is raised.value
    from_savepoint = DatabaseUnavailable("database unavailable")
    from_savepoint.__cause__ = raised.value
    assert unavailable_cause(from_savepoint, psycopg) is raised.value


def test_a_lock_wait_that_ran_out_is_contention_and_for_a_read_unavailable(
    connection: psycopg.Connection[tuple[object, ...]], pg_url: str
) -> None:
    url = sa.make_url(pg_url).set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(url) as holder:
        holder.execute("LOCK TABLE errors_probe IN ACCESS EXCLUSIVE MODE")  # as ALTER TABLE holds it
        with pytest.raises(psycopg.Error) as raised:
            connection.execute("SET LOCAL lock_timeout = 50")
            connection.execute("SELECT * FROM errors_probe")
    assert is_contention(raised.value)  # a write runs again in a later batch
    assert unavailable_cause(raised.value, psycopg) is None
    # A read has nothing to run again: the table is the operator's (DDL), 503 rather than 500.
    assert unavailable_cause(raised.value, psycopg, lock_waits=True) is raised.value


def test_a_bug_stays_a_bug(connection: psycopg.Connection[tuple[object, ...]]) -> None:
    with pytest.raises(psycopg.Error) as raised:
        connection.execute("SELECT no_such_column FROM errors_probe")
    assert unavailable_cause(raised.value, psycopg, lock_waits=True) is None
