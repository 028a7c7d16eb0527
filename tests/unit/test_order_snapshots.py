"""What an order's events show of it: the order as it was right after each event (Order.as_at)."""

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from orderhub.domain.order_states import OrderSnapshot, OrderState
from orderhub.domain.orders import ItemState, Operation, Order, OrderItem
from orderhub.domain.results import LineResult

NOW = datetime(2030, 1, 1, tzinfo=UTC)


def line_order(*, due_at: datetime | None = None, operation: Operation = Operation.LINE_PRODUCTS) -> Order:
    return Order.accept(
        now=NOW,
        id="ord-1",
        partner_id="partner-1",
        dialect="tmf622",
        operation=operation,
        customer_id=None,
        items=[OrderItem(seq=1, product_id="P1"), OrderItem(seq=2, product_id="P2")],
        request={"order": {"description": "first"}},
        due_at=due_at,
    )


def test_a_listened_to_orders_events_keep_its_request_and_date_as_they_were() -> None:
    order = line_order(due_at=NOW + timedelta(days=3))
    first = {"order": {"description": "first"}}
    assert [event.snapshot for event in order.new_events] == [
        OrderSnapshot(first, NOW + timedelta(days=3)),
        OrderSnapshot(first, NOW + timedelta(days=3)),
    ]
    order.request = {"order": {"description": "second"}}
    order.reschedule(NOW, NOW + timedelta(minutes=1))
    assert order.new_events[-1].snapshot == OrderSnapshot(order.request, NOW + timedelta(minutes=1))


def test_other_orders_events_keep_no_snapshot() -> None:
    order = line_order(operation=Operation.NEW_ESIM)
    order.start(NOW)
    assert [event.snapshot for event in order.new_events] == [None, None]


def test_an_event_shows_the_order_as_it_was_right_after_it() -> None:
    order = line_order(due_at=NOW + timedelta(days=3))
    later = NOW + timedelta(hours=1)
    order.request = {"order": {"description": "second"}}
    order.reschedule(later, later)
    order.start(later)
    order.finish(LineResult("CR", "69877689", ((1, "line-product-1"),)), {2: "no stock"}, later + timedelta(seconds=1))
    accepted, scheduled, rescheduled, started, ended = order.new_events

    shown = order.as_at(accepted)
    assert shown.state is OrderState.ACCEPTED and shown.updated_at == NOW
    assert shown.request == {"order": {"description": "first"}} and shown.due_at == NOW + timedelta(days=3)
    assert [item.state for item in shown.items] == [None, None]
    assert shown.result is None and shown.failure_reason is None and shown.new_events == []
    assert order.as_at(scheduled).state is OrderState.SCHEDULED

    shown = order.as_at(started)
    assert shown.state is OrderState.IN_PROGRESS and shown.request == {"order": {"description": "second"}}
    assert shown.due_at == later and [item.state for item in shown.items] == [None, None]

    shown = order.as_at(ended)
    assert shown.state is OrderState.PARTIAL and shown.updated_at == later + timedelta(seconds=1)
    assert [item.state for item in shown.items] == [ItemState.DELIVERED, ItemState.FAILED]
    assert shown.result == order.result and shown.failure_reason == "item 2: no stock"
    # The order itself is left as it is.
    assert order.state is OrderState.PARTIAL and order.items[1].state is ItemState.FAILED
    assert rescheduled.to_state is OrderState.ACCEPTED


def test_an_event_stored_without_a_snapshot_shows_the_request_and_date_as_they_are() -> None:
    order = line_order(due_at=NOW + timedelta(days=3))
    accepted = replace(order.new_events[0], snapshot=None)
    order.request = {"order": {"description": "second"}}
    order.due_at = NOW + timedelta(days=5)
    shown = order.as_at(accepted)
    assert shown.state is OrderState.ACCEPTED
    assert shown.request == {"order": {"description": "second"}} and shown.due_at == NOW + timedelta(days=5)
