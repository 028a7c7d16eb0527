"""Cancellation requests and event listeners (see domain.changes)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa

from orderhub.domain.changes import Cancellation, CancellationState, Listener
from orderhub.domain.order_states import OrderEvent, OrderState
from orderhub.services.records import CommitMarks
from orderhub.store.commit_marks import read_commit_marks
from orderhub.store.fastsql import FastSql, read_time
from orderhub.store.hub_leases import ListenerLeases, lease_over
from orderhub.store.order_rows import load_snapshot
from orderhub.store.tables import cancellations, hub_listeners, order_events, orders


class CancellationRepository:
    def __init__(self, connection: sa.Connection) -> None:
        self._db = connection

    def add(self, cancellation: Cancellation) -> None:
        self._db.execute(
            cancellations.insert().values(
                id=cancellation.id,
                partner_id=cancellation.partner_id,
                order_id=cancellation.order_id,
                state=cancellation.state.value,
                reason=cancellation.reason,
                requested_for=cancellation.requested_for,
                refusal=cancellation.refusal,
                created_at=cancellation.created_at,
                effective_at=cancellation.effective_at,
            )
        )

    def get(self, cancellation_id: str) -> Cancellation | None:
        row = self._db.execute(sa.select(cancellations).where(cancellations.c.id == cancellation_id)).mappings().first()
        return _cancellation(row) if row is not None else None

    def done_for(self, order_id: str) -> Cancellation | None:
        """The cancellation that cancelled the order, if one did."""
        row = (
            self._db.execute(
                sa.select(cancellations).where(
                    cancellations.c.order_id == order_id, cancellations.c.state == CancellationState.DONE.value
                )
            )
            .mappings()
            .first()
        )
        return _cancellation(row) if row is not None else None

    def of_partners(self, partner_ids: Iterable[str], offset: int, limit: int) -> tuple[list[Cancellation], int]:
        where = cancellations.c.partner_id.in_(list(partner_ids))
        total = self._db.execute(sa.select(sa.func.count()).select_from(cancellations).where(where)).scalar_one()
        rows = self._db.execute(
            sa.select(cancellations)
            .where(where)
            .order_by(cancellations.c.created_at.desc(), cancellations.c.id)
            .offset(offset)
            .limit(limit)
        ).mappings()
        return [_cancellation(row) for row in rows], int(total)


def _cancellation(row: Any) -> Cancellation:
    return Cancellation(
        id=row["id"],
        partner_id=row["partner_id"],
        order_id=row["order_id"],
        state=CancellationState(row["state"]),
        created_at=row["created_at"],
        reason=row["reason"],
        requested_for=row["requested_for"],
        refusal=row["refusal"],
        effective_at=row["effective_at"],
    )


class ListenerRepository:
    def __init__(self, connection: sa.Connection) -> None:
        self._db = connection
        self._sql = FastSql(connection)
        self._leases = ListenerLeases(self._sql)

    def last_event_id(self) -> int:
        row = self._sql.one("SELECT MAX(id) FROM order_events")
        return int(row[0]) if row is not None and row[0] is not None else 0

    def commit_marks(self, earlier: str | None) -> CommitMarks:
        """The newest event id, and whether a transaction that may still commit an event below it was in
        progress as it was read; whether those in progress at ``earlier`` (a read before) have all ended."""
        if self._sql.sqlite:
            return CommitMarks(self.last_event_id(), None, idle=True, checked=earlier, earlier_ended=True)
        return read_commit_marks(self._sql, earlier)

    def register(self, listener: Listener) -> Listener:
        """Adds the listener; or, when the partner has one with the same callback and query already, gives
        that one (a registration retried after its answer was lost must not double every event)."""
        same = (
            self._db.execute(
                sa.select(hub_listeners).where(
                    hub_listeners.c.partner_id == listener.partner_id,
                    hub_listeners.c.callback == listener.callback,
                    hub_listeners.c.query.is_not_distinct_from(listener.query),
                )
            )
            .mappings()
            .first()
        )
        if same is not None:
            return _listener(same)
        self._db.execute(
            hub_listeners.insert().values(
                id=listener.id,
                partner_id=listener.partner_id,
                callback=listener.callback,
                query=listener.query,
                created_at=listener.created_at,
                delivered_event_id=listener.delivered_event_id,
            )
        )
        return listener

    def get(self, listener_id: str) -> Listener | None:
        row = self._db.execute(sa.select(hub_listeners).where(hub_listeners.c.id == listener_id)).mappings().first()
        return _listener(row) if row is not None else None

    def listed(self, partner_id: str | None) -> list[Listener]:
        query = sa.select(hub_listeners).order_by(hub_listeners.c.partner_id, hub_listeners.c.id)
        if partner_id is not None:
            query = query.where(hub_listeners.c.partner_id == partner_id)
        return [_listener(row) for row in self._db.execute(query).mappings()]

    def remove(self, listener_id: str) -> None:
        self._db.execute(hub_listeners.delete().where(hub_listeners.c.id == listener_id))

    def due(self, now: datetime, limit: int, operations: Iterable[str], *, set_back_after: datetime) -> list[Listener]:
        """Up to ``limit`` listeners with events to be sent (of these operations' orders) that are not
        waiting out a failure and that no other process is delivering to; the one served longest ago first
        (a released lease keeps when it ended), so that busy listeners take turns with the others. A
        listener with nothing to send is not leased: an idle service writes nothing. A lease or retry time
        after ``set_back_after`` was written before the clock was set back: it is over."""
        bound = {"now": now, "set_back_after": set_back_after, "limit": limit, "operations": list(operations)}
        if self._sql.sqlite:
            return [_listener(row) for row in self._db.execute(_DUE_SQLITE, bound).mappings()]
        bound["set_back_margin"] = set_back_after - now  # leases: the server's clock (store.hub_leases)
        return [_listener(row) for row in self._db.execute(_DUE_POSTGRES, bound).mappings()]

    def try_lease(
        self, listener_id: str, now: datetime, lease: timedelta, *, set_back_after: datetime
    ) -> datetime | None:
        return self._leases.take(listener_id, now, lease, set_back_after)

    def renew_lease(self, listener_id: str, held: datetime, now: datetime, lease: timedelta) -> datetime | None:
        return self._leases.renew(listener_id, held, now, lease)

    def events_after(
        self, listener: Listener, operations: Iterable[str], limit: int, *, up_to: int | None = None
    ) -> list[tuple[str, OrderEvent, int]]:
        """(order id, event, event id) of the listener's partner's orders, oldest first (ids up to ``up_to``
        only, when given)."""
        after, params = _events_after(listener, operations)
        if up_to is not None:
            after, params = f"{after} AND e.id <= ?", (*params, up_to)
        rows = self._sql.all(
            f"SELECT e.id, e.order_id, e.at, e.from_state, e.to_state, e.reason, e.snapshot, e.cancellation_id {after}"
            " ORDER BY e.id LIMIT ?",
            (*params, limit),
        )
        events = []
        for event_id, order_id, at, from_state, to_state, reason, snapshot, cancellation_id in rows:
            moment = read_time(at)
            assert moment is not None
            previous = OrderState(from_state) if from_state else None
            snapshot_then = load_snapshot(snapshot)
            event = OrderEvent(moment, previous, OrderState(to_state), reason, snapshot_then, cancellation_id)
            events.append((order_id, event, int(event_id)))
        return events

    def count_events_after(self, listener: Listener, operations: Iterable[str]) -> int:
        """How many events events_after would give with no limit."""
        after, params = _events_after(listener, operations)
        row = self._sql.one(f"SELECT COUNT(*) {after}", params)
        return int(row[0]) if row is not None else 0

    def delivered(self, listener_id: str, event_id: int) -> None:
        self._sql.execute(
            "UPDATE hub_listeners SET delivered_event_id = ?, failures = 0, next_attempt_at = NULL, last_error = NULL"
            " WHERE id = ? AND delivered_event_id < ?",
            (event_id, listener_id, event_id),
        )

    def failed(self, listener_id: str, error: str, retry_at: datetime) -> None:
        self._sql.execute(
            "UPDATE hub_listeners SET failures = failures + 1, next_attempt_at = ?, last_error = ? WHERE id = ?",
            (self._sql.time(retry_at), error[:500], listener_id),
        )

    def release(self, listener_id: str, held: datetime, now: datetime) -> None:
        self._leases.release(listener_id, held, now)

    def release_all(self) -> None:
        """Ends every lease (those a process that crashed left behind)."""
        self._sql.execute("UPDATE hub_listeners SET lease_until = NULL WHERE lease_until IS NOT NULL")


def _events_after(listener: Listener, operations: Iterable[str]) -> tuple[str, tuple[Any, ...]]:
    """The FROM and WHERE of the events a listener has not been sent, with their parameters: one text, so
    the count (`orderhub hub list`) counts what the delivery reads."""
    kinds = list(operations)
    marks = ", ".join("?" for _ in kinds)
    # The partner's listened events after the last one delivered, from their own index (migration 0024),
    # then each one's order: the cost is what is pending, not the partner's whole order history. (CROSS
    # JOIN keeps SQLite from starting at the orders; PostgreSQL plans it as a plain join.)
    return (
        "FROM order_events e CROSS JOIN orders o"
        f" WHERE e.partner_id = ? AND e.id > ? AND o.id = e.order_id AND o.operation IN ({marks})",
        (listener.partner_id, listener.delivered_event_id, *kinds),
    )


# Built once: the dispatcher asks five times a second, and the ordering's expressions, built anew each
# time, left reference cycles behind for the collector (its pauses are the request path's p99).
_EVENT, _ORDER = order_events.alias("e"), orders.alias("o")


def _due(sqlite: bool) -> sa.Select[Any]:
    return (
        sa.select(hub_listeners)
        .where(
            sa.or_(
                hub_listeners.c.next_attempt_at.is_(None),
                hub_listeners.c.next_attempt_at <= sa.bindparam("now"),
                hub_listeners.c.next_attempt_at > sa.bindparam("set_back_after"),
            ),
            lease_over(sqlite),
            # As _events_after reads them: from the partner's listened events (migration 0024's index).
            sa.exists()
            .where(_EVENT.c.partner_id == hub_listeners.c.partner_id, _EVENT.c.id > hub_listeners.c.delivered_event_id)
            .where(
                _ORDER.c.id == _EVENT.c.order_id, _ORDER.c.operation.in_(sa.bindparam("operations", expanding=True))
            ),
        )
        .order_by(hub_listeners.c.lease_until.asc().nulls_first(), hub_listeners.c.id)
        .limit(sa.bindparam("limit", type_=sa.Integer))
    )


_DUE_SQLITE, _DUE_POSTGRES = _due(sqlite=True), _due(sqlite=False)


def _listener(row: Any) -> Listener:
    return Listener(
        id=row["id"],
        partner_id=row["partner_id"],
        callback=row["callback"],
        query=row["query"],
        created_at=row["created_at"],
        delivered_event_id=row["delivered_event_id"],
        failures=row["failures"],
        next_attempt_at=row["next_attempt_at"],
        last_error=row["last_error"],
    )
