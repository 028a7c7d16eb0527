"""Business units, what they sell, their lines and the products running on those lines."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa

from orderhub.domain.lines import PLAN_TYPE_ATTRIBUTE, BusinessUnit, Line, LineProduct, Offering, PlanType
from orderhub.domain.order_states import OrderState
from orderhub.domain.orders import SubjectKind
from orderhub.store.fastsql import FastSql, read_time
from orderhub.store.tables import business_unit_offerings, business_units, line_products, lines, order_items, orders

_PRODUCT_COLUMNS = "id, line_id, order_id, item_seq, product_id, plan_type, starts_at, ends_at"


class LineRepository:
    def __init__(self, connection: sa.Connection) -> None:
        self._db = connection
        self._sql = FastSql(connection)

    def business_unit(self, business_unit_id: str) -> BusinessUnit | None:
        row = self._sql.one(
            "SELECT id, name, timezone, msisdn_pattern, msisdn_hint FROM business_units WHERE id = ?",
            (business_unit_id,),
        )
        return BusinessUnit(*row) if row is not None else None

    def add_business_unit(self, unit: BusinessUnit, now: datetime) -> None:
        self._db.execute(
            business_units.insert().values(
                id=unit.id,
                name=unit.name,
                timezone=unit.timezone,
                msisdn_pattern=unit.msisdn_pattern,
                msisdn_hint=unit.msisdn_hint,
                created_at=now,
            )
        )

    def business_units(self) -> list[BusinessUnit]:
        rows = self._sql.all(
            "SELECT id, name, timezone, msisdn_pattern, msisdn_hint FROM business_units ORDER BY id", ()
        )
        return [BusinessUnit(*row) for row in rows]

    def update_business_unit(self, unit: BusinessUnit) -> None:
        self._db.execute(
            business_units.update()
            .where(business_units.c.id == unit.id)
            .values(
                name=unit.name, timezone=unit.timezone, msisdn_pattern=unit.msisdn_pattern, msisdn_hint=unit.msisdn_hint
            )
        )

    def put_offering(self, offering: Offering) -> None:
        # One statement, not a look-up and then an insert or update: two operators (or scripts) selling
        # the same offering as the same plan type at once both succeed, the later validity standing.
        self._sql.execute_now(
            "INSERT INTO business_unit_offerings (business_unit_id, product_id, plan_type, validity_days)"
            " VALUES (?, ?, ?, ?) ON CONFLICT (business_unit_id, product_id, plan_type)"
            " DO UPDATE SET validity_days = excluded.validity_days",
            (offering.business_unit_id, offering.product_id, offering.plan_type.value, offering.validity_days),
        )

    def remove_offering(self, offering: Offering) -> bool:
        """Stops selling the offering as its plan type in its unit; False when it was not sold so."""
        removed = self._db.execute(
            business_unit_offerings.delete().where(
                business_unit_offerings.c.business_unit_id == offering.business_unit_id,
                business_unit_offerings.c.product_id == offering.product_id,
                business_unit_offerings.c.plan_type == offering.plan_type.value,
            )
        )
        return bool(removed.rowcount)

    def open_orders_of_offering(self, offering: Offering) -> list[str]:
        """Orders not final yet on the unit's lines with an item of the offering as its plan type: their
        numbers (ids where they have none), oldest first."""
        rows = self._db.execute(
            sa.select(orders.c.id, orders.c.reference, order_items.c.attributes)
            .join(order_items, order_items.c.order_id == orders.c.id)
            .join(lines, lines.c.id == orders.c.subject_ref)
            .where(
                orders.c.subject_kind == SubjectKind.LINE.value,
                orders.c.state.not_in([state.value for state in OrderState if state.is_final]),
                lines.c.business_unit_id == offering.business_unit_id,
                order_items.c.product_id == offering.product_id,
            )
            .order_by(orders.c.created_at, orders.c.id)
        )
        # The plan type is one of the item's attributes (JSON): compared here, alike on every database.
        plan_type = offering.plan_type.value
        found = [
            ref or order_id for order_id, ref, attrs in rows if (attrs or {}).get(PLAN_TYPE_ATTRIBUTE) == plan_type
        ]
        return list(dict.fromkeys(found))

    def offerings(self, business_unit_id: str) -> list[Offering]:
        rows = self._sql.all(
            "SELECT product_id, plan_type, validity_days FROM business_unit_offerings WHERE business_unit_id = ?"
            " ORDER BY product_id, plan_type",
            (business_unit_id,),
        )
        return [Offering(business_unit_id, product_id, PlanType(kind), days) for product_id, kind, days in rows]

    def add_line(self, line: Line, now: datetime) -> None:
        self._db.execute(
            lines.insert().values(
                id=line.id, business_unit_id=line.business_unit_id, msisdn=line.msisdn, created_at=now
            )
        )

    def find_line(self, business_unit_id: str, msisdn: str) -> Line | None:
        row = self._sql.one(
            "SELECT id, business_unit_id, msisdn FROM lines WHERE business_unit_id = ? AND msisdn = ?",
            (business_unit_id, msisdn),
        )
        return Line(*row) if row is not None else None

    def get_line(self, line_id: str) -> Line | None:
        row = self._sql.one("SELECT id, business_unit_id, msisdn FROM lines WHERE id = ?", (line_id,))
        return Line(*row) if row is not None else None

    def lock(self, line_id: str) -> None:
        self._sql.lock_row("lines", "id", line_id)

    def add_product(self, product: LineProduct, now: datetime) -> None:
        sql = self._sql
        sql.execute(
            f"INSERT INTO line_products ({_PRODUCT_COLUMNS}, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                product.id,
                product.line_id,
                product.order_id,
                product.item_seq,
                product.product_id,
                product.plan_type.value,
                sql.time(product.starts_at),
                sql.time(product.ends_at),
                sql.time(now),
            ),
        )

    def end_product(self, product_id: str, at: datetime) -> None:
        self._db.execute(line_products.update().where(line_products.c.id == product_id).values(ends_at=at))

    def active_plan(self, line_id: str, now: datetime) -> LineProduct | None:
        # The latest Plan not ended. Not "started by now": a line's products start when provisioned,
        # never later, and a Plan just started lies ahead of a clock since set back (an NTP step): the
        # line had no Plan, every DataPlan and Addon refused, until the clock caught up again.
        rows = self._sql.all(
            f"SELECT {_PRODUCT_COLUMNS} FROM line_products WHERE line_id = ? AND plan_type = ?"
            " AND (ends_at IS NULL OR ends_at > ?) ORDER BY starts_at DESC LIMIT 1",
            (line_id, PlanType.PLAN.value, self._sql.time(now)),
        )
        return _product(rows[0]) if rows else None

    def products_of_order(self, order_id: str) -> list[LineProduct]:
        rows = self._sql.all(
            f"SELECT {_PRODUCT_COLUMNS} FROM line_products WHERE order_id = ? ORDER BY item_seq", (order_id,)
        )
        return [_product(row) for row in rows]

    def products_of_line(self, line_id: str) -> list[LineProduct]:
        rows = self._sql.all(
            f"SELECT {_PRODUCT_COLUMNS} FROM line_products WHERE line_id = ? ORDER BY starts_at, id", (line_id,)
        )
        return [_product(row) for row in rows]


def _product(row: tuple[Any, ...]) -> LineProduct:
    starts_at = read_time(row[6])
    assert starts_at is not None
    return LineProduct(
        id=row[0],
        line_id=row[1],
        order_id=row[2],
        item_seq=row[3],
        product_id=row[4],
        plan_type=PlanType(row[5]),
        starts_at=starts_at,
        ends_at=read_time(row[7]),
    )
