"""Races between two processes on one PostgreSQL database: exactly one winner, never a 500."""

from __future__ import annotations

import asyncio
import threading
import uuid
from collections.abc import Callable, Coroutine
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

import pytest
import sqlalchemy as sa

from orderhub.bootstrap import Services
from orderhub.domain.accesses import ActivationRefused, ActivationRequest, RefusalReason
from orderhub.domain.customers import CustomerDetails
from orderhub.domain.errors import NotAuthenticated, SubscriptionLimitReached
from orderhub.domain.esim import DeviceType, EsimOrderRequest, SubscriptionRequest
from orderhub.domain.orders import Operation
from orderhub.domain.partners import Principal
from orderhub.domain.results import EsimResult
from orderhub.services.access_setup import AccessAdmin
from orderhub.services.auth import principal_of
from orderhub.services.order_commands import PlacedOrder, PlaceOrder

PRODUCT = "a3u3z000000PZBhAAO"
ROUNDS = 8


def race(*calls: Callable[[], Coroutine[Any, Any, Any]]) -> list[Any]:
    """Run each call in its own thread and event loop, released together; results or exceptions."""
    barrier = threading.Barrier(len(calls))
    outcomes: list[Any] = [None] * len(calls)

    def run(index: int) -> None:
        barrier.wait()
        try:
            outcomes[index] = asyncio.run(calls[index]())
        except Exception as exc:
            outcomes[index] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return outcomes


def caller(services: Services) -> Principal:
    with services.uow_factory(read_only=True) as uow:
        return principal_of(uow, "demo-reseller-1")


def esim(email: str, *, subscriptions: int = 1, iccid: str | None = None) -> EsimOrderRequest:
    return EsimOrderRequest(
        operation=Operation.TOPUP if iccid else Operation.NEW_ESIM,
        customer_email=email,
        device_type=DeviceType.IOS,
        subscriptions=(SubscriptionRequest(PRODUCT),) * subscriptions,
        iccid=iccid,
    )


def placing(services: Services, request: EsimOrderRequest, key: str | None = None) -> Callable[[], Any]:
    command = PlaceOrder(request, {"email": request.customer_email, "n": len(request.subscriptions)}, "esim-v1",
                         idempotency_keys=(key,) if key else ())  # fmt: skip
    return lambda: services.ordering.place(caller(services), command)


def test_first_orders_of_one_new_customer_from_two_processes_both_succeed_with_one_customer(
    two_processes: tuple[Services, Services],
) -> None:
    a, b = two_processes
    for _ in range(ROUNDS):
        email = f"race-{uuid.uuid4().hex[:8]}@example.com"
        outcomes = race(placing(a, esim(email)), placing(b, esim(email)))
        assert all(isinstance(o, PlacedOrder) for o in outcomes), outcomes
        with a.engine.connect() as connection:
            count = connection.execute(sa.text("SELECT count(*) FROM customers WHERE email = :e"), {"e": email})
            assert count.scalar_one() == 1


def test_one_refresh_token_used_twice_at_once_gives_one_new_pair(two_processes: tuple[Services, Services]) -> None:
    a, b = two_processes
    for _ in range(ROUNDS):
        token = asyncio.run(a.auth.issue_token("demo-reseller-1", "demo-reseller-1-secret")).refresh_token
        credentials = {"client_id": "demo-reseller-1", "client_secret": "demo-reseller-1-secret"}
        outcomes = race(partial(a.auth.refresh, token, **credentials), partial(b.auth.refresh, token, **credentials))
        winners = [o for o in outcomes if not isinstance(o, Exception)]
        losers = [o for o in outcomes if isinstance(o, Exception)]
        assert len(winners) == 1, outcomes
        assert all(isinstance(o, NotAuthenticated) for o in losers), outcomes


