"""A long write transaction of another application, in another database on the same PostgreSQL server (a
shared or managed server), does not hold TMF622 events nor a new listener's registration: it cannot write
orderhub's events (services.settled_events). Before, every transaction in progress on the server was waited
for, up to 60 s (2 s for a registration), then passed with a warning: partners saw events a minute late."""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
import pytest
import sqlalchemy as sa

from orderhub.services.settled_events import newest_for_a_new_listener
from orderhub.store.change_repository import ListenerRepository
from tests.api.slow_listener import SlowListener
from tests.api.support import get_token, running_server
from tests.api.test_tmf622 import BASE, CHANNELS, auth, create, order_body
from tests.api.test_tmf622_events import LOOPBACK
from tests.databases import PREFIX, database_url
from tests.postgres.test_hub_commit_order import partner_event_ids, prepared_transactions_allowed

# Well under the 60 s an event was held before, with room for a loaded machine.
SENT_WITHIN = 10.0


@contextmanager
def write_transaction_open(url: str, *, prepared: bool = False) -> Iterator[int]:
    """A write transaction in progress on the database at ``url`` (its transaction id; prepared, when
    asked), until leaving."""
    gid = f"theirs-{uuid.uuid4()}"
    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute("CREATE TABLE IF NOT EXISTS their_rows (n integer)")
        connection.execute("BEGIN")
        connection.execute("INSERT INTO their_rows VALUES (1)")
        row = connection.execute("SELECT CAST(pg_current_xact_id() AS text)").fetchone()
        assert row is not None
        if prepared:
            connection.execute(f"PREPARE TRANSACTION '{gid}'")
        try:
            yield int(row[0])
        finally:
            connection.execute(f"COMMIT PREPARED '{gid}'" if prepared else "COMMIT")


def still_in_progress(url: str, transaction_id: int) -> bool:
    with psycopg.connect(url, autocommit=True) as connection:
        row = connection.execute("SELECT pg_xact_status(CAST(%s AS xid8))", (str(transaction_id),)).fetchone()
    return row is not None and row[0] == "in progress"


def held_warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [record.getMessage() for record in caplog.records if "without waiting longer" in record.getMessage()]


@pytest.mark.parametrize("prepared", [False, True], ids=["in progress", "prepared"])
def test_another_databases_long_transaction_does_not_hold_the_events(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, prepared: bool
) -> None:
    caplog.set_level(logging.WARNING, logger="orderhub.hub")
    listener = SlowListener()
    db_path = tmp_path / "hub.db"
    other = database_url(tmp_path / "another-application.db")
    if prepared and not prepared_transactions_allowed(other):
        pytest.skip("this PostgreSQL server prepares no transaction (max_prepared_transactions is 0)")
    try:
        with (
            running_server(db_path, **LOOPBACK) as server,
            server.client() as http,
            write_transaction_open(other, prepared=prepared) as theirs,
        ):
            token = get_token(http, str(CHANNELS[0]["client_id"]), str(CHANNELS[0]["client_secret"]))
            registered = http.post(f"{BASE}/hub", json={"callback": listener.url}, headers=auth(token))
            assert registered.status_code == 201, registered.text
            since = partner_event_ids(database_url(db_path), 0)[-1:] or [0]
            placed_at = time.monotonic()
            create(http, token, order_body())
            expected = partner_event_ids(database_url(db_path), since[0])
            listener.wait_for(len(expected), timeout=SENT_WITHIN)
            waited = time.monotonic() - placed_at
            time.sleep(0.5)  # nothing more comes
            sent = listener.event_ids()
            assert still_in_progress(other, theirs)
        assert sent == expected, (sent, expected, waited)
        assert waited < SENT_WITHIN
        assert held_warnings(caplog) == []
    finally:
        listener.close()


def test_another_databases_long_transaction_does_not_hold_a_registration(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A registration waits for the transactions in progress as it is asked for (2 s at most; here 10 s,
    so that being held shows), then starts after the newest event."""
    monkeypatch.setitem(newest_for_a_new_listener.__kwdefaults__, "wait_at_most", SENT_WITHIN)
    caplog.set_level(logging.WARNING, logger="orderhub.hub")
    listener = SlowListener()
    db_path = tmp_path / "hub.db"
    other = database_url(tmp_path / "another-application.db")
    try:
        with (
            running_server(db_path, **LOOPBACK) as server,
            server.client() as http,
            write_transaction_open(other) as theirs,
        ):
            token = get_token(http, str(CHANNELS[0]["client_id"]), str(CHANNELS[0]["client_secret"]))
            # Transactions begun after theirs commit: theirs is among those in progress as reads go on.
            create(http, token, order_body())
            asked_at = time.monotonic()
            registered = http.post(f"{BASE}/hub", json={"callback": listener.url}, headers=auth(token))
            answered_in = time.monotonic() - asked_at
            assert registered.status_code == 201, registered.text
            assert still_in_progress(other, theirs)
        assert answered_in < SENT_WITHIN / 2, answered_in
        assert held_warnings(caplog) == []
    finally:
        listener.close()


@pytest.fixture
def ordinary_role(pg_url: str) -> Iterator[str]:
    """orderhub's database at ``pg_url``, as a role that is not a superuser and may read its events."""
    role = f"{PREFIX}events_reader"
    with psycopg.connect(pg_url, autocommit=True) as admin:
        admin.execute(f'DROP ROLE IF EXISTS "{role}"')
        admin.execute(f'CREATE ROLE "{role}" LOGIN')
        admin.execute(f'GRANT SELECT ON order_events TO "{role}"')
    try:
        yield str(sa.make_url(pg_url).set(username=role, drivername="postgresql+psycopg"))
    finally:
        with psycopg.connect(pg_url, autocommit=True) as admin:
            admin.execute(f'REVOKE ALL ON order_events FROM "{role}"')
            admin.execute(f'DROP ROLE "{role}"')


def test_a_role_that_is_not_a_superuser_tells_its_own_databases_transactions_from_others(
    pg_url: str, ordinary_role: str, tmp_path: Path
) -> None:
    """Which database a session is on is shown to every role: orderhub connected as an ordinary role is
    not held by a superuser's transaction in another database, and still waits for one in its own."""
    engine = sa.create_engine(ordinary_role, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as connection:
            listeners = ListenerRepository(connection)
            assert connection.exec_driver_sql("SELECT current_setting('is_superuser')").scalar() == "off"
            with write_transaction_open(database_url(tmp_path / "another-application.db")):
                # (Autovacuum may write in orderhub's database a moment, as it analyzes the demo data.)
                deadline = time.monotonic() + 5
                while not listeners.commit_marks(None).idle and time.monotonic() < deadline:
                    time.sleep(0.05)
                assert listeners.commit_marks(None).idle
                with write_transaction_open(pg_url):
                    marks = listeners.commit_marks(None)
                    assert not marks.idle
                    assert not listeners.commit_marks(marks.in_progress).earlier_ended
                assert listeners.commit_marks(marks.in_progress).earlier_ended
    finally:
        engine.dispose()
