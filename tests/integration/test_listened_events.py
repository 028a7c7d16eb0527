"""The events TMF622 listeners hear of are found by their partner (migration 0024): a listener's pending
events cost what is pending, not every order its partner ever placed; events stored before 0024, and
those an older release inserts while it serves beside this one, are found too. The functions take a
database URL: tests/postgres/test_listened_events.py runs them on PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa

from orderhub.bootstrap import build_services
from orderhub.domain.changes import Listener
from orderhub.services.demo import load_demo_data
from orderhub.settings import Settings
from orderhub.store import migrate
from orderhub.store.change_repository import _events_after
from orderhub.store.database import create_engine
from tests.databases import database_url

pytestmark = pytest.mark.integration

LISTENED = ("LINE_PRODUCTS",)
AT = "2026-12-01 12:00:00.000000"


def add_order(connection: sa.Connection, order_id: str, partner: str, operation: str) -> None:
    connection.execute(
        sa.text(
            "INSERT INTO orders (id, partner_id, dialect, operation, state, request, output, created_at, updated_at,"
            " attempts, version) VALUES (:id, :partner, 'tmf622', :operation, 'accepted', '{}', '{}', :at, :at, 0, 1)"
        ),
        {"id": order_id, "partner": partner, "operation": operation, "at": AT},
    )


def add_event(connection: sa.Connection, order_id: str, *, snapshot: bool) -> None:
    """An event as an older release inserts it: without partner_id (a listened order's with a snapshot)."""
    connection.execute(
        sa.text(
            "INSERT INTO order_events (order_id, at, from_state, to_state, snapshot)"
            " VALUES (:order_id, :at, NULL, 'accepted', :snapshot)"
        ),
        {"order_id": order_id, "at": AT, "snapshot": '{"request": {}, "due_at": null}' if snapshot else None},
    )


def pending_orders(url: str, partner: str) -> list[str]:
    services = build_services(Settings(database_url=url))
    try:
        listener = Listener("L", partner, "https://listener.example/cb", None, datetime.now(UTC), 0)
        with services.uow_factory(read_only=True) as uow:
            found = [order_id for order_id, _, _ in uow.listeners.events_after(listener, LISTENED, 100)]
            assert uow.listeners.count_events_after(listener, LISTENED) == len(found)
        return found
    finally:
        services.close()


def events_stored_before_0024_and_inserted_by_an_older_release_are_found(url: str) -> None:
    engine = create_engine(url)
    try:
        migrate.upgrade(engine, "0023")
        services = build_services(Settings(database_url=url))
        load_demo_data(services.uow_factory, inventory_size=1)
        services.close()
        with engine.begin() as connection:
            add_order(connection, "line-1", "demo-channel-1", "LINE_PRODUCTS")
            add_order(connection, "line-2", "demo-channel-2", "LINE_PRODUCTS")
            add_order(connection, "esim-1", "demo-channel-1", "NEW_ESIM")
            for order_id in ("line-1", "line-2"):
                add_event(connection, order_id, snapshot=True)
            add_event(connection, "esim-1", snapshot=False)
        migrate.upgrade(engine)
        assert pending_orders(url, "demo-channel-1") == ["line-1"]  # backfilled, the other partner's not
        with engine.begin() as connection:  # an older release, serving beside this one, orders on
            add_order(connection, "line-3", "demo-channel-1", "LINE_PRODUCTS")
            add_event(connection, "line-3", snapshot=True)
            add_event(connection, "esim-1", snapshot=False)
        assert pending_orders(url, "demo-channel-1") == ["line-1", "line-3"]
        with engine.connect() as connection:
            unlistened = connection.execute(
                sa.text("SELECT count(*) FROM order_events WHERE order_id = 'esim-1' AND partner_id IS NOT NULL")
            ).scalar_one()
        assert unlistened == 0  # no listener hears of them: they stay out of the index
    finally:
        engine.dispose()


def test_events_stored_before_0024_and_inserted_by_an_older_release_are_found(tmp_path: Path) -> None:
    events_stored_before_0024_and_inserted_by_an_older_release_are_found(database_url(tmp_path / "events.db"))


def test_a_listeners_pending_events_are_read_from_its_partners_events_not_its_orders(tmp_path: Path) -> None:
    url = database_url(tmp_path / "plan.db")
    engine = create_engine(url)
    try:
        migrate.upgrade(engine)
        listener = Listener("L", "demo-channel-1", "https://listener.example/cb", None, datetime.now(UTC), 0)
        services = build_services(Settings(database_url=url))
        try:
            after, params = _events_after(listener, LISTENED)
            with services.uow_factory(read_only=True) as uow:
                sql = uow.listeners._sql  # type: ignore[attr-defined]
                plan = sql.all(f"EXPLAIN QUERY PLAN SELECT e.id {after} ORDER BY e.id", params)
        finally:
            services.close()
    finally:
        engine.dispose()
    steps = [str(row[-1]) for row in plan]
    # The partner's listened events from their own index, each one's order by its key, no sort: before,
    # SQLite started from every order of the partner (ix_orders_partner_listing) and sorted their events.
    assert steps[0].startswith("SEARCH e USING INDEX ix_order_events_listened (partner_id=? AND id>?)"), steps
    assert steps[1].startswith("SEARCH o USING INDEX sqlite_autoindex_orders_1 (id=?)"), steps
    assert not any("TEMP B-TREE" in step for step in steps), steps


def test_a_listener_with_nothing_to_send_is_not_leased_and_does_not_hold_back_one_with_events(tmp_path: Path) -> None:
    """An idle service writes nothing for its listeners (each poll used to lease and release every one
    of them), and the listeners looked at first, with nothing to send, do not take the places of one
    that has events."""
    url = database_url(tmp_path / "idle.db")
    services = build_services(Settings(database_url=url))
    try:
        services.migrate()
        load_demo_data(services.uow_factory, inventory_size=1)
        now = datetime.now(UTC)
        idle = [Listener(f"idle-{n}", "demo-channel-2", f"https://idle{n}.example/cb", None, now, 0) for n in range(3)]
        busy = Listener("busy", "demo-channel-1", "https://busy.example/cb", None, now, 0)
        with services.uow_factory() as uow:
            for listener in (*idle, busy):
                uow.listeners.register(listener)
            uow.commit()
        assert services.hub.claim_due(1) == []
        with services.engine.connect() as connection:
            leased = connection.execute(sa.text("SELECT count(*) FROM hub_listeners WHERE lease_until IS NOT NULL"))
            assert leased.scalar_one() == 0
        with services.engine.begin() as connection:
            add_order(connection, "line-1", "demo-channel-1", "LINE_PRODUCTS")
            add_event(connection, "line-1", snapshot=True)
        assert [listener.id for listener in services.hub.claim_due(1)] == ["busy"]
    finally:
        services.close()
