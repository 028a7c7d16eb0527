"""The one state machine every order follows, and the history it leaves: an event per change."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any


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
# richest of the dialects; the others spell subsets of it. Only the steps the design names, or that a
# feature takes: an order waiting for its date (SCHEDULED) starts by way of ACCEPTED, and a partner's
# cancellation goes through its assessment (Order.cancel).
ALLOWED_TRANSITIONS: dict[OrderState, frozenset[OrderState]] = {
    OrderState.ACCEPTED: frozenset(
        {OrderState.SCHEDULED, OrderState.IN_PROGRESS, OrderState.REJECTED, OrderState.ASSESSING_CANCELLATION}
    ),
    OrderState.SCHEDULED: frozenset({OrderState.ACCEPTED, OrderState.ASSESSING_CANCELLATION}),
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
    # The design's ways back for a cancellation refused once assessed; none to ACCEPTED, which it does not
    # name. (Order.cancel decides before the order moves: a refusal leaves it where it was.)
    OrderState.ASSESSING_CANCELLATION: frozenset(
        {OrderState.PENDING_CANCELLATION, OrderState.SCHEDULED, OrderState.HELD, OrderState.IN_PROGRESS}
    ),
    OrderState.PENDING_CANCELLATION: frozenset({OrderState.CANCELLED}),
    OrderState.COMPLETED: frozenset(),
    OrderState.PARTIAL: frozenset(),
    OrderState.FAILED: frozenset(),
    OrderState.REJECTED: frozenset(),
    OrderState.CANCELLED: frozenset(),
}


class EventKind(StrEnum):
    """What an event of an order's history records; the dialects name each kind in their own words."""

    CREATED = "created"
    STATE_CHANGED = "state_changed"
    # A note that moved no state: what the order shows changed (a partner's PATCH, an erasure).
    CHANGED = "changed"
    # The partner deleted the finished order from its APIs; its history stays.
    DELETED = "deleted"
    # A cancellation request was made, and then decided (carried out or refused): notes of the order's
    # history that name their cancellation, so listeners hear of the request itself, not only its effect.
    CANCELLATION_REQUESTED = "cancellation_requested"
    CANCELLATION_DECIDED = "cancellation_decided"


# The reasons of the notes a partner's own changes leave in the order's history.
CHANGED_BY_PARTNER = "changed by the partner"
DELETED_BY_PARTNER = "deleted by the partner"
# The reasons of the notes a cancellation request leaves: fixed words, never the request's own reason
# (which may name the customer: it stays with the cancellation, where an erasure finds it). A process of
# the release before migration 0022 reads these notes as changes and shows these words.
CANCELLATION_REQUESTED = "cancellation requested"
CANCELLATION_DONE = "cancellation done"
CANCELLATION_REFUSED = "cancellation refused"


@dataclass(frozen=True)
class OrderSnapshot:
    """What of an order may change after one of its events (a partner's new date or descriptive fields),
    as it was right after that event: a listener that hears of the event later is shown the order as it
    was then. The rest of what an event shows follows from the event itself: see ``Order.as_at``."""

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
    # The cancellation request a note of CANCELLATION_REQUESTED or _DECIDED is about; None for the others.
    cancellation_id: str | None = None

    @property
    def kind(self) -> EventKind:
        if self.cancellation_id is not None:
            if self.reason == CANCELLATION_REQUESTED:
                return EventKind.CANCELLATION_REQUESTED
            return EventKind.CANCELLATION_DECIDED
        if self.from_state is None:
            return EventKind.CREATED
        if self.from_state is not self.to_state:
            return EventKind.STATE_CHANGED
        return EventKind.DELETED if self.reason == DELETED_BY_PARTNER else EventKind.CHANGED
