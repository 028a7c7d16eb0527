"""Orders, their items and their append-only event history; and the work queue over them."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa

from orderhub.domain.orders import (
    WORKABLE_STATES,
    Operation,
    Order,
    OrderEvent,
    OrderItem,
    OrderState,
)
from orderhub.store.tables import order_events, order_items, orders


class OrderRepository:
    def __init__(self, connection: sa.Connection) -> None:
        self._db = connection

    def add(self, order: Order) -> None:
        self._db.execute(
            orders.insert().values(
                id=order.id,
                partner_id=order.partner_id,
                dialect=order.dialect,
                operation=order.operation.value,
                state=order.state.value,
                customer_id=order.customer_id,
                target_iccid=order.target_iccid,
                request=order.request,
                output=order.output,
                failure_reason=order.failure_reason,
                correlation_id=order.correlation_id,
                created_at=order.created_at,
                updated_at=order.updated_at or order.created_at,
                due_at=order.due_at,
            )
        )
        if order.items:
            self._db.execute(
                order_items.insert(),
                [
                    {
                        "order_id": order.id,
                        "seq": item.seq,
                        "product_id": item.product_id,
                        "price": item.price,
                        "currency": item.currency,
                        "activation_at": item.activation_at,
                    }
                    for item in order.items
                ],
            )
        self._append_events(order)

    def save(self, order: Order) -> None:
        self._db.execute(
            orders.update()
            .where(orders.c.id == order.id)
            .values(
                state=order.state.value,
                output=order.output,
                failure_reason=order.failure_reason,
                updated_at=order.updated_at,
                due_at=order.due_at,
                target_iccid=order.target_iccid,
            )
        )
        self._append_events(order)

    def _append_events(self, order: Order) -> None:
        if not order.new_events:
            return
        self._db.execute(
            order_events.insert(),
            [
                {
                    "order_id": order.id,
                    "at": event.at,
                    "from_state": event.from_state.value if event.from_state else None,
                    "to_state": event.to_state.value,
                    "reason": event.reason,
                }
                for event in order.new_events
            ],
        )
        order.new_events.clear()

    def get(self, order_id: str) -> Order | None:
        row = self._db.execute(sa.select(orders).where(orders.c.id == order_id)).mappings().first()
        if row is None:
            return None
        item_rows = self._db.execute(
            sa.select(order_items).where(order_items.c.order_id == order_id).order_by(order_items.c.seq)
        ).mappings()
        return Order(
            id=row["id"],
            partner_id=row["partner_id"],
            dialect=row["dialect"],
            operation=Operation(row["operation"]),
            customer_id=row["customer_id"],
            items=[
                OrderItem(
                    seq=item["seq"],
                    product_id=item["product_id"],
                    price=item["price"],
                    currency=item["currency"],
                    activation_at=item["activation_at"],
                )
                for item in item_rows
            ],
            created_at=row["created_at"],
            state=OrderState(row["state"]),
            request=row["request"],
            output=row["output"],
            target_iccid=row["target_iccid"],
            failure_reason=row["failure_reason"],
            due_at=row["due_at"],
            correlation_id=row["correlation_id"],
            updated_at=row["updated_at"],
        )

    def events(self, order_id: str) -> list[OrderEvent]:
        rows = self._db.execute(
            sa.select(order_events).where(order_events.c.order_id == order_id).order_by(order_events.c.id)
        ).mappings()
        return [
            OrderEvent(
                at=row["at"],
                from_state=OrderState(row["from_state"]) if row["from_state"] else None,
                to_state=OrderState(row["to_state"]),
                reason=row["reason"],
            )
            for row in rows
        ]

    def count_open_for_iccid(self, iccid: str, operation: Operation) -> int:
        query = sa.select(sa.func.count()).where(
            orders.c.target_iccid == iccid,
            orders.c.operation == operation.value,
            orders.c.state.in_([state.value for state in WORKABLE_STATES]),
        )
        return int(self._db.execute(query).scalar_one())

    # -- work queue ------------------------------------------------------------------------------

    def due_order_ids(self, now: datetime, limit: int) -> list[str]:
        query = (
            sa.select(orders.c.id)
            .where(
                orders.c.state.in_([state.value for state in WORKABLE_STATES]),
                orders.c.due_at <= now,
                sa.or_(orders.c.lease_until.is_(None), orders.c.lease_until < now),
            )
            .order_by(orders.c.due_at)
            .limit(limit)
        )
        return list(self._db.execute(query).scalars())

    def try_lease(self, order_id: str, owner: str, now: datetime, until: datetime) -> bool:
        """Take the order for ``owner`` unless another worker holds a live lease on it."""
        result = self._db.execute(
            orders.update()
            .where(
                orders.c.id == order_id,
                sa.or_(orders.c.lease_until.is_(None), orders.c.lease_until < now),
            )
            .values(lease_owner=owner, lease_until=until, attempts=orders.c.attempts + 1)
        )
        return result.rowcount == 1

    def attempts(self, order_id: str) -> int:
        return int(self._db.execute(sa.select(orders.c.attempts).where(orders.c.id == order_id)).scalar_one())

    def record_attempt(self, order_id: str) -> int:
        """Count one more fulfilment attempt; the new count."""
        self._db.execute(orders.update().where(orders.c.id == order_id).values(attempts=orders.c.attempts + 1))
        return self.attempts(order_id)

    def release_lease(self, order_id: str, *, retry_at: datetime | None = None) -> None:
        values: dict[str, object] = {"lease_owner": None, "lease_until": None}
        if retry_at is not None:
            # A failed attempt waits before the next one instead of spinning on the same error.
            values["lease_until"] = retry_at
        self._db.execute(orders.update().where(orders.c.id == order_id).values(**values))
