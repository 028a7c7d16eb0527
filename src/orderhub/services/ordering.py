"""Order intake and order queries: the use cases every dialect calls.

One intake path serves every operation: validation, idempotency (fingerprint, replay, conflicts), the
commit that holds the order, fulfilment at intake and waking the worker. What differs per operation
(its rules, the stored data they need, the order's subject and items) is an ``Intake`` registered for
that operation (services.esim_orders, services.line_orders).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Collection, Mapping
from dataclasses import replace
from typing import Any, TypeVar

from orderhub.domain.errors import BusinessRefusal, DomainError, OrderNotFound
from orderhub.domain.identifiers import new_id
from orderhub.domain.order_states import OrderState
from orderhub.domain.orders import Operation, Order
from orderhub.domain.partners import Principal
from orderhub.metrics import orders_accepted
from orderhub.services import idempotency
from orderhub.services.auth import Caller
from orderhub.services.clock import Clock, utc_now
from orderhub.services.order_commands import FinishedOrder, FulfilNow, Intake, OrderView, PlacedOrder, PlaceOrder
from orderhub.services.ports import Database, DatabaseUnavailable, DuplicateKey, Refusal, UnitOfWork
from orderhub.services.records import OrderQuery, nameable
from orderhub.services.rendered_orders import RenderedOrders

T = TypeVar("T")
log = logging.getLogger("orderhub.ordering")


class _Replayed(Refusal):
    """Raised inside the write when the order turns out to be a retry: the write is undone and the
    first order is the answer."""

    def __init__(self, placed: PlacedOrder) -> None:
        super().__init__(placed.order_id)
        self.placed = placed


class _CheckCaller(Refusal):
    """Raised where a principal taken from the cache unchecked decided something: the configuration
    moved since it was cached (or its request was refused), and the caller is asked again."""


class OrderingService:
    def __init__(
        self,
        db: Database,
        intakes: Mapping[Operation, Intake[Any]],
        *,
        clock: Clock = utc_now,
        on_accepted: Callable[[], None] = lambda: None,
        fulfil_now: FulfilNow | None = None,
        after_fulfilled: Callable[[FinishedOrder], None] = lambda _finished: None,
    ) -> None:
        self._db = db
        self._intakes = intakes
        self._clock = clock
        # Wakes an in-process worker so a new order does not wait for the next poll.
        self._on_accepted = on_accepted
        # Without it (an API process next to separate workers) orders wait for a worker.
        self._fulfil_now = fulfil_now
        self._after_fulfilled = after_fulfilled

    async def place(self, caller: Principal | Caller, command: PlaceOrder[Any]) -> PlacedOrder:
        """Validate and store an order; returns once it is durably committed (or was placed before)."""
        if isinstance(caller, Principal):
            return await self._place(caller, None, command)
        try:
            return await self._place(caller.principal, caller.unchecked_at, command)
        except _CheckCaller:
            assert caller.again is not None
            return await self._place(await caller.again(), None, command)

    async def _place(self, principal: Principal, unchecked_at: int | None, command: PlaceOrder[Any]) -> PlacedOrder:
        """``place``; with ``unchecked_at`` (a config version, see services.auth.Caller), the principal
        is checked in the write, and _CheckCaller raised before anything it decided is answered."""
        now = self._clock()
        operation: Operation = command.request.operation
        intake = self._intakes[operation]
        keys = command.idempotency_keys
        fingerprints = {
            key: idempotency.request_fingerprint(command.key_basis.get(key, command.raw_request), command.scope)
            for key in keys
        }
        earlier = {
            key: idempotency.request_fingerprint(basis, command.scope) for key, basis in command.earlier_basis.items()
        }
        try:
            intake.validate(principal, command.request, now)
        except DomainError:
            if unchecked_at is not None:
                raise _CheckCaller from None  # the refusal may be the stale principal's
            # A retry answers what the first attempt got, even if the request would no longer pass
            # validation now (its activation date may have passed in the meantime).
            replay = await self._replay_now(principal, fingerprints, earlier)
            if replay is not None:
                return replay
            raise

        def place(uow: UnitOfWork) -> PlacedOrder:
            # Looked up inside the write, and a retry gets the first answer whatever the business rules
            # say now. Asked for before the rules and read after them: on PostgreSQL the look-up then
            # rides with the intake's first read instead of costing a round trip of its own.
            checked = uow.partners.config_version_later() if unchecked_at is not None else None
            stored = idempotency.look_up(uow, principal.partner_id, fingerprints)

            def undone_if_a_retry() -> None:
                if checked is not None and checked() != unchecked_at:
                    raise _CheckCaller  # first: a caller no longer allowed gets no first order either
                first = idempotency.first_use(stored, earlier)
                if first is not None:
                    # Undoes what the intake wrote; a refusal kept for the key is raised by replayed().
                    raise _Replayed(idempotency.replayed(first))

            try:
                new = intake.prepare(uow, principal, command.request, now)
            except DomainError:
                undone_if_a_retry()
                # The first attempt may have committed after the look-up and taken what the rules then
                # found taken (PostgreSQL: an access's product, read under its lock). Asked again now,
                # before a refusal: a retry answers the first order, not "already ordered".
                first = idempotency.first_use(idempotency.look_up(uow, principal.partner_id, fingerprints), earlier)
                if first is not None:
                    raise _Replayed(idempotency.replayed(first)) from None
                before_upgrade = idempotency.earlier_release_order(
                    uow, principal.partner_id, command.earlier_keys, command.scope
                )
                if before_upgrade is not None:
                    raise _Replayed(before_upgrade) from None
                raise
            undone_if_a_retry()
            order = Order.accept(
                now=now,
                id=new_id(),
                partner_id=principal.partner_id,
                dialect=command.dialect,
                operation=operation,
                customer_id=new.customer_id,
                items=new.items,
                subject=new.subject,
                due_at=new.due_at,
                request=command.raw_request,
                correlation_id=command.correlation_id,
                reference=uow.orders.next_reference(now) if command.numbered else None,
            )
            uow.orders.add(order)
            for key, fingerprint in fingerprints.items():
                uow.partners.add_idempotency_key(principal.partner_id, key, fingerprint, order.id, now, None)
            finished = self._fulfil_now(uow, order, now, new.readings) if self._fulfil_now is not None else None
            settled = order if finished is not None or order.state is OrderState.SCHEDULED else None
            return PlacedOrder(
                order.id, replayed=False, finished=finished, reference=order.reference, settled=settled, accepted=order
            )

        try:
            placed = await self._db.write(place)
        except _Replayed as retry:
            return retry.placed
        except BusinessRefusal as refused:
            # Kept for the request's Idempotency-Key: the same request with it answers the refusal again.
            kept = {key: fingerprints[key] for key in command.refusal_keys}
            if refused.replayed or not kept:
                raise
            return await idempotency.keep_refusal(self._db, principal.partner_id, refused, kept, earlier, now)
        except DuplicateKey:
            # Another process committed the same key first (possible on PostgreSQL).
            replay = await self._replay_now(principal, fingerprints, earlier)
            if replay is None:
                raise
            return replay
        if not placed.replayed:
            orders_accepted(command.dialect, operation.value).inc()
            if placed.finished is not None:
                self._after_fulfilled(placed.finished)
            else:
                self._on_accepted()
        return placed

    async def _replay_now(
        self, principal: Principal, fingerprints: Mapping[str, str], earlier: Mapping[str, str]
    ) -> PlacedOrder | None:
        """The first order of a retry (a refusal kept for it: raised), read outside any write; None without
        keys or for a new request."""
        if not fingerprints:
            return None
        first = await self._db.read(
            lambda uow: idempotency.first_use(idempotency.look_up(uow, principal.partner_id, fingerprints), earlier)
        )
        return idempotency.replayed(first) if first is not None else None

    async def get_order(
        self, principal: Principal, order_id: str, operations: Collection[Operation] | None = None
    ) -> OrderView:
        """The principal's order; with ``operations``, only one of those (an API shows the orders of the
        operations it serves: a partner that orders through two APIs sees each one's in each)."""

        def load(uow: UnitOfWork) -> OrderView:
            order = uow.orders.get(order_id) if nameable(order_id) else None
            # Unknown, someone else's and another API's answer alike, so order ids cannot be probed.
            if (
                order is None
                or not principal.can_see(order.partner_id)
                or (operations is not None and order.operation not in operations)
            ):
                raise OrderNotFound(f"order {order_id} not found", field="id")
            return OrderView(order, uow.orders.events(order_id))

        return await self._db.read(load)

    async def get_rendered(
        self,
        caller: Callable[[int], Awaitable[Principal]],
        order_id: str,
        rendered: RenderedOrders[OrderView, T],
        operations: Collection[Operation],
    ) -> T:
        """The order as ``rendered`` renders it, made again only when the order changed since, for the
        principal that ``caller`` names given the store's config version (services.auth); an order of
        another operation than ``operations`` (another API's) is not found.

        A poll that finds nothing changed, the busiest request there is, costs one statement: the
        order's owner and version, and the config version the caller's credentials are checked against.
        """
        if not nameable(order_id):  # the caller is still signed in, and counted, first
            await caller(await self._db.config_version())
            raise OrderNotFound(f"order {order_id} not found", field="id")
        stamp = await self._db.read_statement(lambda uow: uow.orders.stamp(order_id))
        principal = await caller(stamp.config_version)
        if not stamp.visible_to(principal):
            raise OrderNotFound(f"order {order_id} not found", field="id")
        hit = rendered.get(order_id, stamp.version)
        if hit is not None:
            return hit  # one of ``operations``: only such an order is rendered (below), and an operation never changes

        def load(uow: UnitOfWork) -> T:
            # Again, in the snapshot the order is read in: it may have changed since the stamp.
            again = uow.orders.stamp(order_id)
            order = uow.orders.get(order_id)
            if order is None or not again.visible_to(principal) or order.operation not in operations:
                raise OrderNotFound(f"order {order_id} not found", field="id")
            made = rendered.render(OrderView(order, uow.orders.events(order_id)))
            rendered.put(order_id, again.version, made)
            return made

        return await self._db.read(load)

    async def list_orders(
        self, principal: Principal, query: OrderQuery, *, offset: int, limit: int
    ) -> tuple[list[Order], int]:
        """One page of the caller's orders that ``query`` selects, newest first, and the total."""
        visible = principal.visible_partner_ids
        scoped = replace(query, partner_ids=visible if query.partner_ids is None else query.partner_ids & visible)
        if scoped.references is not None:
            scoped = replace(scoped, references=frozenset(filter(nameable, scoped.references)))
        return await self._db.read_long(lambda uow: uow.orders.search(scoped, offset, limit))

    async def get_by_reference(self, principal: Principal, reference: str) -> OrderView:
        def load(uow: UnitOfWork) -> OrderView:
            order = uow.orders.get_by_reference(reference) if nameable(reference) else None
            if order is None or not principal.can_see(order.partner_id):
                raise OrderNotFound(f"order {reference} not found", field="id")
            return OrderView(order, uow.orders.events(order.id))

        return await self._db.read(load)

    async def settled_order(self, principal: Principal, placed: PlacedOrder, budget_seconds: float) -> Order:
        """The order to answer a placement with, for dialects whose answer is final when provisioning is
        quick: as its accepting transaction left it when it was fulfilled there or scheduled for later
        (no read back), else once final or scheduled, or as it is when ``budget_seconds`` run out.

        A new order is committed before it is read back: when the database fails under that read, the
        answer is the order as accepted, not 503, which says nothing was stored (a retry without an
        idempotency key placed it twice)."""
        if placed.settled is not None:
            return placed.settled
        try:
            return (await self.wait_until_settled(principal, placed.order_id, budget_seconds)).order
        except DatabaseUnavailable as exc:
            if placed.accepted is None:
                raise
            log.warning("order %s accepted; answered as accepted, for it cannot be read back: %s", placed.order_id, exc)
            return placed.accepted

    async def wait_until_settled(self, principal: Principal, order_id: str, budget_seconds: float) -> OrderView:
        """The order once it is final or scheduled, or as it is when the budget runs out (for dialects
        whose answer is final when provisioning is quick; the worker may be another process)."""
        deadline = time.monotonic() + budget_seconds
        while True:
            view = await self.get_order(principal, order_id)
            if view.order.state.is_final or view.order.state is OrderState.SCHEDULED or time.monotonic() >= deadline:
                return view
            await asyncio.sleep(0.01)
