"""What erasing a customer's personal data reads and rewrites besides their orders (the orders themselves
are rewritten by the order repository, which moves their versions), and how exporting it reads."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime

import sqlalchemy as sa

from orderhub.domain.order_states import OrderSnapshot, OrderState
from orderhub.services.records import InactiveCustomer, StoredReason
from orderhub.store.fastsql import FastSql, read_time
from orderhub.store.order_rows import dump_snapshot, load_snapshot

# The states an order ends in, written into the statement: the domain's own, no operator's input.
_FINAL = ", ".join(f"'{state.value}'" for state in OrderState if state.is_final)
# The customers a retention policy may erase: not erased, created before the cut-off; of the partner when
# one is named (found by uq_customers_partner_email, which begins with partner_id).
_CANDIDATES = "SELECT id, partner_id FROM customers WHERE erased_at IS NULL AND created_at < ?{scope}"
# Their orders (ix_orders_customer_id, migration 0028), read in one statement: whether
# any has not ended, and whether any changed at or after the cut-off or noted something in its history then
# (a note moves neither state nor updated_at: a partner's deletion of the order, a cancellation it asked
# for and was refused; an order's events are found by ix_order_events_order_id). Not narrowed by partner:
# a managing partner's esim-v1 orders may be for its resellers' customers.
_ACTIVITY = (
    f"SELECT o.customer_id, MAX(CASE WHEN o.state IN ({_FINAL}) THEN 0 ELSE 1 END),"
    " MAX(CASE WHEN o.updated_at >= ? OR EXISTS (SELECT 1 FROM order_events e WHERE e.order_id = o.id AND e.at >= ?)"
    " THEN 1 ELSE 0 END) FROM orders o WHERE o.customer_id IN (SELECT id FROM ({candidates}) c)"
    " GROUP BY o.customer_id"
)

# Orders a statement names at most (bound parameters are limited: 32,766 on SQLite, 65,535 on PostgreSQL).
_CHUNK = 500


def _in_chunks(ids: Sequence[str]) -> Iterator[tuple[Sequence[str], str]]:
    """The ids a statement's ``IN (...)`` takes at a time, each chunk with its placeholders."""
    for start in range(0, len(ids), _CHUNK):
        chunk = ids[start : start + _CHUNK]
        yield chunk, ", ".join("?" * len(chunk))


