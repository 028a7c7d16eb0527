"""How an order is read back from its rows: the columns selected, and the domain object made of them."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from orderhub.domain.order_states import OrderSnapshot, OrderState
from orderhub.domain.orders import ItemState, Operation, Order, OrderItem, Subject, SubjectKind
from orderhub.store.fastsql import read_decimal, read_json, read_time
from orderhub.store.results import load_result

SELECT_ORDER = (
    "SELECT id, partner_id, dialect, operation, customer_id, created_at, state, request, output, subject_kind,"
    " subject_ref, failure_reason, due_at, correlation_id, updated_at, reference FROM orders WHERE "
)
SELECT_ITEMS = (
    "SELECT seq, product_id, price, currency, activation_at, action, attributes, state, failure_reason"
    " FROM order_items WHERE order_id = ? ORDER BY seq"
)


def order_from_rows(row: tuple[Any, ...], items: list[tuple[Any, ...]]) -> Order:
    """An order from its ``SELECT_ORDER`` row (``... WHERE`` completed by the caller) and its item rows."""
    subject_kind, subject_ref = row[9], row[10]
    return Order(
        id=str(row[0]),
        partner_id=str(row[1]),
        dialect=str(row[2]),
        operation=Operation(row[3]),
        customer_id=row[4],
        items=[
            OrderItem(
                seq=seq,
                product_id=product_id,
                price=read_decimal(price),
                currency=currency,
                activation_at=read_time(activation_at),
                action=action,
                attributes=read_json(attributes) if attributes is not None else {},
                state=ItemState(state) if state else None,
                failure_reason=reason,
            )
            for seq, product_id, price, currency, activation_at, action, attributes, state, reason in items
        ],
        created_at=required_time(row[5]),
        state=OrderState(row[6]),
        request=read_json(row[7]),
        result=load_result(read_json(row[8])),
        subject=Subject(SubjectKind(subject_kind), str(subject_ref)) if subject_kind else None,
        failure_reason=row[11],
        due_at=read_time(row[12]),
        correlation_id=row[13],
        updated_at=read_time(row[14]),
        reference=row[15],
    )


def required_time(value: object) -> datetime:
    moment = read_time(value)
    assert moment is not None
    return moment


def dump_snapshot(snapshot: OrderSnapshot) -> dict[str, Any]:
    """The JSON an event's ``snapshot`` column holds (instants in UTC, ISO 8601)."""
    due_at = snapshot.due_at.astimezone(UTC).isoformat() if snapshot.due_at is not None else None
    return {"request": snapshot.request, "due_at": due_at}


def load_snapshot(value: Any) -> OrderSnapshot | None:
    """An event's snapshot from its column; None for an event stored without one."""
    data = read_json(value) if value is not None else None
    if data is None:
        return None
    due_at = data.get("due_at")
    return OrderSnapshot(request=data["request"], due_at=datetime.fromisoformat(due_at) if due_at else None)
