"""Orders: what a partner ordered, for whom, and how it went (the state machine: ``order_states``)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from orderhub.domain.errors import CannotCancel, CannotChange, InvalidInput
from orderhub.domain.order_states import (
    ALLOWED_TRANSITIONS,
    CANCELLABLE_STATES,
    CANCELLATION_DONE,
    CANCELLATION_REFUSED,
    CANCELLATION_REQUESTED,
    DELETED_BY_PARTNER,
    MAX_DATE_AHEAD,
    IllegalTransition,
    OrderEvent,
    OrderSnapshot,
    OrderState,
)
from orderhub.domain.results import FulfilmentResult

# The reason of the step an order waiting for its date takes when the date comes.
FELL_DUE = "due"
# States a worker may pick up: work that was accepted (or scheduled) and not finished yet.
WORKABLE_STATES = (OrderState.ACCEPTED, OrderState.SCHEDULED, OrderState.IN_PROGRESS)


class Operation(StrEnum):
    """What an order does; each operation has its own rules (domain) and provisioner (fulfilment)."""

    NEW_ESIM = "NEW_ESIM"
    TOPUP = "TOPUP"
    # Plans, data plans and add-ons on a mobile line of a business unit.
    LINE_PRODUCTS = "LINE_PRODUCTS"
    # Services activated on a network access (open-access fibre).
    ACTIVATE_SERVICE = "ACTIVATE_SERVICE"


# eSIM orders: a new eSIM and a top-up of one (esim-v1's; no other API shows them).
ESIM_OPERATIONS = frozenset({Operation.NEW_ESIM, Operation.TOPUP})

# The operations whose orders partners' listeners hear about (TMF622's line orders): each event of
# theirs keeps a snapshot of what the event shows of the order. The others' events (esim-v1's hot
# path) keep nothing more.
LISTENED_OPERATIONS = frozenset({Operation.LINE_PRODUCTS})


class SubjectKind(StrEnum):
    """What an order acts on."""

    ESIM = "esim"  # an eSIM profile, by ICCID
    LINE = "line"  # a mobile line of a business unit, by line id
    ACCESS = "access"  # a network access point, by access id


@dataclass(frozen=True)
class Subject:
    kind: SubjectKind
    ref: str


class ItemState(StrEnum):
    """How an item ended; an open item has none (it follows its order)."""

    DELIVERED = "delivered"
    FAILED = "failed"


@dataclass
class OrderItem:
    """One catalog offering ordered. ``attributes`` are the item's characteristics (e.g. the plan type)."""

    seq: int
    product_id: str
    price: Decimal | None = None
    currency: str | None = None
    activation_at: datetime | None = None
    action: str = "add"
    attributes: dict[str, str] = field(default_factory=dict)
    state: ItemState | None = None
    failure_reason: str | None = None


