"""Catalog products, eSIM profiles and the subscriptions that run on them."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

import sqlalchemy as sa

from orderhub.domain.catalog import Product, ProductKind
from orderhub.domain.esim import ProfileState, Subscription
from orderhub.services.ports import Contention
from orderhub.services.records import StoredProfile
from orderhub.store.fastsql import FastSql, read_time
from orderhub.store.partner_repository import bump_config_version
from orderhub.store.tables import esim_profiles, product_prices, products, subscriptions


class CatalogRepository:
    def __init__(self, connection: sa.Connection) -> None:
        self._db = connection

    def upsert(self, product: Product, now: datetime) -> None:
        self.upsert_many([product], now)

    def upsert_many(self, items: list[Product], now: datetime) -> None:
        """Insert or update products, in a few statements whatever their number (an import writes
        hundreds a transaction). A product is never given another kind: the commands that sell it as
        its kind would stop finding it, so callers refuse that first and here it is an error."""
        ids = [product.id for product in items]
        stored = self.kinds(ids)
        changed = sorted(p.id for p in items if p.id in stored and stored[p.id] is not p.kind)
        if changed:
            raise ValueError(f"products {', '.join(changed)} are of another kind")
        rows = [
            {
                "id": p.id,
                "name": p.name,
                "kind": p.kind.value,
                "description": p.description,
                "data_mb": p.data_mb,
                "validity_days": p.validity_days,
                "footprint": list(p.footprint),
                "updated_at": now,
            }
            for p in items
        ]
        # An update of many rows binds its values under names of their own (SQLAlchemy reserves the
        # columns' names for the SET clause).
        updated = [{f"b_{name}": value for name, value in row.items()} for row in rows if row["id"] in stored]
        if updated:
            columns = {name: sa.bindparam(f"b_{name}", type_=products.c[name].type) for name in rows[0] if name != "id"}
            self._db.execute(products.update().where(products.c.id == sa.bindparam("b_id")).values(**columns), updated)
        fresh = [row for row in rows if row["id"] not in stored]
        if fresh:
            self._db.execute(products.insert(), fresh)
        self._db.execute(product_prices.delete().where(product_prices.c.product_id.in_(ids)))
        prices = [{"product_id": p.id, "currency": c, "amount": a} for p in items for c, a in p.prices.items()]
        if prices:
            self._db.execute(product_prices.insert(), prices)
        bump_config_version(self._db)

    def kinds(self, product_ids: Iterable[str]) -> dict[str, ProductKind]:
        """The kind of each of these products that is stored."""
        query = sa.select(products.c.id, products.c.kind).where(products.c.id.in_(list(product_ids)))
        return {product_id: ProductKind(kind) for product_id, kind in self._db.execute(query)}

    def get(self, product_id: str) -> Product | None:
        found = self.get_many([product_id])
        return found[0] if found else None

    def get_many(self, product_ids: Iterable[str]) -> list[Product]:
        ids = list(product_ids)
        rows = self._db.execute(sa.select(products).where(products.c.id.in_(ids)).order_by(products.c.id)).mappings()
        prices: dict[str, dict] = {}
        for price in self._db.execute(sa.select(product_prices).where(product_prices.c.product_id.in_(ids))).mappings():
            prices.setdefault(price["product_id"], {})[price["currency"]] = price["amount"]
        return [
            Product(
                id=row["id"],
                name=row["name"],
                kind=ProductKind(row["kind"]),
                description=row["description"],
                data_mb=row["data_mb"],
                validity_days=row["validity_days"],
                footprint=tuple(row["footprint"]),
                prices=prices.get(row["id"], {}),
            )
            for row in rows
        ]

    def kinds_and_validity(self, product_ids: Iterable[str]) -> dict[str, tuple[ProductKind, int | None]]:
        """Each stored product's kind and validity, in one read: what a partner's credentials carry."""
        ids = list(product_ids)
        rows = FastSql(self._db).all(
            f"SELECT id, kind, validity_days FROM products WHERE id IN ({', '.join('?' * len(ids))})", ids
        )
        return {str(product_id): (ProductKind(kind), validity) for product_id, kind, validity in rows}

    def validity_days(self, product_ids: Iterable[str]) -> dict[str, int | None]:
        """Each product's validity: all that fulfilment needs of the catalog."""
        return {product: validity for product, (_, validity) in self.kinds_and_validity(product_ids).items()}


