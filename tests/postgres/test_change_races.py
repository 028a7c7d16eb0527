"""A partner's change to an order (TMF622 cancel, PATCH) while a worker holds that order: the change
waits for the worker's transaction and then sees how the order ended. It read the order before the
worker committed and wrote over what the worker did: a completed order became "cancelled" with its
product on the line, or pending again, and ran a second time."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from orderhub.bootstrap import Services, build_services
from orderhub.dialects.tmf622 import mapping, wire
from orderhub.domain.changes import Cancellation, CancellationState
from orderhub.domain.errors import CannotChange
from orderhub.domain.order_states import OrderState
from orderhub.domain.partners import Principal
from orderhub.services.auth import principal_of
from orderhub.services.order_commands import PlaceOrder
from orderhub.settings import Settings
from tests.api.test_tmf622 import order_body

HELD = 1.0  # how long the worker's transaction stays open after it changed the order


@pytest.fixture
def services(pg_url: str) -> Iterator[Services]:
    # Writes wait up to 10 s for a lock, not the default 2 s: what is asserted is that the change waits for
    # the worker's commit (HELD and then some) and what it finds after, however slowly a busy machine commits.
    services = build_services(Settings(database_url=pg_url, db_write_timeout_seconds=10.0))
    try:
        yield services
    finally:
        services.close()


def channel(services: Services) -> Principal:
    with services.uow_factory(read_only=True) as uow:
        return principal_of(uow, "demo-channel-1")


def scheduled_order(services: Services, principal: Principal) -> tuple[str, str]:
    """A TMF622 order due in an hour: (its id, its number)."""
    due = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    request, echo = wire.read_order(order_body(requestedStartDate=due), "CR")
    command = PlaceOrder(request, {"businessId": "CR", "order": echo}, mapping.DIALECT, numbered=True, scope="CR")
    placed = asyncio.run(services.ordering.place(principal, command))
    assert placed.reference is not None
    return placed.order_id, placed.reference


def worker_finishing(services: Services, order_id: str, locked: threading.Event) -> threading.Thread:
    """A worker's transaction: it claims the order as the worker does (its row locked), ends it, and
    commits only a while later."""

    def run() -> None:
        with services.uow_factory() as uow:
            after_due = datetime.now(UTC) + timedelta(hours=2)
            assert uow.orders.due_order_ids(after_due, 10, claim=True) == [order_id]
            order = uow.orders.get(order_id)
            assert order is not None
            order.start(after_due)
            order.fail("the line is barred", after_due)
            uow.orders.save(order)
            locked.set()
            threading.Event().wait(HELD)
            uow.commit()

    thread = threading.Thread(target=run)
    thread.start()
    return thread


def while_the_worker_holds_it(services: Services, change: Callable[[str], Any]) -> tuple[Any, OrderState]:
    principal = channel(services)
    order_id, reference = scheduled_order(services, principal)
    locked = threading.Event()
    worker = worker_finishing(services, order_id, locked)
    assert locked.wait(10)
    try:
        outcome: Any = asyncio.run(change(reference))
    except CannotChange as refused:
        outcome = refused
    worker.join(10)
    with services.uow_factory(read_only=True) as uow:
        order = uow.orders.get(order_id)
        assert order is not None
        events = uow.orders.events(order_id)
    # The order's own steps; a cancellation request's notes (TMF622's Cancel events) move no state.
    states = [event.to_state for event in events if event.cancellation_id is None]
    assert states.count(OrderState.FAILED) == 1 and states[-1] is OrderState.FAILED, states
    notes = [(event.reason, event.to_state) for event in events if event.cancellation_id is not None]
    if isinstance(outcome, Cancellation):  # noted after the worker's commit: the order it found ended
        assert notes == [("cancellation requested", OrderState.FAILED), ("cancellation refused", OrderState.FAILED)]
    else:
        assert notes == []
    return outcome, order.state


def test_a_cancellation_waits_for_the_worker_and_is_refused_for_the_order_it_ended(services: Services) -> None:
    principal = channel(services)
    cancellation, state = while_the_worker_holds_it(
        services, lambda reference: services.changes.cancel(principal, reference, reason="x", requested_for=None)
    )
    assert state is OrderState.FAILED
    assert cancellation.state is CancellationState.REFUSED, cancellation


def test_a_new_date_waits_for_the_worker_and_is_refused_for_the_order_it_ended(services: Services) -> None:
    principal = channel(services)
    later = datetime.now(UTC) + timedelta(days=1)
    refused, state = while_the_worker_holds_it(
        services, lambda reference: services.changes.amend(principal, reference, due_at=later)
    )
    assert state is OrderState.FAILED
    assert isinstance(refused, CannotChange), refused
