"""Partners, their credentials and tokens, their customers and their idempotency keys."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime

import sqlalchemy as sa

from orderhub.domain.customers import Customer, Identity, email_key
from orderhub.domain.partners import Partner, Role
from orderhub.services.ports import DuplicateKey
from orderhub.services.records import StoredCredential, StoredIdempotencyKey, StoredToken
from orderhub.store.fastsql import FastSql, read_time
from orderhub.store.tables.line_tables import partner_business_units
from orderhub.store.tables.partner_tables import config_version, credentials, partner_products, partners, tokens


def bump_config_version(db: sa.Connection) -> None:
    """Tells every process that caches partners, credentials or the catalog to read them again."""
    db.execute(config_version.update().where(config_version.c.id == 1).values(version=config_version.c.version + 1))


class PartnerRepository:
    def __init__(self, connection: sa.Connection) -> None:
        self._db = connection
        self._sql = FastSql(connection)

    def add(self, partner: Partner, now: datetime) -> None:
        self._db.execute(
            partners.insert().values(
                id=partner.id,
                name=partner.name,
                roles=sorted(partner.roles),
                currencies=sorted(partner.currencies),
                manager_id=partner.manager_id,
                callback_url=partner.callback_url,
                created_at=now,
                co_id=partner.co_id,
                language=partner.language,
                rate_limit_per_minute=partner.rate_limit_per_minute,
            )
        )
        self.set_products(partner.id, partner.product_ids)
        self.set_business_units(partner.id, partner.business_unit_ids)

    def config_version(self) -> int:
        row = self._sql.one("SELECT version FROM config_version WHERE id = 1")
        assert row is not None, "migration 0002 creates the row"
        return int(row[0])

    def config_version_later(self) -> Callable[[], int]:
        answer = self._sql.one_later("SELECT version FROM config_version WHERE id = 1")
        return lambda: int(answer()[0])  # type: ignore[index]

    def bump_config_version(self) -> None:
        bump_config_version(self._db)

    def set_products(self, partner_id: str, product_ids: Iterable[str]) -> None:
        self._db.execute(partner_products.delete().where(partner_products.c.partner_id == partner_id))
        rows = [{"partner_id": partner_id, "product_id": product_id} for product_id in sorted(set(product_ids))]
        if rows:
            self._db.execute(partner_products.insert(), rows)
        self.bump_config_version()

    def set_business_units(self, partner_id: str, business_unit_ids: Iterable[str]) -> None:
        self._db.execute(partner_business_units.delete().where(partner_business_units.c.partner_id == partner_id))
        rows = [{"partner_id": partner_id, "business_unit_id": unit} for unit in sorted(set(business_unit_ids))]
        if rows:
            self._db.execute(partner_business_units.insert(), rows)
        self.bump_config_version()

    def update(self, partner: Partner) -> None:
        """What ``partner update`` and ``set-roles`` change: name, currencies, language, coId, manager, roles."""
        try:
            self._db.execute(
                partners.update()
                .where(partners.c.id == partner.id)
                .values(
                    name=partner.name,
                    roles=sorted(partner.roles),
                    currencies=sorted(partner.currencies),
                    language=partner.language,
                    co_id=partner.co_id,
                    manager_id=partner.manager_id,
                )
            )
        except sa.exc.IntegrityError as exc:
            # The coId's unique index: another transaction gave it to another partner since it was looked up.
            raise DuplicateKey(f"co id {partner.co_id}") from exc
        self.bump_config_version()

    def co_id_taken(self, co_id: str, *, other_than: str | None = None) -> bool:
        return (
            self._sql.one("SELECT 1 FROM partners WHERE co_id = ? AND id <> ?", (co_id, other_than or "")) is not None
        )

    def set_rate_limit(self, partner_id: str, per_minute: int | None) -> None:
        self._db.execute(partners.update().where(partners.c.id == partner_id).values(rate_limit_per_minute=per_minute))
        self.bump_config_version()

    def get(self, partner_id: str) -> Partner | None:
        row = self._db.execute(sa.select(partners).where(partners.c.id == partner_id)).mappings().first()
        if row is None:
            return None
        product_ids = self._db.execute(
            sa.select(partner_products.c.product_id).where(partner_products.c.partner_id == partner_id)
        ).scalars()
        business_unit_ids = self._db.execute(
            sa.select(partner_business_units.c.business_unit_id).where(
                partner_business_units.c.partner_id == partner_id
            )
        ).scalars()
        return Partner(
            id=row["id"],
            name=row["name"],
            roles=frozenset(Role(role) for role in row["roles"]),
            currencies=frozenset(row["currencies"]),
            product_ids=frozenset(product_ids),
            manager_id=row["manager_id"],
            callback_url=row["callback_url"],
            business_unit_ids=frozenset(business_unit_ids),
            co_id=row["co_id"],
            language=row["language"],
            rate_limit_per_minute=row["rate_limit_per_minute"],
        )

    def business_units_of(self, partner_id: str) -> frozenset[str]:
        rows = self._sql.all("SELECT business_unit_id FROM partner_business_units WHERE partner_id = ?", (partner_id,))
        return frozenset(row[0] for row in rows)

    def list_ids(self) -> list[str]:
        return list(self._db.execute(sa.select(partners.c.id).order_by(partners.c.id)).scalars())

    def managed_by(self, manager_id: str) -> list[str]:
        return list(self._db.execute(sa.select(partners.c.id).where(partners.c.manager_id == manager_id)).scalars())

    # -- credentials and tokens ------------------------------------------------------------------

    def add_credential(self, client_id: str, partner_id: str, secret_hash: str, now: datetime) -> None:
        self._db.execute(
            credentials.insert().values(
                client_id=client_id, partner_id=partner_id, secret_hash=secret_hash, created_at=now
            )
        )

    def get_credential(self, client_id: str) -> StoredCredential | None:
        row = self._db.execute(sa.select(credentials).where(credentials.c.client_id == client_id)).mappings().first()
        return StoredCredential(**row) if row else None

    def has_credential(self, client_id: str) -> bool:  # its id alone: tests load the demo on older schemas
        query = sa.select(credentials.c.client_id).where(credentials.c.client_id == client_id)
        return self._db.execute(query).first() is not None

    def credentials_of(self, partner_id: str) -> list[StoredCredential]:
        query = sa.select(credentials).where(credentials.c.partner_id == partner_id).order_by(credentials.c.created_at)
        return [StoredCredential(**row) for row in self._db.execute(query).mappings()]

    def revoke_credential(self, client_id: str, now: datetime) -> bool:
        result = self._db.execute(
            credentials.update()
            .where(credentials.c.client_id == client_id, credentials.c.revoked_at.is_(None))
            .values(revoked_at=now)
        )
        self._db.execute(tokens.delete().where(tokens.c.client_id == client_id))
        self.bump_config_version()
        return result.rowcount == 1

    def add_token(
        self, token_hash: str, client_id: str, kind: str, expires_at: datetime, family: str | None = None
    ) -> None:
        self._db.execute(
            tokens.insert().values(
                token_hash=token_hash, client_id=client_id, kind=kind, expires_at=expires_at, family=family
            )
        )

    def use_refresh_token(self, token_hash: str, now: datetime) -> bool:
        """Mark it used; True for the one transaction that did (of two racing, one gets False)."""
        changed = self._db.execute(
            tokens.update().where(tokens.c.token_hash == token_hash, tokens.c.used_at.is_(None)).values(used_at=now)
        )
        return bool(changed.rowcount == 1)

    def revoke_family(self, family: str) -> None:
        self._db.execute(tokens.delete().where(tokens.c.family == family))
        self.bump_config_version()  # processes drop the family's cached access tokens at once

    def get_token(self, token_hash: str) -> StoredToken | None:
        row = (
            self._db.execute(
                sa.select(
                    tokens.c.client_id, tokens.c.kind, tokens.c.expires_at, tokens.c.family, tokens.c.used_at
                ).where(tokens.c.token_hash == token_hash)
            )
            .mappings()
            .first()
        )
        return StoredToken(**row) if row else None

    def delete_token(self, token_hash: str) -> bool:
        """True when this transaction removed it (of two racing to use it, one gets False)."""
        return bool(self._db.execute(tokens.delete().where(tokens.c.token_hash == token_hash)).rowcount == 1)

    def purge_expired_tokens(self, now: datetime) -> None:
        self._db.execute(tokens.delete().where(tokens.c.expires_at < now))

    # -- customers -------------------------------------------------------------------------------

    def get_customer(self, customer_id: str, *, for_order: bool = False) -> Customer | None:
        return self._customer("id = ?", [], (customer_id,), any_partner=True, for_order=for_order)

    def find_customer(self, partner_ids: Iterable[str], email: str, *, for_order: bool = False) -> Customer | None:
        """The customer of that e-mail, whatever its case: e-mails are stored as their key."""
        return self._customer("email = ?", partner_ids, (email_key(email),), for_order=for_order)

    def find_customer_by_identity(
        self, partner_ids: Iterable[str], identity: Identity, *, for_order: bool = False
    ) -> Customer | None:
        where = "identity_type = ? AND identity_value = ?"
        return self._customer(where, partner_ids, (identity.kind, identity.number), for_order=for_order)

    def _customer(
        self, where: str, ids: Iterable[str], params: tuple[str, ...], *, any_partner: bool = False, for_order: bool
    ) -> Customer | None:
        ids = list(ids)
        if not ids and not any_partner:
            return None
        scope = "" if any_partner else f"partner_id IN ({', '.join('?' * len(ids))}) AND "
        lock = " FOR KEY SHARE" if for_order and not self._sql.sqlite else ""  # ports.PartnerRepository
        row = self._sql.one(
            "SELECT id, partner_id, email, country_of_residence, created_at, name, identity_type, identity_value,"
            f" erased_at FROM customers WHERE {scope}{where} ORDER BY created_at LIMIT 1{lock}",
            (*ids, *params),
        )
        if row is None:
            return None
        customer_id, partner_id, email, country, created_at, name, identity_type, identity_value, erased_at = row
        created = read_time(created_at)
        assert created is not None
        identity = Identity(identity_type, identity_value) if identity_type and identity_value else None
        return Customer(customer_id, partner_id, email, created, country, name, identity, read_time(erased_at))

    def add_customer(self, customer: Customer) -> str:
        """Stores the customer (its e-mail as its key, domain.customers.email_key), or finds the one
        another transaction stored first under the same key (same e-mail whatever its case, or same
        identification, of the partner): the id of the one that stands."""
        added = self._sql.execute_now(
            "INSERT INTO customers (id, partner_id, email, country_of_residence, created_at, name, identity_type,"
            " identity_value) VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
            (
                customer.id,
                customer.partner_id,
                email_key(customer.email) if customer.email is not None else None,
                customer.country_of_residence,
                self._sql.time(customer.created_at),
                customer.name,
                customer.identity.kind if customer.identity else None,
                customer.identity.number if customer.identity else None,
            ),
        )
        if added:
            return customer.id
        existing = (
            self.find_customer_by_identity([customer.partner_id], customer.identity)
            if customer.identity is not None
            else self.find_customer([customer.partner_id], customer.email or "")
        )
        assert existing is not None, "a conflicting customer exists"
        return existing.id

    # -- idempotency -----------------------------------------------------------------------------

    def idempotency_key_later(self, partner_id: str, key: str) -> Callable[[], StoredIdempotencyKey | None]:
        answer = self._sql.one_later(
            "SELECT request_hash, order_id, refusal FROM idempotency_keys WHERE partner_id = ? AND key = ?",
            (partner_id, key),
        )

        def stored() -> StoredIdempotencyKey | None:
            row = answer()
            return StoredIdempotencyKey(*row) if row else None

        return stored

    def add_idempotency_key(
        self, partner_id: str, key: str, fingerprint: str, order_id: str | None, now: datetime, refusal: str | None
    ) -> None:
        try:
            # Waited for: a key committed meanwhile by another transaction must be raised here, as DuplicateKey.
            self._sql.execute_now(
                "INSERT INTO idempotency_keys (partner_id, key, request_hash, order_id, created_at, refusal)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                (partner_id, key, fingerprint, order_id, self._sql.time(now), refusal),
            )
        except self._db.dialect.dbapi.IntegrityError as exc:  # type: ignore[union-attr]
            # Another transaction committed the same key first (a race only PostgreSQL lets through).
            raise DuplicateKey(f"idempotency key {key!r} of {partner_id}") from exc