class ErasureRepository:
    def __init__(self, connection: sa.Connection) -> None:
        self._sql = FastSql(connection)

    def read_one_snapshot(self) -> None:
        # PostgreSQL's default (READ COMMITTED) gives each statement the state of its own start: an order
        # that moves on while the customer's orders are read one by one would show a state its history
        # does not reach. SQLite's read transaction is one snapshot from its first read already.
        if not self._sql.sqlite:
            self._sql.execute_now("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")

    def lock_customer(self, customer_id: str) -> None:
        # PostgreSQL: an order placed for the customer meanwhile holds the row (its foreign key) until it
        # commits, and is then found among theirs; one placed after waits for the erasure.
        self._sql.lock_row("customers", "id", customer_id)

    def orders_of(self, customer_id: str) -> list[str]:
        # By ix_orders_customer_id (migration 0028): before it, every order was read while writes waited.
        rows = self._sql.all("SELECT id FROM orders WHERE customer_id = ? ORDER BY created_at, id", (customer_id,))
        return [str(order_id) for (order_id,) in rows]

    def inactive_customers(self, partner_id: str | None, since: datetime) -> list[InactiveCustomer]:
        # Two statements, joined here: one joining the customers to their orders' activity let SQLite scan
        # the activity of every customer once per customer of a partner (minutes with a million orders).
        # The caller reads them in one snapshot (read_one_snapshot), so both see the same customers.
        at = self._sql.time(since)
        candidates = _CANDIDATES.format(scope=" AND partner_id = ?" if partner_id is not None else "")
        scope = (at, partner_id) if partner_id is not None else (at,)
        activity = {
            str(customer_id): (bool(not_final), bool(active))
            for customer_id, not_final, active in self._sql.all(
                _ACTIVITY.format(candidates=candidates), (at, at, *scope)
            )
        }
        found = []
        for customer_id, partner in self._sql.all(candidates + " ORDER BY created_at, id", scope):
            not_final, active = activity.get(str(customer_id), (False, False))  # none: no order at all
            if not active:
                found.append(InactiveCustomer(str(customer_id), str(partner), not_final))
        return found

    def last_noted(self, order_ids: Sequence[str]) -> datetime | None:
        latest: datetime | None = None
        for chunk, marks in _in_chunks(order_ids):
            row = self._sql.one(f"SELECT MAX(at) FROM order_events WHERE order_id IN ({marks})", chunk)
            at = read_time(row[0]) if row is not None else None
            if at is not None and (latest is None or at > latest):
                latest = at
        return latest

    def snapshots_of(self, order_id: str) -> list[tuple[int, OrderSnapshot]]:
        rows = self._sql.all(
            "SELECT id, snapshot FROM order_events WHERE order_id = ? AND snapshot IS NOT NULL ORDER BY id",
            (order_id,),
        )
        found = []
        for event_id, value in rows:
            snapshot = load_snapshot(value)
            if snapshot is not None:
                found.append((int(event_id), snapshot))
        return found

    def replace_snapshot(self, event_id: int, snapshot: OrderSnapshot) -> None:
        self._sql.execute(
            "UPDATE order_events SET snapshot = ? WHERE id = ?", (self._sql.json(dump_snapshot(snapshot)), event_id)
        )

    def reasons_of(self, order_ids: Sequence[str]) -> list[StoredReason]:
        # Not a cancellation's notes: fixed words (domain.order_states.CANCELLATION_REQUESTED, ...) that
        # tell which note each is; the cancellation's own reason is its row's, read here too.
        found = []
        for chunk, marks in _in_chunks(order_ids):
            rows = self._sql.all(
                f"SELECT 'event', CAST(id AS TEXT), reason FROM order_events WHERE order_id IN ({marks})"
                f" AND reason IS NOT NULL AND cancellation_id IS NULL UNION ALL SELECT 'cancellation', id, reason"
                f" FROM cancellations WHERE order_id IN ({marks}) AND reason IS NOT NULL UNION ALL SELECT 'order', id,"
                f" failure_reason FROM orders WHERE id IN ({marks}) AND failure_reason IS NOT NULL",
                (*chunk, *chunk, *chunk),
            )
            found += [StoredReason(str(kind), str(row_id), str(text)) for kind, row_id, text in rows]
        return found

    def replace_reason(self, reason: StoredReason, text: str) -> None:
        if reason.kind == "event":
            self._sql.execute("UPDATE order_events SET reason = ? WHERE id = ?", (text, int(reason.row_id)))
        elif reason.kind == "order":
            self._sql.execute("UPDATE orders SET failure_reason = ? WHERE id = ?", (text, reason.row_id))
        else:
            self._sql.execute("UPDATE cancellations SET reason = ? WHERE id = ?", (text, reason.row_id))

    def idempotency_keys_of(self, order_ids: Sequence[str]) -> list[tuple[str, str]]:
        # By ix_idempotency_keys_order_id (migration 0028), as orders_of reads by its own.
        found = []
        for chunk, marks in _in_chunks(order_ids):
            rows = self._sql.all(
                f"SELECT partner_id, key FROM idempotency_keys WHERE order_id IN ({marks}) ORDER BY partner_id, key",
                chunk,
            )
            found += [(str(partner_id), str(key)) for partner_id, key in rows]
        return found

    def refusal_keys_of(self, partner_id: str) -> list[str]:
        rows = self._sql.all(
            "SELECT key FROM idempotency_keys WHERE partner_id = ? AND order_id IS NULL ORDER BY key", (partner_id,)
        )
        return [str(key) for (key,) in rows]

    def replace_correlation_id(self, order_id: str, correlation_id: str) -> None:
        self._sql.execute("UPDATE orders SET correlation_id = ? WHERE id = ?", (correlation_id, order_id))

    def replace_idempotency_key(self, partner_id: str, key: str, new_key: str) -> None:
        self._sql.execute(
            "UPDATE idempotency_keys SET key = ? WHERE partner_id = ? AND key = ?", (new_key, partner_id, key)
        )

    def drop_refusal_key(self, partner_id: str, key: str) -> None:
        self._sql.execute(
            "DELETE FROM idempotency_keys WHERE partner_id = ? AND key = ? AND order_id IS NULL", (partner_id, key)
        )

    def erase_customer(self, customer_id: str, now: datetime) -> None:
        # NULLs: no unique rule takes two of them for equal (uq_customers_partner_email, uq_customers_identity,
        # on SQLite as on PostgreSQL), so any number of erased customers stand side by side, and a new
        # order with the same e-mail or identity makes a new customer.
        self._sql.execute(
            "UPDATE customers SET email = NULL, name = NULL, identity_type = NULL, identity_value = NULL,"
            " country_of_residence = NULL, erased_at = ? WHERE id = ?",
            (self._sql.time(now), customer_id),
        )
