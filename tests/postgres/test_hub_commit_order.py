"""TMF622 events committed out of the order of their ids (PostgreSQL: a worker's transaction took an event id,
an API process took a later one and committed first): the listener still gets every event, in order. It
was sent the later event, its cursor passed the earlier one, and that event, committed a moment after, was
never sent."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
import sqlalchemy as sa

from orderhub.bootstrap import build_services
from orderhub.services.settled_events import newest_for_a_new_listener
from orderhub.settings import Settings
from tests.api.slow_listener import SlowListener
from tests.api.support import get_token, running_server
from tests.api.test_tmf622 import BASE, CHANNELS, DELIVERED_WITHIN, auth, create, order_body
from tests.api.test_tmf622_events import LOOPBACK
from tests.databases import database_url


def partner_event_ids(url: str, since: int, to_state: str | None = None) -> list[int]:
    """The ids of the channel's events after ``since`` (those to ``to_state`` only, when given)."""
    engine = sa.create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
    try:
        with engine.connect() as connection:
            rows = connection.execute(
                sa.text(
                    "SELECT id FROM order_events WHERE partner_id = 'demo-channel-1' AND id > :since"
                    " AND to_state = coalesce(:to_state, to_state) ORDER BY id"
                ),
                {"since": since, "to_state": to_state},
            )
            return [int(event_id) for (event_id,) in rows]
    finally:
        engine.dispose()


@dataclass
class HeldWorker:
    """A second process's worker that has taken the scheduled order and failed it in a transaction not yet
    committed (its events have their ids): ``go_on`` lets it commit; ``committing_from`` says when it
    began to (before that, nobody can have seen the commit)."""

    go_on: threading.Event = field(default_factory=threading.Event)
    committing_from: list[float] = field(default_factory=list)


def listening_after_one_order(http: httpx.Client, url: str, listener: SlowListener) -> tuple[str, list[int]]:
    """The channel's token and its newest event id before (``[0]`` for none), once ``listener`` is registered
    and has been sent the events of one order."""
    token = get_token(http, str(CHANNELS[0]["client_id"]), str(CHANNELS[0]["client_secret"]))
    since = partner_event_ids(url, 0)[-1:] or [0]
    registered = http.post(f"{BASE}/hub", json={"callback": listener.url}, headers=auth(token))
    assert registered.status_code == 201, registered.text
    create(http, token, order_body())
    listener.wait_for(len(partner_event_ids(url, since[0])), timeout=DELIVERED_WITHIN)
    return token, since


@contextmanager
def worker_holding_its_events(url: str, reference: str) -> Iterator[HeldWorker]:
    worker = build_services(Settings(database_url=url, db_write_timeout_seconds=10.0))
    held, ended = HeldWorker(), threading.Event()

    def finish() -> None:
        with worker.uow_factory() as uow:
            later = datetime.now(UTC) + timedelta(hours=2)
            (order_id,) = uow.orders.due_order_ids(later, 10, claim=True)
            order = uow.orders.get(order_id)
            assert order is not None and order.reference == reference
            order.start(later)
            order.fail("the line is barred", later)
            uow.orders.save(order)  # its events take their ids now
            ended.set()
            held.go_on.wait(20)
            held.committing_from.append(time.monotonic())
            uow.commit()

    thread = threading.Thread(target=finish)
    thread.start()
    try:
        assert ended.wait(10)
        yield held
    finally:
        held.go_on.set()
        thread.join(20)
        worker.close()


def scheduled_order(http: httpx.Client, token: str) -> dict[str, Any]:
    due = (datetime.now(UTC) + timedelta(hours=1)).isoformat().replace("+00:00", "Z")
    return create(http, token, order_body(requestedStartDate=due))


