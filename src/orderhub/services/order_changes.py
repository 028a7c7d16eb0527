"""Changes partners make to orders after intake: a new date, descriptive details, cancellation,
deletion. Each is one transaction; every state change lands in the order's history (and so reaches
the partner's listeners)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from orderhub.domain.changes import Cancellation, CancellationState
from orderhub.domain.errors import CannotChange, OrderNotFound
from orderhub.domain.identifiers import new_id
from orderhub.domain.order_states import CHANGED_BY_PARTNER, OrderState
from orderhub.domain.orders import Order
from orderhub.domain.partners import Principal
from orderhub.services.clock import Clock, utc_now
from orderhub.services.order_commands import FinishedOrder
from orderhub.services.ports import Database, UnitOfWork
from orderhub.services.records import nameable


def _count(finished: FinishedOrder | None) -> None:
    """An order the change cancelled is finished, counted by the process that committed it, as the worker
    counts those it finishes (a retry that finds the order cancelled already counts nothing)."""
    if finished is not None:
        finished.count()


def _visible(uow: UnitOfWork, principal: Principal, reference: str) -> Order:
    """The partner's order, to change: read on its row, so that a worker's transaction that holds the
    order ends first and the change sees how it left the order."""
    order = uow.orders.get_by_reference(reference, for_update=True)
    if order is None or not principal.can_see(order.partner_id):
        raise OrderNotFound(f"order {reference} not found", field="id")
    return order


class OrderChanges:
    def __init__(self, db: Database, *, clock: Clock = utc_now, on_changed: Callable[[], None] = lambda: None):
        self._db = db
        self._clock = clock
        # Wakes the worker: a rescheduled order may be due now.
        self._on_changed = on_changed

    async def amend(
        self,
        principal: Principal,
        reference: str,
        *,
        request: Callable[[dict[str, Any]], dict[str, Any]] | None = None,
        due_at: datetime | None = None,
    ) -> Order:
        """Give a not-yet-started order a new due date and/or rewrite what the partner sent about it
        (``request`` maps the stored request to the new one; descriptive fields only)."""

        def change(uow: UnitOfWork) -> Order:
            now = self._clock()
            order = _visible(uow, principal, reference)
            was = (order.request, order.due_at)
            # The request first: the event of a new date shows the order after the whole change.
            if request is not None:
                if order.state.is_final:
                    raise CannotChange(f"a {order.state.value} order can no longer be changed")
                order.request = request(order.request)
                uow.orders.update_request(order)
            if due_at is not None:
                order.reschedule(due_at, now)
            if (order.request, order.due_at) != was and not order.new_events:
                order.note(CHANGED_BY_PARTNER, now)  # what the order shows changed, its state did not
            uow.orders.save(order)
            return order

        order = await self._db.write(change)
        if due_at is not None:
            self._on_changed()
        return order

    async def delete(self, principal: Principal, reference: str) -> None:
        """Hide a finished order from the partner's APIs; its history stays for the audit trail."""

        def delete(uow: UnitOfWork) -> None:
            now = self._clock()
            order = _visible(uow, principal, reference)
            order.delete(now)
            uow.orders.mark_deleted(order, now)

        await self._db.write(delete)

    async def cancel(
        self, principal: Principal, reference: str, *, reason: str | None, requested_for: datetime | None
    ) -> Cancellation:
        """Cancel the order now if provisioning has not started; the request is kept either way. Asked
        again for an order it cancelled (a retry whose answer was lost), the cancellation that did it."""

        def cancel(uow: UnitOfWork) -> tuple[Cancellation, FinishedOrder | None]:
            order = _visible(uow, principal, reference)
            done = uow.cancellations.done_for(order.id) if order.state is OrderState.CANCELLED else None
            return (done, None) if done else self._cancel(uow, order, principal.partner_id, reason, requested_for)

        cancellation, finished = await self._db.write(cancel)
        _count(finished)
        return cancellation

    def cancel_for_operator(self, order_id_or_reference: str, *, reason: str) -> tuple[Cancellation, Order]:
        """The operator calls an order off (`orderhub order cancel`), as its partner could: recorded as a
        cancellation on the partner's behalf, with the reason, and seen by the partner (and its listeners)
        as any cancellation. Refused, and recorded so, once provisioning has started."""

        def cancel(uow: UnitOfWork) -> tuple[Cancellation, FinishedOrder | None, Order]:
            order = uow.orders.get(order_id_or_reference, for_update=True) or uow.orders.get_by_reference(
                order_id_or_reference, for_update=True
            )
            if order is None:
                raise OrderNotFound(f"no order {order_id_or_reference}", field="id")
            return *self._cancel(uow, order, order.partner_id, reason, None), order

        cancellation, finished, order = self._db.write_now(cancel)
        _count(finished)
        return cancellation, order

    def _cancel(
        self, uow: UnitOfWork, order: Order, by_partner: str, reason: str | None, requested_for: datetime | None
    ) -> tuple[Cancellation, FinishedOrder | None]:
        """The cancellation request, carried out or refused, and the order it finished (None: refused)."""
        now = self._clock()
        cancellation_id = new_id()
        refusal = order.cancel_as_requested(cancellation_id, reason, now)
        cancellation = Cancellation(
            id=cancellation_id,
            partner_id=by_partner,
            order_id=order.id,
            state=CancellationState.DONE if refusal is None else CancellationState.REFUSED,
            created_at=now,
            reason=reason,
            requested_for=requested_for,
            refusal=refusal,
            effective_at=now if refusal is None else None,
        )
        # Before the order's events: the notes of the request name it (a foreign key).
        uow.cancellations.add(cancellation)
        if refusal is None:
            uow.orders.save(order)
            return cancellation, FinishedOrder.of(order)
        uow.orders.add_events(order)  # the notes alone: what the order shows did not change
        return cancellation, None

    async def cancellation(self, principal: Principal, cancellation_id: str) -> tuple[Cancellation, Order]:
        def load(uow: UnitOfWork) -> tuple[Cancellation, Order]:
            found = uow.cancellations.get(cancellation_id) if nameable(cancellation_id) else None
            order = uow.orders.get(found.order_id) if found is not None else None
            if found is None or order is None or not principal.can_see(found.partner_id):
                raise OrderNotFound(f"cancellation {cancellation_id} not found", field="id")
            return found, order

        return await self._db.read(load)

    async def cancellations(
        self, principal: Principal, offset: int, limit: int
    ) -> tuple[list[tuple[Cancellation, Order]], int]:
        def load(uow: UnitOfWork) -> tuple[list[tuple[Cancellation, Order]], int]:
            found, total = uow.cancellations.of_partners(principal.visible_partner_ids, offset, limit)
            pairs = []
            for cancellation in found:
                order = uow.orders.get(cancellation.order_id)
                assert order is not None
                pairs.append((cancellation, order))
            return pairs, total

        return await self._db.read_long(load)
