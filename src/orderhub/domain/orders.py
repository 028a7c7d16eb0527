"""Orders and the one state machine every dialect spells in its own words."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

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
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"
    FAILED = "failed"
    REJECTED = "rejected"
    CANCELLED = "cancelled"

    @property
    def is_final(self) -> bool:
        return self in _FINAL


_FINAL = frozenset({OrderState.COMPLETED, OrderState.FAILED, OrderState.REJECTED, OrderState.CANCELLED})

ALLOWED_TRANSITIONS: dict[OrderState, frozenset[OrderState]] = {
    OrderState.ACCEPTED: frozenset(
        {OrderState.SCHEDULED, OrderState.IN_PROGRESS, OrderState.REJECTED, OrderState.CANCELLED}
    ),
    OrderState.SCHEDULED: frozenset({OrderState.IN_PROGRESS, OrderState.CANCELLED}),
    OrderState.IN_PROGRESS: frozenset({OrderState.COMPLETED, OrderState.FAILED}),
    OrderState.COMPLETED: frozenset(),
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


class SubjectKind(StrEnum):
    """What an order acts on."""

    ESIM = "esim"  # an eSIM profile, by ICCID
    LINE = "line"  # a mobile line of a business unit, by line id
    ACCESS = "access"  # a network access point, by access id


@dataclass(frozen=True)
class Subject:
    kind: SubjectKind
    ref: str


@dataclass(frozen=True)
class OrderItem:
    """One catalog offering ordered. ``attributes`` are the item's characteristics (e.g. the plan type)."""

    seq: int
    product_id: str
    price: Decimal | None = None
    currency: str | None = None
    activation_at: datetime | None = None
    action: str = "add"
    attributes: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class OrderEvent:
    at: datetime
    from_state: OrderState | None
    to_state: OrderState
    reason: str | None = None


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
        order.new_events.append(OrderEvent(at=now, from_state=None, to_state=OrderState.ACCEPTED))
        if order.due_at is not None and order.due_at > now:
            order.transition(OrderState.SCHEDULED, now=now)
        return order

    def transition(self, to: OrderState, *, now: datetime, reason: str | None = None) -> None:
        if to not in ALLOWED_TRANSITIONS[self.state]:
            raise IllegalTransition(self.id, self.state, to)
        self.new_events.append(OrderEvent(at=now, from_state=self.state, to_state=to, reason=reason))
        self.state = to
        self.updated_at = now

    def start(self, now: datetime) -> None:
        if self.state is not OrderState.IN_PROGRESS:
            self.transition(OrderState.IN_PROGRESS, now=now)

    def complete(self, result: FulfilmentResult, now: datetime) -> None:
        self.transition(OrderState.COMPLETED, now=now)
        self.result = result

    def fail(self, reason: str, now: datetime) -> None:
        self.transition(OrderState.FAILED, now=now, reason=reason)
        self.failure_reason = reason
