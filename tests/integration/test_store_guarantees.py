"""What the store and the fulfilment service guarantee, on a real SQLite file with real threads."""

from __future__ import annotations

import asyncio
import json
import logging
import threading
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from orderhub.bootstrap import Services, build_services
from orderhub.domain.errors import SubscriptionLimitReached
from orderhub.domain.esim import DeviceType, EsimOrderRequest, SubscriptionRequest
from orderhub.domain.order_states import OrderState
from orderhub.domain.orders import ItemState, Operation, Order, OrderItem, Subject, SubjectKind
from orderhub.domain.partners import Principal
from orderhub.domain.results import EsimResult, FulfilmentResult
from orderhub.fulfilment.provisioners import default_provisioners
from orderhub.observability import JsonFormatter
from orderhub.services.auth import principal_of
from orderhub.services.demo import load_demo_data
from orderhub.services.fulfilment import FulfilmentService
from orderhub.services.intakes import default_intakes
from orderhub.services.order_commands import OrderView, PlacedOrder, PlaceOrder
from orderhub.services.ordering import OrderingService
from orderhub.services.ports import UnitOfWork
from orderhub.services.provisioning import Provisioned
from orderhub.settings import Settings
from orderhub.store import migrate
from orderhub.store.tables import esim_assignments, metadata, orders

pytestmark = pytest.mark.integration


@pytest.fixture
def services(tmp_path: Path) -> Iterator[Services]:
    # The worker's guarantees are tested here: orders wait for it instead of being fulfilled at intake.
    built = build_services(Settings(database_url=f"sqlite:///{tmp_path / 'store.db'}", fulfil_inline=False))
    built.migrate()
    load_demo_data(built.uow_factory, inventory_size=120)
    yield built
    built.close()


def place_orders(services: Services, count: int) -> list[str]:
    caller = _caller(services)
    order_ids = []
    for _ in range(count):
        request = EsimOrderRequest(
            operation=Operation.NEW_ESIM,
            customer_email=f"{uuid.uuid4().hex[:10]}@example.com",
            device_type=DeviceType.IOS,
            subscriptions=(SubscriptionRequest(product_id="a3u3z000000PZBhAAO"),),
        )
        placed = place_esim(services.ordering, caller, request)
        order_ids.append(placed.order_id)
    return order_ids


def place_esim(
    ordering: OrderingService,
    caller: Principal,
    request: EsimOrderRequest,
    *,
    raw_request: dict[str, Any] | None = None,
    key: str | None = None,
) -> PlacedOrder:
    command = PlaceOrder(request, raw_request or {}, "esim-v1", idempotency_keys=(key,) if key else ())
    return asyncio.run(ordering.place(caller, command))


def iccid_of(order: Order) -> str:
    assert isinstance(order.result, EsimResult)
    return order.result.iccid


def get_order(services: Services, order_id: str) -> OrderView:
    return asyncio.run(services.ordering.get_order(_caller(services), order_id))


def test_migrations_build_exactly_the_declared_schema(services: Services) -> None:
    migrate.upgrade(services.engine)  # a second run is a no-op
    assert migrate.schema_state(services.engine).status == "current"
    with services.engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), metadata)
    assert differences == []


def test_the_database_refuses_a_second_owner_for_a_profile(services: Services) -> None:
    first, second = place_orders(services, 2)
    services.fulfilment.run_due("w", 1)
    with services.engine.begin() as connection:
        iccid = connection.execute(
            sa.select(esim_assignments.c.iccid).where(esim_assignments.c.order_id == first)
        ).scalar_one()
    with pytest.raises(sa.exc.IntegrityError), services.engine.begin() as connection:
        connection.execute(
            esim_assignments.insert().values(iccid=iccid, order_id=second, assigned_at=datetime.now(UTC))
        )


def test_provisioning_an_order_again_changes_nothing(services: Services) -> None:
    (order_id,) = place_orders(services, 1)
    assert services.fulfilment.run_due("w", 10) == 1
    first = get_order(services, order_id)
    assert first.order.state is OrderState.COMPLETED

    # At-least-once delivery: the same order handed to its provisioner again finds what it made.
    def provision_again(uow: UnitOfWork) -> FulfilmentResult:
        order = uow.orders.get(order_id)
        assert order is not None
        outcome = default_provisioners()[order.operation].provision(uow, order, datetime.now(UTC))
        assert isinstance(outcome, Provisioned)
        return outcome.result

    assert services.database.write_now(provision_again) == first.order.result
    again = get_order(services, order_id)
    assert again.order.result == first.order.result
    assert [e.to_state for e in again.events] == [OrderState.ACCEPTED, OrderState.IN_PROGRESS, OrderState.COMPLETED]
    with services.engine.connect() as connection:
        assert connection.execute(sa.select(sa.func.count()).select_from(esim_assignments)).scalar_one() == 1


