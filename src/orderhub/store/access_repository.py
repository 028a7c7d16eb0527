"""Network offerings, which communication operator may order which, accesses and their services."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from orderhub.domain.accesses import OFFERING_ATTRIBUTE, Access, AccessService, AccessState, NetworkOffering
from orderhub.domain.order_states import OrderState
from orderhub.domain.orders import SubjectKind
from orderhub.store.fastsql import FastSql, read_time
from orderhub.store.tables import accesses, network_offerings, order_items, orders, partner_network_offerings

_SERVICE_COLUMNS = "id, access_id, order_id, item_seq, product_id, offering_id, started_at"


class AccessRepository:
    def __init__(self, connection: sa.Connection) -> None:
        self._db = connection
        self._sql = FastSql(connection)

    def put_offering(self, offering: NetworkOffering) -> None:
        # One statement, not a look-up and then an insert or update: two operators (or scripts) adding
        # the same offering at once both succeed, the later name standing.
        self._sql.execute_now(
            "INSERT INTO network_offerings (product_id, offering_id, name) VALUES (?, ?, ?)"
            " ON CONFLICT (product_id, offering_id) DO UPDATE SET name = excluded.name",
            (offering.product_id, offering.offering_id, offering.name),
        )

    def partners_allowed(self, product_id: str, offering_id: str) -> list[str]:
        """The communication operators that may order the offering (partner set-offerings)."""
        rows = self._sql.all(
            "SELECT partner_id FROM partner_network_offerings WHERE product_id = ? AND offering_id = ?"
            " ORDER BY partner_id",
            (product_id, offering_id),
        )
        return [partner_id for (partner_id,) in rows]

    def remove_offering(self, product_id: str, offering_id: str) -> bool:
        """Deletes the offering and every grant of it (the grants' foreign key would refuse it otherwise);
        False when there was no such offering."""
        for table in (partner_network_offerings, network_offerings):
            removed = self._db.execute(
                table.delete().where(table.c.product_id == product_id, table.c.offering_id == offering_id)
            )
        return bool(removed.rowcount)  # the last: the offering's own

    def open_orders_of_offering(self, product_id: str, offering_id: str) -> list[str]:
        """Orders not final yet on accesses with an item of the offering: their ids, oldest first."""
        rows = self._db.execute(
            sa.select(orders.c.id, order_items.c.attributes)
            .join(order_items, order_items.c.order_id == orders.c.id)
            .where(
                orders.c.subject_kind == SubjectKind.ACCESS.value,
                orders.c.state.not_in([state.value for state in OrderState if state.is_final]),
                order_items.c.product_id == product_id,
            )
            .order_by(orders.c.created_at, orders.c.id)
        )
        # The offering is one of the item's attributes (JSON): compared here, alike on every database.
        found = [order_id for order_id, attrs in rows if (attrs or {}).get(OFFERING_ATTRIBUTE) == offering_id]
        return list(dict.fromkeys(found))

    def set_partner_offerings(self, partner_id: str, pairs: Iterable[tuple[str, str]]) -> None:
        self._db.execute(partner_network_offerings.delete().where(partner_network_offerings.c.partner_id == partner_id))
        rows = [{"partner_id": partner_id, "product_id": p, "offering_id": o} for p, o in sorted(set(pairs))]
        if rows:
            self._db.execute(partner_network_offerings.insert(), rows)

    def offerings_for(self, partner_id: str) -> list[NetworkOffering]:
        rows = self._sql.all(
            "SELECT o.product_id, o.offering_id, o.name, pr.name FROM network_offerings o"
            " JOIN partner_network_offerings p ON p.product_id = o.product_id AND p.offering_id = o.offering_id"
            " JOIN products pr ON pr.id = o.product_id WHERE p.partner_id = ? ORDER BY o.product_id, o.offering_id",
            (partner_id,),
        )
        return [NetworkOffering(*row) for row in rows]

    def all_offerings(self) -> list[NetworkOffering]:
        rows = self._sql.all(
            "SELECT o.product_id, o.offering_id, o.name, pr.name FROM network_offerings o"
            " JOIN products pr ON pr.id = o.product_id ORDER BY o.product_id, o.offering_id"
        )
        return [NetworkOffering(*row) for row in rows]

    def add(self, access: Access, now: datetime) -> None:
        self._db.execute(
            accesses.insert().values(
                id=access.id, ref=access.ref, state=access.state.value, created_at=now, updated_at=now
            )
        )

    def get(self, access_id: str) -> Access | None:
        return self._access("id", access_id, locked=False)

    def by_ref(self, ref: str) -> Access | None:
        return self._access("ref", ref, locked=False)

    def locked(self, access_id: str) -> Access | None:
        return self._access("id", access_id, locked=True)

    def locked_by_ref(self, ref: str) -> Access | None:
        return self._access("ref", ref, locked=True)

    def _access(self, column: str, value: str, *, locked: bool) -> Access | None:
        # Locked, the row is read once the lock is held, so as the last commit left it (READ COMMITTED);
        # SQLite has one writer at a time already.
        lock = " FOR UPDATE" if locked and not self._sql.sqlite else ""
        row = self._sql.one(f"SELECT id, ref, state FROM accesses WHERE {column} = ?{lock}", (value,))
        return Access(row[0], row[1], AccessState(row[2])) if row is not None else None

    def set_state(self, access_id: str, state: AccessState, now: datetime) -> None:
        self._sql.execute(
            "UPDATE accesses SET state = ?, updated_at = ? WHERE id = ?", (state.value, self._sql.time(now), access_id)
        )

    def active_products(self, access_id: str) -> frozenset[str]:
        rows = self._sql.all(
            "SELECT product_id FROM access_services WHERE access_id = ? AND ended_at IS NULL", (access_id,)
        )
        return frozenset(product_id for (product_id,) in rows)

    def ordered_products(self, access_id: str) -> frozenset[str]:
        final = ", ".join(f"'{state.value}'" for state in OrderState if state.is_final)
        rows = self._sql.all(
            "SELECT DISTINCT i.product_id FROM orders o JOIN order_items i ON i.order_id = o.id"
            f" WHERE o.subject_ref = ? AND o.subject_kind = ? AND o.state NOT IN ({final})",
            (access_id, SubjectKind.ACCESS.value),
        )
        return frozenset(product_id for (product_id,) in rows)

    def add_service(self, service: AccessService, now: datetime) -> None:
        sql = self._sql
        sql.execute(
            f"INSERT INTO access_services ({_SERVICE_COLUMNS}, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (
                service.id,
                service.access_id,
                service.order_id,
                service.item_seq,
                service.product_id,
                service.offering_id,
                sql.time(service.started_at),
                sql.time(now),
            ),
        )

    def services_of_order(self, order_id: str) -> list[AccessService]:
        rows = self._sql.all(
            f"SELECT {_SERVICE_COLUMNS} FROM access_services WHERE order_id = ? ORDER BY item_seq", (order_id,)
        )
        return [_service(row) for row in rows]

    def services_of(self, access_id: str) -> list[AccessService]:
        rows = self._sql.all(
            f"SELECT {_SERVICE_COLUMNS} FROM access_services WHERE access_id = ? ORDER BY started_at", (access_id,)
        )
        return [_service(row) for row in rows]


def _service(row: tuple[Any, ...]) -> AccessService:
    started = read_time(row[6])
    assert started is not None
    return AccessService(row[0], row[1], row[2], row[3], row[4], row[5], started)