_PROFILE_COLUMNS = "iccid, matching_id, smdp_address, state, order_id, customer_id, luhn_ok"
# Parameter: the available state. A profile the ledger gave to an order is never drawn again.
_DRAWABLE = "state = ? AND NOT EXISTS (SELECT 1 FROM esim_assignments a WHERE a.iccid = esim_profiles.iccid)"


class ProfileRepository:
    def __init__(self, connection: sa.Connection) -> None:
        self._db = connection
        self._sql = FastSql(connection)

    def add_many(self, rows: list[dict], now: datetime) -> None:
        self._db.execute(
            esim_profiles.insert(),
            [{**row, "state": ProfileState.AVAILABLE.value, "created_at": now, "updated_at": now} for row in rows],
        )

    def add_released(self, row: dict, customer_id: str, now: datetime) -> bool:
        """A profile handed to a customer before this inventory kept it (no order of orderhub's made
        it); False when its ICCID or matching ID is stored already."""
        return bool(
            self._sql.execute_now(
                "INSERT INTO esim_profiles (iccid, matching_id, smdp_address, state, order_id, customer_id, luhn_ok,"
                " batch, created_at, updated_at) VALUES (?, ?, ?, ?, NULL, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
                (
                    row["iccid"],
                    row["matching_id"],
                    row["smdp_address"],
                    ProfileState.RELEASED.value,
                    customer_id,
                    row["luhn_ok"],
                    row.get("batch"),
                    self._sql.time(now),
                    self._sql.time(now),
                ),
            )
        )

    def existing(self, iccids: Iterable[str], matching_ids: Iterable[str]) -> tuple[set[str], set[str]]:
        iccid_list, matching_list = list(iccids), list(matching_ids)
        known_iccids = set(
            self._db.execute(sa.select(esim_profiles.c.iccid).where(esim_profiles.c.iccid.in_(iccid_list))).scalars()
        )
        known_matching = set(
            self._db.execute(
                sa.select(esim_profiles.c.matching_id).where(esim_profiles.c.matching_id.in_(matching_list))
            ).scalars()
        )
        return known_iccids, known_matching

    def refresh_statistics(self) -> None:
        # SQLite picks the unique indexes for these look-ups without statistics; PostgreSQL's planner
        # goes by them (and autovacuum may be late, or off).
        if not self._sql.sqlite:
            self._sql.execute("ANALYZE esim_profiles")

    def get(self, iccid: str) -> StoredProfile | None:
        return self._one(f"SELECT {_PROFILE_COLUMNS} FROM esim_profiles WHERE iccid = ?", (iccid,))

    def assigned_to(self, order_id: str) -> StoredProfile | None:
        return self._one(f"SELECT {_PROFILE_COLUMNS} FROM esim_profiles WHERE order_id = ?", (order_id,))

    def lock(self, iccid: str) -> None:
        self._sql.lock_row("esim_profiles", "iccid", iccid)

    def claim_available(self, order_id: str, customer_id: str | None, now: datetime) -> StoredProfile | None:
        """Hand the oldest available profile to ``order_id``; None when the inventory is empty.

        One statement picks and takes the profile; its state guard makes a concurrent claim of the same
        row change nothing, and the insert-only assignment ledger refuses a second owner whatever runs.
        Contention when other transactions hold every profile left: theirs to commit or undo.
        """
        sql = self._sql
        at, available = sql.time(now), ProfileState.AVAILABLE.value
        for _ in range(20):
            row = sql.one(
                "UPDATE esim_profiles SET state = ?, order_id = ?, customer_id = ?, updated_at = ?"
                f" WHERE iccid = (SELECT iccid FROM esim_profiles WHERE {_DRAWABLE}"
                " ORDER BY created_at, iccid LIMIT 1"
                # Workers of other processes skip the profile one of them is taking, instead of queueing on it.
                f"{'' if sql.sqlite else ' FOR UPDATE SKIP LOCKED'})"
                f" AND state = ? RETURNING {_PROFILE_COLUMNS}",
                (ProfileState.RELEASED.value, order_id, customer_id, at, available, available),
            )
            if row is not None:
                profile = _profile_of(row)
                sql.execute(
                    "INSERT INTO esim_assignments (iccid, order_id, assigned_at) VALUES (?, ?, ?)",
                    (profile.iccid, order_id, at),
                )
                return profile
            # Locks or not: none left, or ones the claim skipped as held, or one made available since.
            if sql.one(f"SELECT 1 FROM esim_profiles WHERE {_DRAWABLE} LIMIT 1", (available,)) is None:
                return None
        raise Contention("every eSIM profile left is being taken by another transaction")

    def _one(self, sql: str, params: tuple[object, ...]) -> StoredProfile | None:
        row = self._sql.one(sql, params)
        return _profile_of(row) if row is not None else None

    def set_state(self, iccid: str, state: ProfileState, now: datetime) -> None:
        self._db.execute(
            esim_profiles.update().where(esim_profiles.c.iccid == iccid).values(state=state.value, updated_at=now)
        )

    def count_by_state(self) -> dict[str, int]:
        rows = self._db.execute(sa.select(esim_profiles.c.state, sa.func.count()).group_by(esim_profiles.c.state)).all()
        return {state: count for state, count in rows}

    def count_available(self, *, at_most: int | None = None) -> int:
        """Available profiles; with ``at_most``, counting stops there (cheap on a large inventory)."""
        available = sa.select(esim_profiles.c.iccid).where(esim_profiles.c.state == ProfileState.AVAILABLE.value)
        if at_most is not None:
            available = available.limit(at_most)
        return int(self._db.execute(sa.select(sa.func.count()).select_from(available.subquery())).scalar_one())