def test_an_order_leased_by_a_dead_worker_is_taken_again_after_its_lease(services: Services) -> None:
    (order_id,) = place_orders(services, 1)
    with services.engine.begin() as connection:  # a worker took it, then died before committing more
        connection.execute(
            orders.update()
            .where(orders.c.id == order_id)
            .values(lease_owner="dead-worker", lease_until=datetime.now(UTC) + timedelta(seconds=30))
        )
    assert services.fulfilment.run_due("other-worker", 10) == 0  # the lease still holds

    later = FulfilmentService(
        services.database, default_provisioners(), clock=lambda: datetime.now(UTC) + timedelta(minutes=5)
    )
    assert later.run_due("other-worker", 10) == 1
    assert get_order(services, order_id).order.state is OrderState.COMPLETED


def test_an_order_whose_provisioning_raises_is_retried_then_failed(
    services: Services, caplog: pytest.LogCaptureFixture
) -> None:
    first, second = place_orders(services, 2)

    class Exploding:
        def provision(
            self, uow: UnitOfWork, order: Order, now: datetime, *, first_run: bool = False, readings: object = None
        ) -> Provisioned:
            if order.id == first:
                raise RuntimeError("provisioning system down")
            return default_provisioners()[order.operation].provision(uow, order, now)  # type: ignore[return-value]

    moments = iter(datetime.now(UTC) + timedelta(minutes=minutes) for minutes in range(0, 600, 60))
    flaky = FulfilmentService(
        services.database, {Operation.NEW_ESIM: Exploding()}, clock=lambda: next(moments), max_attempts=3
    )
    assert flaky.run_due("w", 10) == 2  # the neighbour completes although the first order raised
    assert get_order(services, second).order.state is OrderState.COMPLETED
    assert get_order(services, first).order.state is OrderState.ACCEPTED
    flaky.run_due("w", 10)
    caplog.set_level(logging.WARNING, logger="orderhub.fulfilment")
    flaky.run_due("w", 10)
    failed = get_order(services, first)
    assert failed.order.state is OrderState.FAILED
    assert failed.order.failure_reason == "fulfilment failed after 3 attempts"
    # The operator's sign of it, as for any order that ends failed.
    said = [JsonFormatter().format(r) for r in caplog.records if r.levelno == logging.WARNING]
    assert any(f'"order {first} failed: fulfilment failed after 3 attempts"' in line for line in said), said


