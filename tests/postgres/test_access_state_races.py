"""An operator blocking an access (`access set-state ... blocked`) while an order on it is taken or
fulfilled: the order reads the access's state under the access's lock, so it sees the block.

The access was read, and only then locked; under READ COMMITTED the state read was the one from before
the operator's commit that the lock waited for. A service activation due then was activated on the
blocked access and set it active again, the block lost; an order taken then was RECEIVED on it, where
the access's block says REJECTED."""

from __future__ import annotations

import asyncio
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
import pytest
import sqlalchemy as sa

from orderhub.bootstrap import Services
from orderhub.domain.accesses import AccessState, ActivationRefused, ActivationRequest, RefusalReason
from orderhub.domain.customers import CustomerDetails
from orderhub.domain.order_states import OrderState
from orderhub.domain.partners import Principal
from orderhub.services.access_setup import AccessAdmin
from orderhub.services.auth import principal_of
from orderhub.services.order_commands import PlacedOrder, PlaceOrder

ATTEMPTS = 5  # a lock wait the test did not see in time (the writer waits 100 ms) is tried again


def raw_url(pg_url: str) -> str:
    return sa.make_url(pg_url).set(drivername="postgresql").render_as_string(hide_password=False)


def operator_of(services: Services) -> Principal:
    with services.uow_factory(read_only=True) as uow:
        return principal_of(uow, "demo-co-acme")


def access_state(services: Services, ref: str) -> AccessState:
    with services.uow_factory(read_only=True) as uow:
        access = uow.accesses.by_ref(ref)
        assert access is not None
        return access.state


def placing(services: Services, ref: str, at: datetime, customer: CustomerDetails | None = None) -> Callable[[], Any]:
    request = ActivationRequest(ref, (("fiber-internet", "1000-1000"),), at, customer or CustomerDetails(name="A B"))
    command = PlaceOrder(request, {"access": ref, "at": at.isoformat()}, "onapi-order")
    return lambda: asyncio.run(services.ordering.place(operator_of(services), command))


class CommittedUnderALockWait:
    """Another process's transaction (``statements``), held open until a statement of orderhub waits for
    one of its row locks, and committed then: that statement goes on after the commit."""

    def __init__(self, pg_url: str, statements: list[tuple[str, tuple[Any, ...]]]) -> None:
        self._url = raw_url(pg_url)
        self._statements = statements

    def around(self, work: Callable[[], Any]) -> tuple[bool, Any]:
        """Runs ``work`` on a thread meanwhile; whether the commit came while it waited, and its outcome."""
        outcome: list[Any] = [None]

        def run() -> None:
            try:
                outcome[0] = work()
            except Exception as exc:
                outcome[0] = exc

        with psycopg.connect(self._url) as operator, psycopg.connect(self._url, autocommit=True) as watcher:
            for statement, params in self._statements:
                operator.execute(statement, params)
            thread = threading.Thread(target=run)
            thread.start()
            seen = False
            deadline = time.monotonic() + 10
            while thread.is_alive() and time.monotonic() < deadline and not seen:
                seen = bool(
                    watcher.execute(
                        "SELECT count(*) FROM pg_locks l JOIN pg_stat_activity a USING (pid)"
                        " WHERE NOT l.granted AND a.datname = current_database()"
                    ).fetchone()[0]  # type: ignore[index]
                )
            operator.commit()
            thread.join(30)
        return seen, outcome[0]


class BlockCommittedUnderALockWait(CommittedUnderALockWait):
    """The operator's `access set-state REF blocked`, committed while orderhub waits for the access."""

    def __init__(self, pg_url: str, ref: str) -> None:
        super().__init__(pg_url, [("UPDATE accesses SET state = 'blocked' WHERE ref = %s", (ref,))])
        self._ref = ref

    def undo(self) -> None:
        with psycopg.connect(self._url, autocommit=True) as connection:
            connection.execute("UPDATE accesses SET state = 'free' WHERE ref = %s", (self._ref,))


@pytest.fixture
def fresh_access(pg_services: Services) -> Iterator[str]:
    ref = f"block-{uuid.uuid4().hex[:12]}"
    AccessAdmin(pg_services.uow_factory).add_access(ref)
    yield ref


def test_a_due_activation_that_waited_for_the_block_fails_and_leaves_the_access_blocked(
    pg_services: Services, pg_url: str, fresh_access: str
) -> None:
    services, ref = pg_services, fresh_access
    block = BlockCommittedUnderALockWait(pg_url, ref)
    placed = placing(services, ref, datetime.now(UTC) + timedelta(seconds=2))()
    assert isinstance(placed, PlacedOrder)
    time.sleep(2.5)  # due now: the worker takes it
    for _ in range(ATTEMPTS):
        seen, _worked = block.around(lambda: services.fulfilment.run_due("worker-a"))
        with services.uow_factory(read_only=True) as uow:
            order = uow.orders.get(placed.order_id)
            assert order is not None
        if seen and order.state.is_final:
            break
        assert not order.state.is_final, order  # finished without meeting the block's lock: not what is tested
        block.undo()
        time.sleep(1.1)  # the order met the lock past the writer's wait: it is due again after a second
    else:
        pytest.fail("the worker never waited for the operator's block")
    assert access_state(services, ref) is AccessState.BLOCKED
    assert order.state is OrderState.FAILED, (order.state, order.failure_reason)
    assert f"access {ref} is blocked" in (order.failure_reason or "")
    with services.uow_factory(read_only=True) as uow:
        assert uow.accesses.services_of(uow.accesses.by_ref(ref).id) == []  # type: ignore[union-attr]


def test_an_order_that_waited_for_the_block_is_rejected(pg_services: Services, pg_url: str, fresh_access: str) -> None:
    services, ref = pg_services, fresh_access
    block = BlockCommittedUnderALockWait(pg_url, ref)
    tomorrow = datetime.now(UTC) + timedelta(days=1)
    for _ in range(ATTEMPTS):
        seen, outcome = block.around(placing(services, ref, tomorrow))
        if seen:
            break
        assert not isinstance(outcome, PlacedOrder), outcome  # placed without meeting the block's lock
        block.undo()
    else:
        pytest.fail("the order never waited for the operator's block")
    assert isinstance(outcome, ActivationRefused), outcome
    assert outcome.reason is RefusalReason.ACCESS_BLOCKED
