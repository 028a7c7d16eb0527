"""The wall clock set back (an NTP step on a VM) while work is stored with times of the clock before it:
what was due must stay due. A listener served a minute ago, a retry a second away, an order accepted to
be worked at once: none may wait out the hour the clock went back. Real services on their database
(SQLite; PostgreSQL with ORDERHUB_TEST_POSTGRES); only the clock they are given is moved."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from orderhub.bootstrap import Services
from orderhub.domain.changes import Listener
from orderhub.domain.lines import LineItemRequest, LineOrderRequest, PlanType
from orderhub.domain.order_states import OrderState
from orderhub.domain.orders import Operation, Order, OrderItem
from orderhub.fulfilment.provisioners import default_provisioners
from orderhub.services.auth import principal_of
from orderhub.services.fulfilment import FulfilmentService
from orderhub.services.hub import HubService
from orderhub.services.intakes import default_intakes
from orderhub.services.order_commands import PlaceOrder
from orderhub.services.ordering import OrderingService
from orderhub.services.ports import UnitOfWork
from tests.clocks import MovableClock
from tests.integration.support import demo_services
from tests.integration.test_listened_events import add_event, add_order
from tests.integration.test_store_guarantees import get_order, place_orders

pytestmark = pytest.mark.integration

STEP_BACK = timedelta(hours=1)


@pytest.fixture
def services(tmp_path: Path) -> Iterator[Services]:
    with demo_services(tmp_path / "clock.db", inventory_size=1) as built:
        yield built


def listener_with_an_event(services: Services, clock: MovableClock) -> Listener:
    listener = Listener("L1", "demo-channel-1", "https://listener.example/cb", None, clock(), 0)
    with services.uow_factory() as uow:
        uow.listeners.register(listener)
        uow.commit()
    with services.engine.begin() as connection:
        add_order(connection, "line-1", "demo-channel-1", "LINE_PRODUCTS")
        add_event(connection, "line-1", snapshot=True)
    return listener


def test_a_listener_served_before_the_clock_went_back_is_served_again_at_once(services: Services) -> None:
    clock = MovableClock()
    hub = HubService(services.database, clock=clock)
    listener_with_an_event(services, clock)
    assert [claimed.id for claimed in hub.claim_due(8)] == ["L1"]
    hub.release("L1")  # served: its lease ends now (the dispatcher does so after each turn)

    clock.now -= STEP_BACK
    # Its event is still to be sent: it waited the hour before, its lease's end being "ahead".
    assert [claimed.id for claimed in hub.claim_due(8)] == ["L1"]


def test_a_retry_set_before_the_clock_went_back_comes_after_its_backoff_not_an_hour_later(
    services: Services,
) -> None:
    clock = MovableClock()
    hub = HubService(services.database, clock=clock, first_retry=timedelta(seconds=1))
    listener = listener_with_an_event(services, clock)
    assert [claimed.id for claimed in hub.claim_due(8)] == ["L1"]
    hub.failed(listener, "HTTP 503")  # tried again in a second
    hub.release("L1")

    clock.now -= STEP_BACK - timedelta(seconds=2)
    assert [claimed.id for claimed in hub.claim_due(8)] == ["L1"]


def test_a_lease_another_process_holds_is_still_respected_right_after_it_was_taken(services: Services) -> None:
    clock = MovableClock()
    first, second = HubService(services.database, clock=clock), HubService(services.database, clock=clock)
    listener_with_an_event(services, clock)
    assert [claimed.id for claimed in first.claim_due(8)] == ["L1"]
    clock.now += timedelta(seconds=5)  # a clock a little ahead, or time gone by: the lease holds
    assert second.claim_due(8) == []
    assert first.renew("L1")


# --- the orders' work queue -----------------------------------------------------------------------


@pytest.fixture
def worked_later(tmp_path: Path) -> Iterator[Services]:
    """Services whose orders wait for the worker (none is fulfilled at intake)."""
    with demo_services(tmp_path / "queue.db", inventory_size=5, fulfil_inline=False) as built:
        yield built


def test_an_order_accepted_before_the_clock_went_back_is_worked_at_once(worked_later: Services) -> None:
    (order_id,) = place_orders(worked_later, 1)  # accepted now, due now: FULFILLING until a worker has it
    set_back = FulfilmentService(
        worked_later.database, default_provisioners(), clock=lambda: datetime.now(UTC) - STEP_BACK
    )
    assert set_back.run_due("w", 10) == 1  # it waited the hour, its due time being "ahead"
    assert get_order(worked_later, order_id).order.state is OrderState.COMPLETED


def test_an_order_retried_before_the_clock_went_back_is_retried_after_its_backoff(worked_later: Services) -> None:
    (order_id,) = place_orders(worked_later, 1)

    class DownOnce:
        def __init__(self) -> None:
            self.calls = 0

        def provision(self, uow: UnitOfWork, order: Order, now: datetime, **options: Any) -> object:
            self.calls += 1
            if self.calls == 1:
                raise RuntimeError("provisioning system down")
            return default_provisioners()[order.operation].provision(uow, order, now, **options)

    clock = MovableClock()
    flaky = FulfilmentService(worked_later.database, {Operation.NEW_ESIM: DownOnce()}, clock=clock)  # type: ignore[dict-item]
    flaky.run_due("w", 10)  # raised: tried again in 2 s
    assert get_order(worked_later, order_id).order.state is OrderState.ACCEPTED

    clock.now -= STEP_BACK - timedelta(seconds=3)
    assert flaky.run_due("w", 10) == 1
    assert get_order(worked_later, order_id).order.state is OrderState.COMPLETED


def test_an_order_scheduled_for_a_time_to_come_waits_for_it_by_the_clock_as_it_is(worked_later: Services) -> None:
    now = datetime.now(UTC)
    (placed,) = place_orders(worked_later, 1)
    later = Order.accept(
        now=now,
        due_at=now + timedelta(minutes=30),  # a time the partner asked for: the clock decides when it comes
        id="scheduled-1",
        partner_id="demo-reseller-1",
        dialect="esim-v1",
        operation=Operation.NEW_ESIM,
        customer_id=get_order(worked_later, placed).order.customer_id,
        items=[OrderItem(seq=1, product_id="a3u3z000000PZBhAAO")],
    )
    worked_later.database.write_now(lambda uow: uow.orders.add(later))
    set_back = FulfilmentService(worked_later.database, default_provisioners(), clock=lambda: now - STEP_BACK)
    assert set_back.run_due("w", 10) == 1  # the order due at once, not the scheduled one
    assert get_order(worked_later, "scheduled-1").order.state is OrderState.SCHEDULED


# --- lines: the Plan a line runs on ---------------------------------------------------------------


def test_a_plan_started_before_the_clock_went_back_still_carries_data_plans(services: Services) -> None:
    with services.uow_factory(read_only=True) as uow:
        channel = principal_of(uow, "demo-channel-1")

    def order(ordering: OrderingService, plan_type: PlanType) -> Order:
        request = LineOrderRequest("CR", "69877691", (LineItemRequest("OFFER-DP-001", plan_type),))
        command = PlaceOrder(request, {"n": uuid.uuid4().hex}, "tmf-productorder", numbered=True, scope="CR")
        placed = asyncio.run(ordering.place(channel, command))
        return asyncio.run(ordering.get_order(channel, placed.order_id)).order

    assert order(services.ordering, PlanType.PLAN).state is OrderState.COMPLETED  # the line's first Plan

    def set_back() -> datetime:
        return datetime.now(UTC) - timedelta(minutes=10)

    fulfilment = FulfilmentService(services.database, default_provisioners(), clock=set_back)
    ordering = OrderingService(services.database, default_intakes(), clock=set_back, fulfil_now=fulfilment.fulfil_in)
    # Its start lies ten minutes "ahead": the line had no Plan (422 NO_ACTIVE_PLAN) for those ten minutes.
    assert order(ordering, PlanType.DATA_PLAN).state is OrderState.COMPLETED