def test_two_worker_processes_racing_fulfil_each_order_once(services: Services, tmp_path: Path) -> None:
    order_ids = place_orders(services, 60)
    # Two sets of services on one file: two writers, as two `orderhub worker` processes would have.
    others = [build_services(services.settings) for _ in range(2)]

    def drain(fulfilment: FulfilmentService, name: str) -> None:
        while fulfilment.run_due(name, 5):
            pass

    threads = [threading.Thread(target=drain, args=(o.fulfilment, f"w{i}")) for i, o in enumerate(others)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    for other in others:
        other.close()

    views = [get_order(services, order_id) for order_id in order_ids]
    assert all(v.order.state is OrderState.COMPLETED for v in views)
    assert len({iccid_of(v.order) for v in views}) == len(order_ids)
    assert all(len(v.events) == 3 for v in views)


def _caller(services: Services) -> Principal:
    with services.uow_factory(read_only=True) as uow:
        return principal_of(uow, "demo-reseller-1")


def test_a_retry_gets_the_first_answer_even_after_its_activation_date_passed(services: Services) -> None:
    caller = _caller(services)
    soon = datetime.now(UTC) + timedelta(hours=1)
    request = EsimOrderRequest(
        operation=Operation.NEW_ESIM,
        customer_email="retry@example.com",
        device_type=DeviceType.IOS,
        subscriptions=(SubscriptionRequest(product_id="a3u3z000000PZBhAAO", activation_at=soon),),
    )
    first = place_esim(services.ordering, caller, request, raw_request={"n": 1}, key="retry-1")
    a_day_later = OrderingService(
        services.database, default_intakes(), clock=lambda: datetime.now(UTC) + timedelta(days=1)
    )

    retry = place_esim(a_day_later, caller, request, raw_request={"n": 1}, key="retry-1")

    assert retry == PlacedOrder(first.order_id, replayed=True)


def test_subscriptions_of_top_ups_still_in_flight_count_towards_the_limit(services: Services) -> None:
    caller = _caller(services)
    (first,) = place_orders(services, 1)
    services.fulfilment.run_due("w", 10)
    order = get_order(services, first).order
    iccid = iccid_of(order)
    with services.engine.connect() as connection:
        email = connection.execute(
            sa.text("SELECT email FROM customers WHERE id = :id"), {"id": order.customer_id}
        ).scalar_one()

    def top_up(count: int) -> EsimOrderRequest:
        return EsimOrderRequest(
            operation=Operation.TOPUP,
            customer_email=email,
            device_type=DeviceType.IOS,
            subscriptions=(SubscriptionRequest(product_id="a3u3z000000PZBhAAO"),) * count,
            iccid=iccid,
        )

    # Not fulfilled yet (no worker runs here): its 14 subscriptions are still to come.
    place_esim(services.ordering, caller, top_up(14))
    with pytest.raises(SubscriptionLimitReached, match="1 active, 14 more"):
        place_esim(services.ordering, caller, top_up(1))


def test_an_order_due_now_is_fulfilled_in_the_transaction_that_accepts_it(tmp_path: Path) -> None:
    built = build_services(Settings(database_url=f"sqlite:///{tmp_path / 'inline.db'}"))
    built.migrate()
    load_demo_data(built.uow_factory, inventory_size=5)
    try:
        (order_id,) = place_orders(built, 1)
        view = get_order(built, order_id)
        assert view.order.state is OrderState.COMPLETED
        assert [e.to_state for e in view.events] == [OrderState.ACCEPTED, OrderState.IN_PROGRESS, OrderState.COMPLETED]
        assert iccid_of(view.order).startswith("89")
        # Its item delivered and its whole history kept, all in the transaction that accepted it.
        assert [(item.seq, item.state) for item in view.order.items] == [(1, ItemState.DELIVERED)]
        history = [(None, "accepted"), ("accepted", "in_progress"), ("in_progress", "completed")]
        assert _event_rows(built, order_id) == history
    finally:
        built.close()


def test_an_order_that_fails_at_intake_for_want_of_stock_keeps_its_items_and_whole_history(tmp_path: Path) -> None:
    built = build_services(Settings(database_url=f"sqlite:///{tmp_path / 'inline.db'}"))
    built.migrate()
    load_demo_data(built.uow_factory, inventory_size=1)
    try:
        first, second = place_orders(built, 2)
        assert get_order(built, first).order.state is OrderState.COMPLETED
        view = get_order(built, second)
        assert view.order.state is OrderState.FAILED
        assert view.order.failure_reason == "no eSIM profile available in inventory"
        assert [(item.seq, item.state) for item in view.order.items] == [(1, ItemState.FAILED)]
        history = [(None, "accepted"), ("accepted", "in_progress"), ("in_progress", "failed")]
        assert _event_rows(built, second) == history
    finally:
        built.close()


def _event_rows(built: Services, order_id: str) -> list[tuple[str | None, str]]:
    with built.engine.connect() as connection:
        rows = connection.execute(
            sa.text("SELECT from_state, to_state FROM order_events WHERE order_id = :id ORDER BY id"), {"id": order_id}
        )
        return [(row[0], row[1]) for row in rows]


def test_an_order_whose_provisioning_raises_at_intake_is_accepted_and_left_to_the_worker(tmp_path: Path) -> None:
    built = build_services(Settings(database_url=f"sqlite:///{tmp_path / 'inline.db'}"))
    built.migrate()
    load_demo_data(built.uow_factory, inventory_size=5)

    class Exploding:
        runs_inline = True

        def provision(
            self, uow: UnitOfWork, order: Order, now: datetime, *, first_run: bool = False, readings: object = None
        ) -> Provisioned:
            uow.profiles.claim_available(order.id, order.customer_id, now)  # writes, then fails
            raise RuntimeError("provisioning system down")

    exploding = FulfilmentService(built.database, {Operation.NEW_ESIM: Exploding()})
    built.ordering = OrderingService(built.database, default_intakes(), fulfil_now=exploding.fulfil_in)
    try:
        (order_id,) = place_orders(built, 1)
        view = get_order(built, order_id)
        assert view.order.state is OrderState.ACCEPTED
        with built.engine.connect() as connection:
            assert connection.execute(sa.select(sa.func.count()).select_from(esim_assignments)).scalar_one() == 0
        # The undone attempt leaves the order as accepted: its item not yet delivered, one event.
        assert [(item.seq, item.state) for item in view.order.items] == [(1, None)]
        assert _event_rows(built, order_id) == [(None, "accepted")]
        assert built.fulfilment.run_due("w", 10) == 1  # the real worker fulfils it
        done = get_order(built, order_id)
        assert done.order.state is OrderState.COMPLETED
        assert [(item.seq, item.state) for item in done.order.items] == [(1, ItemState.DELIVERED)]
        assert [state for _from, state in _event_rows(built, order_id)] == ["accepted", "in_progress", "completed"]
    finally:
        built.close()


def test_an_order_due_later_waits_scheduled_and_the_worker_fulfils_it_when_due(services: Services) -> None:
    now = datetime.now(UTC)
    due = now + timedelta(hours=2)
    (placed,) = place_orders(services, 1)  # a customer to order for
    customer_id = get_order(services, placed).order.customer_id
    later_order = Order.accept(
        now=now,
        due_at=due,
        id="scheduled-order-1",
        partner_id="demo-reseller-1",
        dialect="esim-v1",
        operation=Operation.NEW_ESIM,
        customer_id=customer_id,
        items=[OrderItem(seq=1, product_id="a3u3z000000PZBhAAO")],
    )
    services.database.write_now(lambda uow: uow.orders.add(later_order))
    services.fulfilment.run_due("w", 10)  # fulfils the first order only: the second is not due
    assert get_order(services, "scheduled-order-1").order.state is OrderState.SCHEDULED

    when_due = FulfilmentService(services.database, default_provisioners(), clock=lambda: due + timedelta(seconds=1))
    assert when_due.run_due("w", 10) == 1
    view = get_order(services, "scheduled-order-1")
    assert view.order.state is OrderState.COMPLETED
    # Due, then started: the step a partner's new date that makes an order due takes too.
    assert [e.to_state for e in view.events] == [
        OrderState.ACCEPTED,
        OrderState.SCHEDULED,
        OrderState.ACCEPTED,
        OrderState.IN_PROGRESS,
        OrderState.COMPLETED,
    ]


def test_upgrading_keeps_orders_placed_before_the_generalised_core(tmp_path: Path) -> None:
    """Orders stored by 0002 (ICCID in target_iccid, esim-v1's wire keys as output) read the same after 0003."""
    built = build_services(Settings(database_url=f"sqlite:///{tmp_path / 'old.db'}"))
    migrate.upgrade(built.engine, "0002")
    now = datetime.now(UTC).replace(tzinfo=None)
    legacy_output = {
        "iccid": "8935101000000000017",
        "matchingId": "MATCH-1",
        "smdpUrl": "smdp.example.com",
        "lpa_url": "LPA:1$smdp.example.com$MATCH-1",
        "subscription_id": "sub-1",
    }
    with built.engine.begin() as connection:
        connection.execute(
            sa.text(
                "INSERT INTO partners (id, name, roles, currencies, created_at) VALUES ('p', 'P', '[]', '[]', :now)"
            ),
            {"now": now},
        )
        connection.execute(
            sa.text(
                "INSERT INTO customers (id, partner_id, email, created_at) VALUES ('c1', 'p', 'jane@example.com', :now)"
            ),
            {"now": now},
        )
        connection.execute(
            sa.text(
                "INSERT INTO orders (id, partner_id, dialect, operation, state, customer_id, target_iccid, request,"
                " output, created_at, updated_at) VALUES ('o1', 'p', 'esim-v1', 'TOPUP', 'completed', 'c1', :iccid,"
                " '{}', :output, :now, :now)"
            ),
            {"iccid": legacy_output["iccid"], "output": json.dumps(legacy_output), "now": now},
        )
    try:
        built.migrate()
        with built.uow_factory(read_only=True) as uow:
            order = uow.orders.get("o1")
        assert order is not None
        assert order.subject == Subject(SubjectKind.ESIM, "8935101000000000017")
        assert order.result == EsimResult("8935101000000000017", "smdp.example.com", ("sub-1",), "MATCH-1")
        # The customers table was rebuilt (e-mail became optional): its rows and the orders'
        # references to them survived.
        assert order.customer_id == "c1"
        with built.uow_factory(read_only=True) as uow:
            customer = uow.partners.find_customer(["p"], "jane@example.com")
        assert customer is not None and customer.id == "c1"
        with built.engine.connect() as connection:
            assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    finally:
        built.close()


def test_upgrading_keys_stored_customers_by_email_whatever_its_case(tmp_path: Path) -> None:
    """Customers stored before 0011 are found by any case of their e-mail; of two whose e-mails differ
    only in case, the older one."""
    built = build_services(Settings(database_url=f"sqlite:///{tmp_path / 'old.db'}"))
    migrate.upgrade(built.engine, "0010")
    with built.engine.begin() as connection:
        connection.execute(
            sa.text(
                "INSERT INTO partners (id, name, roles, currencies, created_at) VALUES ('p', 'P', '[]', '[]', :now)"
            ),
            {"now": datetime(2026, 1, 1)},
        )
        stored_before = [
            ("c2", "JANE.DOE@example.com", 2),
            ("c1", "Jane.Doe@Example.com", 1),
            ("c3", None, 3),
            ("c4", "Ölaf@Example.com", 4),
            ("c5", "sam@x.io", 5),
        ]
        for customer_id, email, day in stored_before:
            connection.execute(
                sa.text(
                    "INSERT INTO customers (id, partner_id, email, identity_type, identity_value, created_at)"
                    " VALUES (:id, 'p', :email, :kind, :number, :at)"
                ),
                {"id": customer_id, "email": email, "at": datetime(2026, 1, day),
                 "kind": None if email else "PIN", "number": None if email else "19121212-1212"},
            )  # fmt: skip
    try:
        built.migrate()
        with built.uow_factory(read_only=True) as uow:
            asked = [
                "jane.doe@example.com",
                "JANE.DOE@EXAMPLE.COM",
                "Jane.Doe@Example.com",
                "ölaf@example.com",
                "SAM@X.IO",
            ]
            found = {email: uow.partners.find_customer(["p"], email) for email in asked}
        assert {email: c.id if c else None for email, c in found.items()} == {
            "jane.doe@example.com": "c1",
            "JANE.DOE@EXAMPLE.COM": "c1",
            "Jane.Doe@Example.com": "c1",
            "ölaf@example.com": "c4",  # beyond ASCII too, as Python folds it
            "SAM@X.IO": "c5",
        }
        with built.engine.connect() as connection:
            stored = dict(connection.exec_driver_sql("SELECT id, email FROM customers").all())
        # The younger of the two keeps its spelling (and its orders), and is no longer found by e-mail.
        assert stored == {"c1": "jane.doe@example.com", "c2": "JANE.DOE@example.com", "c3": None,
                          "c4": "ölaf@example.com", "c5": "sam@x.io"}  # fmt: skip
    finally:
        built.close()


def test_every_change_an_api_could_show_moves_the_order_version(services: Services) -> None:
    """The version is what services.rendered_orders trusts: a change that did not move it would be
    served stale from a rendered copy."""
    (order_id,) = place_orders(services, 1)

    def version() -> int:
        with services.uow_factory(read_only=True) as uow:
            stamp = uow.orders.stamp(order_id)
            assert stamp.partner_id == "demo-reseller-1"
            return stamp.version

    seen = [version()]
    assert services.fulfilment.run_due("worker") == 1  # state, output, items, history
    seen.append(version())
    with services.uow_factory() as uow:
        order = uow.orders.get(order_id)
        assert order is not None
        order.request = {**order.request, "description": "changed by the partner"}
        uow.orders.update_request(order)
        uow.commit()
    seen.append(version())
    with services.uow_factory() as uow:
        uow.orders.mark_deleted(order, datetime.now(UTC))
        uow.commit()
    seen.append(version())
    assert seen == sorted(set(seen)), seen  # strictly increasing
    with services.uow_factory(read_only=True) as uow:
        missing = uow.orders.stamp("no-such-order")
        assert missing.partner_id is None
        assert missing.config_version == uow.partners.config_version()


def test_a_lines_current_plan_is_one_index_search_however_many_products_the_line_has(services: Services) -> None:
    """Every order on a line looks its plan up; read by scanning and sorting the line's products, it
    slowed each order on a line with a long history (bench: 387 against 1,236 orders/s)."""
    from orderhub.store.unit_of_work import BoundUnitOfWork

    statements: list[str] = []
    with services.engine.connect() as connection:
        driver: Any = connection.connection.driver_connection
        driver.set_trace_callback(statements.append)
        BoundUnitOfWork(connection).lines.active_plan("some-line", datetime.now(UTC))
        driver.set_trace_callback(None)
        (lookup,) = [sql for sql in statements if "line_products" in sql]
        plan = " ".join(row[3] for row in driver.execute(f"EXPLAIN QUERY PLAN {lookup}").fetchall())
    # Newest first along the index: the latest Plan not ended is the first row read, whatever came before.
    assert "USING INDEX ix_line_products_line_plans (line_id=? AND plan_type=?" in plan
    assert "TEMP B-TREE" not in plan
