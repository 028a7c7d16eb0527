"""Partners, their credentials and tokens, their customers and their idempotency keys."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from orderhub.domain.customers import Customer
from orderhub.domain.partners import Partner, Role
from orderhub.services.ports import DuplicateKey
from orderhub.store.tables import (
    config_version,
    credentials,
    customers,
    idempotency_keys,
    partner_products,
    partners,
    tokens,
)


@dataclass(frozen=True)
class StoredCredential:
    client_id: str
    partner_id: str
    secret_hash: str
    created_at: datetime
    revoked_at: datetime | None


@dataclass(frozen=True)
class StoredToken:
    client_id: str
    kind: str
    expires_at: datetime


@dataclass(frozen=True)
class StoredIdempotencyKey:
    request_hash: str
    order_id: str


def bump_config_version(db: sa.Connection) -> None:
    """Tells every process that caches partners, credentials or the catalog to read them again."""
    db.execute(config_version.update().where(config_version.c.id == 1).values(version=config_version.c.version + 1))


class PartnerRepository:
    def __init__(self, connection: sa.Connection) -> None:
        self._db = connection

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
            )
        )
        self.set_products(partner.id, partner.product_ids)

    def config_version(self) -> int:
        return int(self._db.execute(sa.select(config_version.c.version).where(config_version.c.id == 1)).scalar_one())

    def bump_config_version(self) -> None:
        bump_config_version(self._db)

    def set_products(self, partner_id: str, product_ids: Iterable[str]) -> None:
        self._db.execute(partner_products.delete().where(partner_products.c.partner_id == partner_id))
        rows = [{"partner_id": partner_id, "product_id": product_id} for product_id in sorted(set(product_ids))]
        if rows:
            self._db.execute(partner_products.insert(), rows)
        self.bump_config_version()

    def get(self, partner_id: str) -> Partner | None:
        row = self._db.execute(sa.select(partners).where(partners.c.id == partner_id)).mappings().first()
        if row is None:
            return None
        product_ids = self._db.execute(
            sa.select(partner_products.c.product_id).where(partner_products.c.partner_id == partner_id)
        ).scalars()
        return Partner(
            id=row["id"],
            name=row["name"],
            roles=frozenset(Role(role) for role in row["roles"]),
            currencies=frozenset(row["currencies"]),
            product_ids=frozenset(product_ids),
            manager_id=row["manager_id"],
            callback_url=row["callback_url"],
        )

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

    def credentials_of(self, partner_id: str) -> list[StoredCredential]:
        rows = self._db.execute(
            sa.select(credentials).where(credentials.c.partner_id == partner_id).order_by(credentials.c.created_at)
        ).mappings()
        return [StoredCredential(**row) for row in rows]

    def revoke_credential(self, client_id: str, now: datetime) -> bool:
        result = self._db.execute(
            credentials.update()
            .where(credentials.c.client_id == client_id, credentials.c.revoked_at.is_(None))
            .values(revoked_at=now)
        )
        self._db.execute(tokens.delete().where(tokens.c.client_id == client_id))
        self.bump_config_version()
        return result.rowcount == 1

    def add_token(self, token_hash: str, client_id: str, kind: str, expires_at: datetime) -> None:
        self._db.execute(
            tokens.insert().values(token_hash=token_hash, client_id=client_id, kind=kind, expires_at=expires_at)
        )

    def get_token(self, token_hash: str) -> StoredToken | None:
        row = (
            self._db.execute(
                sa.select(tokens.c.client_id, tokens.c.kind, tokens.c.expires_at).where(
                    tokens.c.token_hash == token_hash
                )
            )
            .mappings()
            .first()
        )
        return StoredToken(**row) if row else None

    def delete_token(self, token_hash: str) -> None:
        self._db.execute(tokens.delete().where(tokens.c.token_hash == token_hash))

    def purge_expired_tokens(self, now: datetime) -> None:
        self._db.execute(tokens.delete().where(tokens.c.expires_at < now))

    # -- customers -------------------------------------------------------------------------------

    def find_customer(self, partner_ids: Iterable[str], email: str) -> Customer | None:
        row = (
            self._db.execute(
                sa.select(customers)
                .where(customers.c.partner_id.in_(list(partner_ids)), customers.c.email == email)
                .order_by(customers.c.created_at)
            )
            .mappings()
            .first()
        )
        return Customer(**row) if row else None

    def add_customer(self, customer: Customer) -> None:
        self._db.execute(
            customers.insert().values(
                id=customer.id,
                partner_id=customer.partner_id,
                email=customer.email,
                country_of_residence=customer.country_of_residence,
                created_at=customer.created_at,
            )
        )

    # -- idempotency -----------------------------------------------------------------------------

    def get_idempotency_key(self, partner_id: str, key: str) -> StoredIdempotencyKey | None:
        row = (
            self._db.execute(
                sa.select(idempotency_keys.c.request_hash, idempotency_keys.c.order_id).where(
                    idempotency_keys.c.partner_id == partner_id, idempotency_keys.c.key == key
                )
            )
            .mappings()
            .first()
        )
        return StoredIdempotencyKey(**row) if row else None

    def add_idempotency_key(self, partner_id: str, key: str, request_hash: str, order_id: str, now: datetime) -> None:
        try:
            self._db.execute(
                idempotency_keys.insert().values(
                    partner_id=partner_id, key=key, request_hash=request_hash, order_id=order_id, created_at=now
                )
            )
        except sa.exc.IntegrityError as exc:
            # Another transaction committed the same key first (a race only PostgreSQL lets through).
            raise DuplicateKey(f"idempotency key {key!r} of {partner_id}") from exc