def test_an_event_committed_after_a_later_one_still_reaches_the_listener(tmp_path: Path) -> None:
    listener = SlowListener()
    db_path = tmp_path / "hub.db"
    try:
        with running_server(db_path, **LOOPBACK) as server, server.client() as http:
            token = get_token(http, str(CHANNELS[0]["client_id"]), str(CHANNELS[0]["client_secret"]))
            registered = http.post(f"{BASE}/hub", json={"callback": listener.url}, headers=auth(token))
            assert registered.status_code == 201, registered.text
            since = partner_event_ids(database_url(db_path), 0)[-1:] or [0]
            scheduled = scheduled_order(http, token)
            listener.wait_for(len(partner_event_ids(database_url(db_path), since[0])), timeout=DELIVERED_WITHIN)

            # The worker ends the scheduled order, and commits only once an order placed meanwhile has
            # committed later events.
            with worker_holding_its_events(database_url(db_path), scheduled["id"]):
                create(http, token, order_body())  # committed now, its events' ids after the worker's
                time.sleep(1.5)  # the dispatcher's turns (every 0.2 s) while the worker's events are not committed

            expected = partner_event_ids(database_url(db_path), since[0])
            listener.wait_for(len(expected), timeout=DELIVERED_WITHIN)
            time.sleep(0.5)  # nothing more comes
            sent = listener.event_ids()
            (failed,) = partner_event_ids(database_url(db_path), since[0], "failed")  # the worker's
        assert sent == expected, (sent, expected)  # every event, once, in order
        assert failed in sent
    finally:
        listener.close()


def test_a_listener_registered_while_an_earlier_event_commits_is_sent_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A worker's transaction holds an event id below the newest committed one when a listener registers,
    and commits after: the listener is sent that event, or its registration was answered only after it
    committed. Before, the registration started after the newest id, answered at once, and the worker's
    event, committed after the 201, was never sent."""
    # The registration waits for the transactions in progress 2 s at most, then may miss what they commit
    # (settled_events): here 10 s, so that a loaded machine's late commit (due 0.5 s in) is waited for.
    # (Not much longer: the client waits 30 s for the answer.)
    monkeypatch.setitem(newest_for_a_new_listener.__kwdefaults__, "wait_at_most", 10.0)
    listener = SlowListener()
    db_path = tmp_path / "hub.db"
    url = database_url(db_path)
    try:
        with running_server(db_path, **LOOPBACK) as server, server.client() as http:
            token = get_token(http, str(CHANNELS[0]["client_id"]), str(CHANNELS[0]["client_secret"]))
            scheduled = scheduled_order(http, token)
            with worker_holding_its_events(url, scheduled["id"]) as worker:
                create(http, token, order_body())  # committed now, its events' ids after the worker's
                newest_before = partner_event_ids(url, 0)[-1]
                threading.Timer(0.5, worker.go_on.set).start()  # the worker commits while the registration runs
                registered = http.post(f"{BASE}/hub", json={"callback": listener.url}, headers=auth(token))
                answered_at = time.monotonic()
                assert registered.status_code == 201, registered.text
            create(http, token, order_body())  # after the registration: its events are the listener's
            (failed,) = partner_event_ids(url, 0, "failed")  # the worker's
            assert failed < newest_before
            after = partner_event_ids(url, newest_before)
            # Answered before the worker began to commit: the registration did not wait for it. (A commit
            # timed once it returned could be timed after an answer that did wait for it.)
            committed_late = answered_at < worker.committing_from[0]
            expected = sorted([*after, failed]) if committed_late else after
            listener.wait_for(len(expected), timeout=DELIVERED_WITHIN)
            time.sleep(0.5)  # nothing more comes
            sent = listener.event_ids()
        assert sent == expected, (sent, expected, committed_late)
    finally:
        listener.close()


# A copy of the channel's newest event, written as a new one (taking the next id).
COPY_NEWEST_EVENT = (
    "INSERT INTO order_events (order_id, at, from_state, to_state, reason, snapshot, cancellation_id, partner_id)"
    " SELECT order_id, at, from_state, to_state, reason, snapshot, cancellation_id, partner_id FROM order_events"
    " WHERE partner_id = 'demo-channel-1' ORDER BY id DESC LIMIT 1 RETURNING id"
)


def written(connection: psycopg.Connection[Any], statement: str) -> int:
    row = connection.execute(statement).fetchone()
    assert row is not None
    return int(row[0])


def prepared_transactions_allowed(url: str) -> bool:
    with psycopg.connect(url) as connection:
        return written(connection, "SELECT CAST(current_setting('max_prepared_transactions') AS integer)") > 0


@contextmanager
def event_written_in(url: str, held_in: str) -> Iterator[int]:
    """An event written in orderhub's database by a transaction that commits only on leaving (its id): one
    written in ``held_in``, "a transaction", "a savepoint" (the only write of the transaction) or "a
    prepared transaction"."""
    gid = f"held-{uuid.uuid4()}"
    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute("BEGIN")
        if held_in == "a savepoint":
            connection.execute("SAVEPOINT held")
        event_id = written(connection, COPY_NEWEST_EVENT)
        if held_in == "a prepared transaction":
            connection.execute(f"PREPARE TRANSACTION '{gid}'")
        try:
            yield event_id
        finally:
            connection.execute(f"COMMIT PREPARED '{gid}'" if held_in == "a prepared transaction" else "COMMIT")