def test_top_ups_racing_for_the_last_subscription_of_an_esim_let_one_through(
    two_processes: tuple[Services, Services],
) -> None:
    a, b = two_processes
    for _ in range(3):
        email = f"topup-{uuid.uuid4().hex[:8]}@example.com"
        first = asyncio.run(placing(a, esim(email))())
        order = asyncio.run(a.ordering.get_order(caller(a), first.order_id)).order
        assert isinstance(order.result, EsimResult), order.state
        iccid = order.result.iccid
        asyncio.run(placing(a, esim(email, subscriptions=13, iccid=iccid))())  # 14 of 15 now
        outcomes = race(placing(a, esim(email, iccid=iccid)), placing(b, esim(email, iccid=iccid)))
        placed = [o for o in outcomes if isinstance(o, PlacedOrder)]
        refused = [o for o in outcomes if isinstance(o, SubscriptionLimitReached)]
        assert len(placed) == 1 and len(refused) == 1, outcomes


def test_one_idempotency_key_from_two_processes_places_one_order(two_processes: tuple[Services, Services]) -> None:
    a, b = two_processes
    for _ in range(ROUNDS):
        email = f"key-{uuid.uuid4().hex[:8]}@example.com"
        key = f"key-{uuid.uuid4()}"
        outcomes = race(placing(a, esim(email), key), placing(b, esim(email), key))
        assert all(isinstance(o, PlacedOrder) for o in outcomes), outcomes
        assert outcomes[0].order_id == outcomes[1].order_id
        assert sorted(o.replayed for o in outcomes) == [False, True]


@pytest.mark.parametrize("count", [40])
def test_profiles_claimed_by_two_processes_at_once_are_never_shared(
    two_processes: tuple[Services, Services], count: int
) -> None:
    a, b = two_processes
    calls = [placing(a if i % 2 else b, esim(f"p-{uuid.uuid4().hex[:8]}@example.com")) for i in range(count)]
    outcomes = race(*calls)
    assert all(isinstance(o, PlacedOrder) for o in outcomes), [o for o in outcomes if not isinstance(o, PlacedOrder)]
    with a.engine.connect() as connection:
        rows = connection.execute(sa.text("SELECT iccid, count(*) FROM esim_assignments GROUP BY iccid")).all()
    assert all(n == 1 for _iccid, n in rows)


def test_two_processes_ordering_one_product_on_one_access_at_two_dates_let_one_through(
    two_processes: tuple[Services, Services],
) -> None:
    a, b = two_processes
    with a.uow_factory(read_only=True) as uow:
        operator = principal_of(uow, "demo-co-acme")
    for _ in range(ROUNDS):
        ref = f"race-{uuid.uuid4().hex[:12]}"
        AccessAdmin(a.uow_factory).add_access(ref)

        def activating(services: Services, days: int, ref: str = ref) -> Callable[[], Any]:
            at = datetime.now(UTC) + timedelta(days=days)
            request = ActivationRequest(ref, (("fiber-internet", "1000-1000"),), at, CustomerDetails(name="A B"))
            command = PlaceOrder(request, {"access": ref, "days": days}, "onapi-order")
            return lambda: services.ordering.place(operator, command)

        outcomes = race(activating(a, 1), activating(b, 2))
        placed = [o for o in outcomes if isinstance(o, PlacedOrder)]
        refused = [o for o in outcomes if isinstance(o, ActivationRefused)]
        assert len(placed) == 1 and len(refused) == 1, outcomes
        assert refused[0].reason is RefusalReason.ALREADY_ORDERED


def test_one_access_order_sent_twice_at_once_answers_both_with_the_one_order(
    two_processes: tuple[Services, Services],
) -> None:
    """The second read the first's order under the access's lock, "already ordered", and was answered
    REJECTED: its look-up of the order's key had run before the first committed."""
    a, b = two_processes
    with a.uow_factory(read_only=True) as uow:
        operator = principal_of(uow, "demo-co-acme")
    at = datetime.now(UTC) + timedelta(days=1)
    for _ in range(ROUNDS):
        ref = f"twice-{uuid.uuid4().hex[:12]}"
        AccessAdmin(a.uow_factory).add_access(ref)
        request = ActivationRequest(ref, (("fiber-internet", "1000-1000"),), at, CustomerDetails(name="A B"))
        command = PlaceOrder(request, {"access": ref}, "onapi-order", idempotency_keys=(f"order-{ref}",))
        outcomes = race(*(partial(services.ordering.place, operator, command) for services in (a, b)))
        assert all(isinstance(o, PlacedOrder) for o in outcomes), outcomes
        assert outcomes[0].order_id == outcomes[1].order_id
        assert sorted(o.replayed for o in outcomes) == [False, True]
