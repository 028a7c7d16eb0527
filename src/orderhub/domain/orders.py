"""Orders and the one state machine every dialect spells in its own words."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from typing import Any

from orderhub.domain.errors import CannotCancel, CannotChange, InvalidInput
from orderhub.domain.results import FulfilmentResult


class IllegalTransition(Exception):
    """A state change the state machine forbids: always a bug in the caller, never an input error."""

    def __init__(self, order_id: str, from_state: OrderState, to_state: OrderState) -> None:
        super().__init__(f"order {order_id}: illegal transition {from_state} -> {to_state}")
        self.from_state = from_state
        self.to_state = to_state


class OrderState(StrEnum):
    ACCEPTED = "accepted"
    SCHEDULED = "scheduled"
    # Stopped by the operator, or waiting on something outside orderhub; resumes or is cancelled.
    HELD = "held"
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"
    # Some items were delivered, others failed.
    PARTIAL = "partial"
    FAILED = "failed"
    REJECTED = "rejected"
    # A cancellation was asked for and is being assessed; then it is carried out, or refused.
    ASSESSING_CANCELLATION = "assessing_cancellation"
    PENDING_CANCELLATION = "pending_cancellation"
    CANCELLED = "cancelled"

    @property
    def is_final(self) -> bool:
        return self in _FINAL


_FINAL = frozenset(
    {OrderState.COMPLETED, OrderState.PARTIAL, OrderState.FAILED, OrderState.REJECTED, OrderState.CANCELLED}
)
# How far ahead any order's date may lie (an eSIM activation, a line order's start, a service activation).
# The partner APIs forbid only past dates; ten years still refuses a mistyped century.
MAX_DATE_AHEAD = timedelta(days=3653)
# Before provisioning starts an order can be called off.
CANCELLABLE_STATES = frozenset({OrderState.ACCEPTED, OrderState.SCHEDULED, OrderState.HELD})

# TMF622's state model (acknowledged, pending, held, inProgress, assessingCancellation...) is the
# richest of the dialects; the others spell subsets of it.
ALLOWED_TRANSITIONS: dict[OrderState, frozenset[OrderState]] = {
    OrderState.ACCEPTED: frozenset(
        {
            OrderState.SCHEDULED,
            OrderState.IN_PROGRESS,
            OrderState.HELD,
            OrderState.REJECTED,
            OrderState.CANCELLED,
            OrderState.ASSESSING_CANCELLATION,
        }
    ),
    OrderState.SCHEDULED: frozenset(
        {OrderState.ACCEPTED, OrderState.IN_PROGRESS, OrderState.CANCELLED, OrderState.ASSESSING_CANCELLATION}
    ),
    OrderState.HELD: frozenset({OrderState.IN_PROGRESS, OrderState.CANCELLED, OrderState.ASSESSING_CANCELLATION}),
    OrderState.IN_PROGRESS: frozenset(
        {
            OrderState.COMPLETED,
            OrderState.PARTIAL,
            OrderState.FAILED,
            OrderState.HELD,
            OrderState.ASSESSING_CANCELLATION,
        }
    ),
    # A refused cancellation goes back to where the order was.
    OrderState.ASSESSING_CANCELLATION: frozenset(
        {
            OrderState.PENDING_CANCELLATION,
            OrderState.ACCEPTED,
            OrderState.SCHEDULED,
            OrderState.HELD,
            OrderState.IN_PROGRESS,
        }
    ),
    OrderState.PENDING_CANCELLATION: frozenset({OrderState.CANCELLED}),
    OrderState.COMPLETED: frozenset(),
    OrderState.PARTIAL: frozenset(),
    OrderState.FAILED: frozenset(),
    OrderState.REJECTED: frozenset(),
    OrderState.CANCELLED: frozenset(),
}

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


@dataclass(frozen=True)
class OrderSnapshot:
    """What of an order may change after one of its events without an event of its own (a partner's
    new date or descriptive fields), as it was right after that event. The rest of what an event shows
    follows from the event itself: see ``Order.as_at``."""

    request: dict[str, Any]
    due_at: datetime | None


@dataclass(frozen=True)
class OrderEvent:
    at: datetime
    from_state: OrderState | None
    to_state: OrderState
    reason: str | None = None
    # Taken when the event happens, for orders of the LISTENED_OPERATIONS; None for the others, and for
    # events stored before migration 0013.
    snapshot: OrderSnapshot | None = None


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

    def cancel(self, reason: str | None, now: datetime) -> None:
        """Call the order off before provisioning starts: assessed, then carried out, each step recorded.
        Raises ``CannotCancel`` (an answer for the partner, not a bug) once provisioning has started."""
        if self.state not in CANCELLABLE_STATES:
            raise CannotCancel(f"an order that is {self.state.value.replace('_', ' ')} can no longer be cancelled")
        self.transition(OrderState.ASSESSING_CANCELLATION, now=now, reason=reason)
        self.transition(OrderState.PENDING_CANCELLATION, now=now)
        self.transition(OrderState.CANCELLED, now=now, reason=reason)