@pytest.mark.parametrize("held_in", ["a transaction", "a savepoint", "a prepared transaction"])
def test_events_wait_for_a_transaction_of_orderhubs_database_that_holds_an_earlier_one(
    tmp_path: Path, held_in: str
) -> None:
    """Only transactions of other databases are passed over (test_hub_other_databases): one of orderhub's
    own, however it holds its event, holds every later event until it commits."""
    listener = SlowListener()
    db_path = tmp_path / "hub.db"
    url = database_url(db_path)
    try:
        with running_server(db_path, **LOOPBACK) as server, server.client() as http:
            if held_in == "a prepared transaction" and not prepared_transactions_allowed(url):
                pytest.skip("this PostgreSQL server prepares no transaction (max_prepared_transactions is 0)")
            token, since = listening_after_one_order(http, url, listener)
            with event_written_in(url, held_in) as held:
                create(http, token, order_body())  # committed now, its events' ids after the held one
                time.sleep(1.5)  # the dispatcher's turns (every 0.2 s) while the held event is not committed
                sent_meanwhile = listener.event_ids()
            expected = partner_event_ids(url, since[0])
            listener.wait_for(len(expected), timeout=DELIVERED_WITHIN)
            time.sleep(0.5)  # nothing more comes
            sent = listener.event_ids()
        assert sent_meanwhile and max(sent_meanwhile) < held, (sent_meanwhile, held)
        assert sent == expected, (sent, expected)  # every event, once, in order
        assert held in sent
    finally:
        listener.close()


def test_an_event_id_taken_before_a_committed_one_by_a_transaction_begun_after_it_is_not_passed_over(
    tmp_path: Path,
) -> None:
    """A transaction (the second) began after another (the first), took its event id before it, and commits
    after it: the first's event waits for it. Before, the transactions in progress were read from a
    snapshot, which lists only those below the newest one that had ended: while none after the second had
    ended, the first's event was sent at once, the listener's cursor passed the second's, and it was never
    sent."""
    listener = SlowListener()
    db_path = tmp_path / "hub.db"
    url = database_url(db_path)
    try:
        with running_server(db_path, **LOOPBACK) as server, server.client() as http:
            _, since = listening_after_one_order(http, url, listener)
            with psycopg.connect(url, autocommit=True) as first, psycopg.connect(url, autocommit=True) as second:
                for transaction in (first, second):  # their transaction ids, in this order
                    transaction.execute("BEGIN")
                    written(transaction, "SELECT CAST(pg_current_xact_id() AS text)")
                lower = written(second, COPY_NEWEST_EVENT)
                higher = written(first, COPY_NEWEST_EVENT)
                first.execute("COMMIT")
                time.sleep(1.5)  # the dispatcher's turns while the second has not committed
                sent_meanwhile = listener.event_ids()
                second.execute("COMMIT")
            expected = partner_event_ids(url, since[0])
            listener.wait_for(len(expected), timeout=DELIVERED_WITHIN)
            time.sleep(0.5)  # nothing more comes
            sent = listener.event_ids()
        assert lower < higher
        assert sent_meanwhile and max(sent_meanwhile) < lower, (sent_meanwhile, lower)
        assert sent == expected, (sent, expected)  # every event, once, in order
    finally:
        listener.close()