class SubscriptionRepository:
    def __init__(self, connection: sa.Connection) -> None:
        self._db = connection
        self._sql = FastSql(connection)

    def add(self, subscription: Subscription, item_seq: int, now: datetime) -> None:
        sql = self._sql
        sql.execute(
            "INSERT INTO subscriptions (id, iccid, order_id, item_seq, product_id, starts_at, ends_at, created_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (
                subscription.id,
                subscription.iccid,
                subscription.order_id,
                item_seq,
                subscription.product_id,
                sql.time(subscription.starts_at),
                sql.time(subscription.ends_at),
                sql.time(now),
            ),
        )

    def of_order(self, order_id: str) -> list[Subscription]:
        rows = self._sql.all(
            "SELECT id, iccid, order_id, product_id, starts_at, ends_at FROM subscriptions"
            " WHERE order_id = ? ORDER BY item_seq",
            (order_id,),
        )
        return [
            Subscription(
                id=row[0],
                iccid=row[1],
                order_id=row[2],
                product_id=row[3],
                starts_at=read_time(row[4]),  # type: ignore[arg-type]
                ends_at=read_time(row[5]),
            )
            for row in rows
        ]

    def of_iccid(self, iccid: str) -> list[Subscription]:
        query = sa.select(subscriptions).where(subscriptions.c.iccid == iccid).order_by(subscriptions.c.created_at)
        return [_subscription(row) for row in self._db.execute(query).mappings()]

    def count_unexpired(self, iccid: str, now: datetime) -> int:
        query = sa.select(sa.func.count()).where(
            subscriptions.c.iccid == iccid,
            sa.or_(subscriptions.c.ends_at.is_(None), subscriptions.c.ends_at > now),
        )
        return int(self._db.execute(query).scalar_one())


def _profile_of(row: tuple[object, ...]) -> StoredProfile:
    iccid, matching_id, smdp_address, state, order_id, customer_id, luhn_ok = row
    return StoredProfile(
        iccid=str(iccid),
        matching_id=str(matching_id),
        smdp_address=str(smdp_address),
        state=ProfileState(str(state)),
        order_id=order_id,  # type: ignore[arg-type]
        customer_id=customer_id,  # type: ignore[arg-type]
        luhn_ok=bool(luhn_ok),
    )


def _subscription(row: sa.RowMapping) -> Subscription:
    return Subscription(
        id=row["id"],
        iccid=row["iccid"],
        order_id=row["order_id"],
        product_id=row["product_id"],
        starts_at=row["starts_at"],
        ends_at=row["ends_at"],
    )