@dataclass
class Order:
    id: str
    partner_id: str
    dialect: str
    operation: Operation
    customer_id: str | None
    items: list[OrderItem]
    created_at: datetime
    state: OrderState = OrderState.ACCEPTED
    # What the partner sent, kept verbatim so the dialect can echo it back.
    request: dict[str, Any] = field(default_factory=dict)
    # What fulfilment made (set when the order completes); each dialect renders it in its own words.
    result: FulfilmentResult | None = None
    # What the order acts on; a new eSIM's subject is known only once a profile is assigned.
    subject: Subject | None = None
    # A partner-facing order number (e.g. ORD-20261124081500-0001), for dialects that show one.
    reference: str | None = None
    # Why the order ended without its products: what failed, or the reason it was cancelled with.
    failure_reason: str | None = None
    due_at: datetime | None = None
    correlation_id: str | None = None
    updated_at: datetime | None = None
    # Events added since the order was loaded; the store appends them, never rewrites history.
    new_events: list[OrderEvent] = field(default_factory=list)

    @classmethod
    def accept(cls, *, now: datetime, **fields: Any) -> Order:
        """A new order, accepted now; one due later is scheduled for then (the worker starts it)."""
        order = cls(created_at=now, updated_at=now, due_at=fields.pop("due_at", None) or now, **fields)
        order.new_events.append(OrderEvent(now, None, OrderState.ACCEPTED, None, order._snapshot()))
        if order.due_at is not None and order.due_at > now:
            order.transition(OrderState.SCHEDULED, now=now)
        return order

    def transition(self, to: OrderState, *, now: datetime, reason: str | None = None) -> None:
        if to not in ALLOWED_TRANSITIONS[self.state]:
            raise IllegalTransition(self.id, self.state, to)
        self.new_events.append(OrderEvent(now, self.state, to, reason, self._snapshot()))
        self.state = to
        self.updated_at = now

    def _snapshot(self) -> OrderSnapshot | None:
        if self.operation not in LISTENED_OPERATIONS:
            return None
        return OrderSnapshot(self.request, self.due_at)

    def as_at(self, event: OrderEvent) -> Order:
        """This order as it was right after ``event``, one of its own: what a listener is shown.

        The state is the event's, and the order was last updated by it (every transition updates the
        order; a note that changes no state, domain.erasure's, does not). Item ends, the result and the
        failure reason are set with a final state, which has no way out: an earlier event shows none of
        them, and the final event is the last one, so the order still holds what it ended with. The
        partner's request and due date may have been changed since without an event: the event's
        snapshot has them as they were; an event stored without one (before migration 0013) shows them
        as they are now. (A new eSIM's subject is left as it is now: no listener hears of those orders.)"""
        final = event.to_state.is_final
        shown = replace(
            self,
            state=event.to_state,
            updated_at=event.at if event.from_state is not event.to_state else self.updated_at,
            items=self.items if final else [replace(item, state=None, failure_reason=None) for item in self.items],
            result=self.result if final else None,
            failure_reason=self.failure_reason if final else None,
            new_events=[],
        )
        if event.snapshot is not None:
            shown.request, shown.due_at = event.snapshot.request, event.snapshot.due_at
        return shown

    def start(self, now: datetime) -> None:
        """Provisioning begins. An order that waited for its date is due first (ACCEPTED), as when a
        partner's new date makes it due: one business event, one story in every API's history."""
        if self.state is OrderState.SCHEDULED:
            self.transition(OrderState.ACCEPTED, now=now, reason=FELL_DUE)
        if self.state is not OrderState.IN_PROGRESS:
            self.transition(OrderState.IN_PROGRESS, now=now)

    def complete(self, result: FulfilmentResult, now: datetime) -> None:
        self.finish(result, {}, now)

    def finish(self, result: FulfilmentResult, failed_items: Mapping[int, str], now: datetime) -> None:
        """Provisioning is over: ``failed_items`` (item seq -> reason) did not get delivered, the others
        did. The order's state follows its items': all delivered, completed; none, failed; else partial."""
        for item in self.items:
            reason = failed_items.get(item.seq)
            item.state = ItemState.FAILED if reason is not None else ItemState.DELIVERED
            item.failure_reason = reason
        if not failed_items:
            self.transition(OrderState.COMPLETED, now=now)
        else:
            reasons = "; ".join(f"item {seq}: {reason}" for seq, reason in sorted(failed_items.items()))
            if len(failed_items) >= len(self.items):
                self.transition(OrderState.FAILED, now=now, reason=reasons)
                self.failure_reason = reasons
            else:
                self.transition(OrderState.PARTIAL, now=now, reason=reasons)
                self.failure_reason = reasons
        self.result = result

    def fail(self, reason: str, now: datetime) -> None:
        self.transition(OrderState.FAILED, now=now, reason=reason)
        self.failure_reason = reason
        for item in self.items:
            item.state, item.failure_reason = ItemState.FAILED, reason

    def reschedule(self, due_at: datetime, now: datetime) -> None:
        """Move the date an order not yet started is due; it waits (SCHEDULED) or is due now (ACCEPTED)."""
        if self.state not in (OrderState.ACCEPTED, OrderState.SCHEDULED):
            raise CannotChange(f"an order that is {self.state.value.replace('_', ' ')} can no longer be rescheduled")
        if due_at > now + MAX_DATE_AHEAD:  # as when the order was placed
            raise InvalidInput(f"can be at most {MAX_DATE_AHEAD.days} days ahead", field="requested_at")
        self.due_at = max(due_at, now)
        if self.due_at > now and self.state is OrderState.ACCEPTED:
            self.transition(OrderState.SCHEDULED, now=now, reason="rescheduled")
        elif self.due_at <= now and self.state is OrderState.SCHEDULED:
            self.transition(OrderState.ACCEPTED, now=now, reason="rescheduled")
        self.updated_at = now

    def note(self, reason: str, now: datetime) -> None:
        """Record in the history a change that moved no state (listeners hear of it, seeing the order
        as the change left it)."""
        self.new_events.append(OrderEvent(now, self.state, self.state, reason, self._snapshot()))

    def delete(self, now: datetime) -> None:
        """The partner deletes the finished order from its APIs; the history keeps a note of it."""
        if not self.state.is_final:
            raise CannotChange("only a finished order can be deleted; cancel it first")
        self.note(DELETED_BY_PARTNER, now)

    def cancel(self, reason: str | None, now: datetime) -> None:
        """Call the order off before provisioning starts: assessed, then carried out, each step recorded.
        Raises ``CannotCancel`` (an answer for the partner, not a bug) once provisioning has started."""
        if self.state not in CANCELLABLE_STATES:
            raise CannotCancel(f"an order that is {self.state.value.replace('_', ' ')} can no longer be cancelled")
        self.transition(OrderState.ASSESSING_CANCELLATION, now=now, reason=reason)
        self.transition(OrderState.PENDING_CANCELLATION, now=now)
        self.transition(OrderState.CANCELLED, now=now, reason=reason)
        self.failure_reason = reason

    def cancel_as_requested(self, cancellation_id: str, reason: str | None, now: datetime) -> str | None:
        """``cancel`` at a cancellation request's asking: None when carried out, else why it was refused.
        The history of an order listeners hear of notes the request first and its outcome last, around
        the steps it took, so TMF622 listeners hear of the request itself, in order with the order's own
        changes. Other orders' histories (esim-v1 shows its partners theirs) keep the steps alone."""
        noted = self.operation in LISTENED_OPERATIONS
        if noted:
            self._note_cancellation(cancellation_id, CANCELLATION_REQUESTED, now)
        refusal: str | None = None
        try:
            self.cancel(reason, now)
        except CannotCancel as refused:
            refusal = refused.message
        if noted:
            self._note_cancellation(
                cancellation_id, CANCELLATION_DONE if refusal is None else CANCELLATION_REFUSED, now
            )
        return refusal

    def _note_cancellation(self, cancellation_id: str, step: str, now: datetime) -> None:
        self.new_events.append(OrderEvent(now, self.state, self.state, step, self._snapshot(), cancellation_id))
