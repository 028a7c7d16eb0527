"""Orders, their items and their append-only event history; and the work queue over them.

The statements every order runs are hand-written (see store.fastsql); the rest use SQLAlchemy Core.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa

from orderhub.domain.identifiers import order_reference, reference_second
from orderhub.domain.order_states import OrderEvent, OrderState
from orderhub.domain.orders import WORKABLE_STATES, ItemState, Operation, Order, Subject
from orderhub.services.records import OrderQuery, OrderStamp
from orderhub.store.fastsql import FastSql
from orderhub.store.order_rows import SELECT_ITEMS, SELECT_ORDER, dump_snapshot, order_from_rows, required_time
from orderhub.store.order_search import search_conditions
from orderhub.store.results import dump_result
from orderhub.store.tables import order_items, orders
from orderhub.store.work_queue_sql import DUE_ORDER_IDS, LEASE_ORDER, NEVER_SET_BACK

_WORKABLE = tuple(state.value for state in WORKABLE_STATES)

_INSERT_ORDER = (
    "INSERT INTO orders (id, partner_id, dialect, operation, state, customer_id, subject_kind, subject_ref,"
    " reference, request, output, failure_reason, correlation_id, created_at, updated_at, due_at, attempts)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0)"
)
_INSERT_ITEM = (
    "INSERT INTO order_items (order_id, seq, product_id, price, currency, activation_at, action, attributes)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
)
_INSERT_EVENT = "INSERT INTO order_events (order_id, at, from_state, to_state, reason) VALUES (?, ?, ?, ?, ?)"
_INSERT_EVENT_IN_FULL = (
    "INSERT INTO order_events (order_id, at, from_state, to_state, reason, snapshot, cancellation_id, partner_id)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
)


class OrderRepository:
    def __init__(self, connection: sa.Connection) -> None:
        self._db = connection
        self._sql = FastSql(connection)

    def add(self, order: Order) -> None:
        sql = self._sql
        sql.execute(
            _INSERT_ORDER,
            (
                order.id,
                order.partner_id,
                order.dialect,
                order.operation.value,
                order.state.value,
                order.customer_id,
                order.subject.kind.value if order.subject else None,
                order.subject.ref if order.subject else None,
                order.reference,
                sql.json(order.request),
                sql.json(dump_result(order.result)),
                order.failure_reason,
                order.correlation_id,
                sql.time(order.created_at),
                sql.time(order.updated_at or order.created_at),
                sql.time(order.due_at),
            ),
        )
        sql.execute_rows(
            _INSERT_ITEM,
            [
                (
                    order.id,
                    item.seq,
                    item.product_id,
                    sql.decimal(item.price),
                    item.currency,
                    sql.time(item.activation_at),
                    item.action,
                    sql.json(item.attributes) if item.attributes else None,
                )
                for item in order.items
            ],
        )
        self._append_events(order)

    def save(self, order: Order) -> None:
        sql = self._sql
        sql.execute(
            "UPDATE orders SET state = ?, output = ?, failure_reason = ?, updated_at = ?, due_at = ?,"
            " subject_kind = ?, subject_ref = ?, version = version + 1 WHERE id = ?",
            (
                order.state.value,
                sql.json(dump_result(order.result)),
                order.failure_reason,
                sql.time(order.updated_at),
                sql.time(order.due_at),
                order.subject.kind.value if order.subject else None,
                order.subject.ref if order.subject else None,
                order.id,
            ),
        )
        self._save_item_states(order)
        self._append_events(order)

    def _save_item_states(self, order: Order) -> None:
        if not order.state.is_final:
            return
        sql = self._sql
        if all(item.state is ItemState.DELIVERED for item in order.items):
            # The common case in one statement.
            sql.execute("UPDATE order_items SET state = ? WHERE order_id = ?", (ItemState.DELIVERED.value, order.id))
            return
        sql.execute_rows(
            "UPDATE order_items SET state = ?, failure_reason = ? WHERE order_id = ? AND seq = ?",
            [
                (item.state.value if item.state else None, item.failure_reason, order.id, item.seq)
                for item in order.items
            ],
        )

    def add_events(self, order: Order) -> None:
        """The order's new events alone: notes that change nothing it shows (its version stays)."""
        self._append_events(order)

    def _append_events(self, order: Order) -> None:
        # Called only after the transaction wrote another row (the order, or a cancellation): on
        # PostgreSQL it then holds a transaction id before its events take theirs, which is what
        # services.settled_events relies on to tell which events may still commit below a sent one.
        if not order.new_events:
            return
        sql = self._sql
        events = order.new_events
        rows = [
            (
                order.id,
                sql.time(event.at),
                event.from_state.value if event.from_state else None,
                event.to_state.value,
                event.reason,
            )
            for event in events
        ]
        if all(event.snapshot is None and event.cancellation_id is None for event in events):
            # The orders no listener hears of (the domain takes no snapshot of theirs): esim-v1's hot path.
            sql.execute_rows(_INSERT_EVENT, rows)
        else:
            # Events listeners hear of, found by their partner (ListenerRepository.events_after).
            partner, snapshot = order.partner_id, lambda event: sql.json(dump_snapshot(event.snapshot))
            in_full = [
                (*row, snapshot(event) if event.snapshot else None, event.cancellation_id, partner)
                for row, event in zip(rows, events, strict=True)
            ]
            sql.execute_rows(_INSERT_EVENT_IN_FULL, in_full)
        events.clear()

    def get(self, order_id: str, *, for_update: bool = False) -> Order | None:
        return self._load(self._sql.one(SELECT_ORDER + "id = ?" + self._for_update(for_update), (order_id,)))

    def stamp(self, order_id: str) -> OrderStamp:
        """Whose the order is, its version and the config version: one statement of one indexed read,
        to tell whether a representation made earlier and the caller's credentials are still right."""
        row = self._sql.one(
            "SELECT c.version, o.partner_id, o.version FROM config_version c"
            " LEFT JOIN orders o ON o.id = ? WHERE c.id = 1",
            (order_id,),
        )
        assert row is not None, "config_version has its one row from the first migration"
        config, partner_id, version = row
        if partner_id is None:
            return OrderStamp(None, 0, int(config))
        return OrderStamp(str(partner_id), int(version), int(config))

    def get_by_reference(self, reference: str, *, for_update: bool = False, deleted_too: bool = False) -> Order | None:
        """The order of that number; one its partner deleted (TMF622 DELETE) only ``deleted_too``."""
        where = "reference = ?" + ("" if deleted_too else " AND deleted_at IS NULL") + self._for_update(for_update)
        return self._load(self._sql.one(SELECT_ORDER + where, (reference,)))

    def _for_update(self, wanted: bool) -> str:
        # PostgreSQL: a change read on the row it writes waits for a worker's transaction that holds the
        # order, then reads how that left it (instead of writing over it). SQLite has one writer already.
        return " FOR UPDATE" if wanted and not self._sql.sqlite else ""

    def search(self, query: OrderQuery, offset: int, limit: int) -> tuple[list[Order], int]:
        """One page of the orders ``query`` selects, newest first, and how many it selects in all."""
        conditions = search_conditions(query, sqlite=self._sql.sqlite)
        total = self._db.execute(sa.select(sa.func.count()).select_from(orders).where(*conditions)).scalar_one()
        ids = self._db.execute(
            sa.select(orders.c.id)
            .where(*conditions)
            .order_by(orders.c.created_at.desc(), orders.c.id.desc())
            .offset(offset)
            .limit(limit)
        ).scalars()
        found = [self.get(order_id) for order_id in ids]
        return [order for order in found if order is not None], int(total)

    def update_request(self, order: Order) -> None:
        """Keep a change the partner made to what it sent (TMF622 PATCH of descriptive fields)."""
        self._sql.execute(
            "UPDATE orders SET request = ?, version = version + 1 WHERE id = ?",
            (self._sql.json(order.request), order.id),
        )

    def mark_deleted(self, order: Order, now: datetime) -> None:
        """Hide the order from its partner's APIs, keeping its history and the note of its deletion."""
        self._sql.execute(
            "UPDATE orders SET deleted_at = ?, version = version + 1 WHERE id = ?", (self._sql.time(now), order.id)
        )
        self._append_events(order)

    def _load(self, row: tuple[Any, ...] | None) -> Order | None:
        if row is None:
            return None
        return order_from_rows(row, self._sql.all(SELECT_ITEMS, (row[0],)))

    def next_reference(self, now: datetime) -> str:
        # Numbered in now's second, or in the latest second numbered in while the clock is behind it (it
        # went back): the counters of seconds over a minute old are gone, and their numbers were given.
        second = f"{now.astimezone(UTC):%Y%m%d%H%M%S}"
        row = self._sql.one(
            "INSERT INTO order_numbers (second, last)"
            " SELECT CASE WHEN max(second) > ? THEN max(second) ELSE ? END, 1 FROM order_numbers WHERE true"
            " ON CONFLICT (second) DO UPDATE SET last = order_numbers.last + 1 RETURNING second, last",
            (second, second),
        )
        assert row is not None
        numbered_in = reference_second(row[0])
        number = int(row[1])
        if number == 1:
            # The first order of a new second prunes the counters of seconds long gone.
            cutoff = f"{numbered_in - timedelta(minutes=1):%Y%m%d%H%M%S}"
            self._sql.execute("DELETE FROM order_numbers WHERE second < ?", (cutoff,))
        return order_reference(numbered_in, number)

    def events(self, order_id: str) -> list[OrderEvent]:
        rows = self._sql.all(
            "SELECT at, from_state, to_state, reason, cancellation_id FROM order_events WHERE order_id = ? ORDER BY id",
            (order_id,),
        )
        return [
            OrderEvent(
                at=required_time(at),
                from_state=OrderState(from_state) if from_state else None,
                to_state=OrderState(to_state),
                reason=reason,
                cancellation_id=cancellation_id,
            )
            for at, from_state, to_state, reason, cancellation_id in rows
        ]

    def count_open_items_on(self, subject: Subject, operation: Operation) -> int:
        """Items of ``operation`` orders on ``subject`` that are not finished yet (subscriptions to come)."""
        query = (
            sa.select(sa.func.count())
            .select_from(order_items.join(orders, orders.c.id == order_items.c.order_id))
            .where(
                orders.c.subject_ref == subject.ref,
                orders.c.subject_kind == subject.kind.value,
                orders.c.operation == operation.value,
                orders.c.state.in_(_WORKABLE),
            )
        )
        return int(self._db.execute(query).scalar_one())

    # -- work queue ------------------------------------------------------------------------------

    def due_order_ids(
        self, now: datetime, limit: int, *, claim: bool = False, set_back_after: datetime | None = None
    ) -> list[str]:
        """Orders due by ``now`` and not leased (``set_back_after``: ports.OrderRepository). ``claim``
        (inside a write): on PostgreSQL the rows are locked, and rows another worker's transaction holds
        are skipped rather than waited for. Only a scheduled order waits for its due_at; an accepted one
        is due at once, also when the clock went back and the moment it was accepted at lies ahead."""
        at = self._sql.time(now)
        skip_locked = " FOR UPDATE SKIP LOCKED" if claim and not self._sql.sqlite else ""
        bound = self._sql.time(set_back_after or NEVER_SET_BACK)
        rows = self._sql.all(DUE_ORDER_IDS + skip_locked, (at, at, bound, limit))
        return [order_id for (order_id,) in rows]

    def try_lease(self, order_id: str, owner: str, now: datetime, until: datetime, *, set_back_after: datetime) -> bool:
        """Take the order for ``owner`` unless another worker holds a live lease on it."""
        times = (self._sql.time(now), self._sql.time(set_back_after))
        changed = self._sql.execute_now(LEASE_ORDER, (owner, self._sql.time(until), order_id, *times))
        return changed == 1

    def attempts(self, order_id: str) -> int:
        return int(self._db.execute(sa.select(orders.c.attempts).where(orders.c.id == order_id)).scalar_one())

    def record_attempt(self, order_id: str) -> int:
        """Count one more fulfilment attempt; the new count."""
        self._db.execute(orders.update().where(orders.c.id == order_id).values(attempts=orders.c.attempts + 1))
        return self.attempts(order_id)

    def release_lease(self, order_id: str, *, retry_at: datetime | None = None) -> None:
        # A failed attempt waits until retry_at before the next one instead of spinning on the same error.
        self._sql.execute(
            "UPDATE orders SET lease_owner = NULL, lease_until = ? WHERE id = ?", (self._sql.time(retry_at), order_id)
        )
