"""A cancellation request's notes in an order's history: around the steps it took, for the orders
listeners hear of (TMF622's CancelProductOrder events), and none for the others."""

from dataclasses import replace
from datetime import UTC, datetime

import pytest

from orderhub.domain.order_states import CANCELLATION_REQUESTED, EventKind, OrderEvent, OrderState
from orderhub.domain.orders import Operation, Order, OrderItem

NOW = datetime(2030, 1, 1, tzinfo=UTC)


def order_in(state: OrderState, operation: Operation = Operation.LINE_PRODUCTS) -> Order:
    return Order(id="ord-1", partner_id="p-1", dialect="tmf622", operation=operation, customer_id=None,
                 items=[OrderItem(seq=1, product_id="P1")], created_at=NOW, updated_at=NOW, state=state)  # fmt: skip


def test_a_cancellation_carried_out_is_noted_before_and_after_its_steps() -> None:
    order = order_in(OrderState.SCHEDULED)
    assert order.cancel_as_requested("c-1", "moved", NOW) is None
    assert [(e.kind, e.to_state, e.cancellation_id) for e in order.new_events] == [
        (EventKind.CANCELLATION_REQUESTED, OrderState.SCHEDULED, "c-1"),
        (EventKind.STATE_CHANGED, OrderState.ASSESSING_CANCELLATION, None),
        (EventKind.STATE_CHANGED, OrderState.PENDING_CANCELLATION, None),
        (EventKind.STATE_CHANGED, OrderState.CANCELLED, None),
        (EventKind.CANCELLATION_DECIDED, OrderState.CANCELLED, "c-1"),
    ]
    # The notes keep fixed words, never the request's reason (which may name the customer).
    assert {e.reason for e in order.new_events if e.cancellation_id} == {"cancellation requested", "cancellation done"}


def test_a_refused_cancellation_is_noted_twice_and_moves_nothing() -> None:
    order = order_in(OrderState.COMPLETED)
    assert order.cancel_as_requested("c-1", None, NOW) == "an order that is completed can no longer be cancelled"
    assert order.state is OrderState.COMPLETED
    assert [(e.kind, e.reason) for e in order.new_events] == [
        (EventKind.CANCELLATION_REQUESTED, "cancellation requested"),
        (EventKind.CANCELLATION_DECIDED, "cancellation refused"),
    ]


@pytest.mark.parametrize("state", [OrderState.ACCEPTED, OrderState.COMPLETED])
def test_an_order_no_listener_hears_of_keeps_the_steps_alone(state: OrderState) -> None:
    order = order_in(state, Operation.NEW_ESIM)
    order.cancel_as_requested("c-1", None, NOW)
    assert all(e.cancellation_id is None for e in order.new_events)


def test_only_a_note_naming_a_cancellation_is_of_a_cancellation_kind() -> None:
    note = OrderEvent(NOW, OrderState.HELD, OrderState.HELD, CANCELLATION_REQUESTED)
    assert note.kind is EventKind.CHANGED  # as the release before 0022 reads it
    assert replace(note, cancellation_id="c-1").kind is EventKind.CANCELLATION_REQUESTED
