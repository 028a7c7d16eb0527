"""What the store and the fulfilment service guarantee, on a real SQLite file with real threads."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from orderhub.bootstrap import Services, build_services
from orderhub.domain.esim import DeviceType, EsimOrderRequest, SubscriptionRequest
from orderhub.domain.orders import Operation, OrderState
from orderhub.domain.partners import Principal
from orderhub.fulfilment.provisioners import default_provisioners
from orderhub.services.auth import principal_of
from orderhub.services.demo import load_demo_data
from orderhub.services.fulfilment import FulfilmentService
from orderhub.services.ordering import OrderingService, PlacedOrder
from orderhub.settings import Settings
from orderhub.store import migrate
from orderhub.store.tables import esim_assignments, metadata

pytestmark = pytest.mark.integration


@pytest.fixture
def services(tmp_path: Path) -> Iterator[Services]:
    built = build_services(Settings(database_url=f"sqlite:///{tmp_path / 'store.db'}"))
    built.migrate()
    load_demo_data(built.uow_factory, inventory_size=120)
    yield built
    built.close()


def place_orders(services: Services, count: int) -> list[str]:
    with services.uow_factory(read_only=True) as uow:
        caller = principal_of(uow, "demo-reseller-1")
    order_ids = []
    for _ in range(count):
        request = EsimOrderRequest(
            operation=Operation.NEW_ESIM,
            customer_email=f"{uuid.uuid4().hex[:10]}@example.com",
            device_type=DeviceType.IOS,
            subscriptions=(SubscriptionRequest(product_id="a3u3z000000PZBhAAO"),),
        )
        placed = services.ordering.place_esim_order(caller, request, raw_request={}, dialect="esim-v1")
        order_ids.append(placed.order_id)
    return order_ids


def test_migrations_build_exactly_the_declared_schema(services: Services) -> None:
    migrate.upgrade(services.engine)  # a second run is a no-op
    assert migrate.is_up_to_date(services.engine)
    with services.engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), metadata)
    assert differences == []


def test_the_database_refuses_a_second_owner_for_a_profile(services: Services) -> None:
    first, second = place_orders(services, 2)
    services.fulfilment.claim_due("w", 10)
    services.fulfilment.fulfil(first)
    with services.engine.begin() as connection:
        iccid = connection.execute(
            sa.select(esim_assignments.c.iccid).where(esim_assignments.c.order_id == first)
        ).scalar_one()
    with pytest.raises(sa.exc.IntegrityError), services.engine.begin() as connection:
        connection.execute(
            esim_assignments.insert().values(iccid=iccid, order_id=second, assigned_at=datetime.now(UTC))
        )


def test_fulfilling_an_order_again_changes_nothing(services: Services) -> None:
    (order_id,) = place_orders(services, 1)
    services.fulfilment.claim_due("w", 10)
    assert services.fulfilment.fulfil(order_id) is OrderState.COMPLETED
    first = services.ordering.get_order(_caller(services), order_id)

    # At-least-once delivery: the same order handed to a worker again.
    assert services.fulfilment.fulfil(order_id) is OrderState.COMPLETED

    again = services.ordering.get_order(_caller(services), order_id)
    assert again.order.output == first.order.output
    assert [e.to_state for e in again.events] == [OrderState.ACCEPTED, OrderState.IN_PROGRESS, OrderState.COMPLETED]


def test_a_dead_workers_order_is_claimed_again_after_its_lease(services: Services) -> None:
    (order_id,) = place_orders(services, 1)
    assert services.fulfilment.claim_due("dead-worker", 10) == [order_id]  # ... and it dies here
    assert services.fulfilment.claim_due("other-worker", 10) == []  # the lease still holds

    later = FulfilmentService(
        services.uow_factory,
        default_provisioners(),
        clock=lambda: datetime.now(UTC) + timedelta(minutes=5),
    )
    assert later.claim_due("other-worker", 10) == [order_id]
    assert later.fulfil(order_id) is OrderState.COMPLETED


def test_two_workers_racing_fulfil_each_order_once(services: Services) -> None:
    order_ids = place_orders(services, 60)
    workers = [
        FulfilmentService(services.uow_factory, default_provisioners(), lease=timedelta(seconds=30)) for _ in range(2)
    ]

    def drain(fulfilment: FulfilmentService, name: str) -> None:
        while claimed := fulfilment.claim_due(name, 5):
            for order_id in claimed:
                fulfilment.fulfil(order_id)

    threads = [threading.Thread(target=drain, args=(w, f"w{i}")) for i, w in enumerate(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)

    caller = _caller(services)
    views = [services.ordering.get_order(caller, order_id) for order_id in order_ids]
    assert all(v.order.state is OrderState.COMPLETED for v in views)
    assert len({v.order.output["iccid"] for v in views}) == len(order_ids)
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
    first = services.ordering.place_esim_order(
        caller, request, raw_request={"n": 1}, dialect="esim-v1", idempotency_key="retry-1"
    )
    a_day_later = OrderingService(services.uow_factory, clock=lambda: datetime.now(UTC) + timedelta(days=1))

    retry = a_day_later.place_esim_order(
        caller, request, raw_request={"n": 1}, dialect="esim-v1", idempotency_key="retry-1"
    )

    assert retry == PlacedOrder(first.order_id, replayed=True)
