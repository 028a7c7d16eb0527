"""Partners, their catalog, credentials, tokens, failed sign-ins, rate limit buckets, customers and
idempotency keys; the config version."""

from __future__ import annotations

import sqlalchemy as sa

from orderhub.store.tables.base import metadata
from orderhub.store.types import DecimalText, UtcDateTime

partners = sa.Table(
    "partners",
    metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("roles", sa.JSON, nullable=False),
    sa.Column("currencies", sa.JSON, nullable=False),
    sa.Column("manager_id", sa.String(64), sa.ForeignKey("partners.id"), nullable=True),
    sa.Column("callback_url", sa.String(500), nullable=True),
    sa.Column("created_at", UtcDateTime, nullable=False),
    # A communication operator's ON-API id (coId), the language its customers read, and how many
    # requests a minute it may send (no limit when empty).
    sa.Column("co_id", sa.String(64), nullable=True),
    sa.Column("language", sa.String(8), nullable=False, server_default="en"),
    sa.Column("rate_limit_per_minute", sa.Integer, nullable=True),
    sa.Index("uq_partners_co_id", "co_id", unique=True),
)

products = sa.Table(
    "products",
    metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("kind", sa.String(32), nullable=False),
    sa.Column("description", sa.Text, nullable=False, server_default=""),
    sa.Column("data_mb", sa.Integer, nullable=True),
    sa.Column("validity_days", sa.Integer, nullable=True),
    sa.Column("footprint", sa.JSON, nullable=False),
    sa.Column("updated_at", UtcDateTime, nullable=False),
)

product_prices = sa.Table(
    "product_prices",
    metadata,
    sa.Column("product_id", sa.String(64), sa.ForeignKey("products.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("currency", sa.String(3), primary_key=True),
    sa.Column("amount", DecimalText, nullable=False),
)

partner_products = sa.Table(
    "partner_products",
    metadata,
    sa.Column("partner_id", sa.String(64), sa.ForeignKey("partners.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("product_id", sa.String(64), sa.ForeignKey("products.id", ondelete="CASCADE"), primary_key=True),
)

credentials = sa.Table(
    "credentials",
    metadata,
    sa.Column("client_id", sa.String(64), primary_key=True),
    sa.Column("partner_id", sa.String(64), sa.ForeignKey("partners.id"), nullable=False, index=True),
    sa.Column("secret_hash", sa.String(200), nullable=False),
    sa.Column("created_at", UtcDateTime, nullable=False),
    sa.Column("revoked_at", UtcDateTime, nullable=True),
    # When its secret was last checked right (services.sign_ins): `orderhub credential list`.
    sa.Column("last_signed_in_at", UtcDateTime, nullable=True),
)

tokens = sa.Table(
    "tokens",
    metadata,
    sa.Column("token_hash", sa.String(64), primary_key=True),
    sa.Column("client_id", sa.String(64), sa.ForeignKey("credentials.client_id"), nullable=False, index=True),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("expires_at", UtcDateTime, nullable=False),
    # Tokens issued from one sign-in and its refreshes: a replayed refresh token revokes them all.
    sa.Column("family", sa.String(64), nullable=True, index=True),
    # When a refresh token was used (kept until it expires, so that a replay is recognised).
    sa.Column("used_at", UtcDateTime, nullable=True),
)

# One row per failed sign-in and key (``client:<client id>``, ``source:<address>``, ``pair:`` both; a
# value that is long or unprintable as its digest, services.sign_ins), shared by every process: each reads the
# last minute's rows of a sign-in's keys with its credential, and deletes expired rows as it adds some.
sign_in_failures = sa.Table(
    "sign_in_failures",
    metadata,
    sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True, autoincrement=True),
    sa.Column("key", sa.String(80), nullable=False),
    sa.Column("failed_at", UtcDateTime, nullable=False),
    sa.Index("ix_sign_in_failures_key_failed_at", "key", "failed_at"),
    sa.Index("ix_sign_in_failures_failed_at", "failed_at"),
)

# The sources each client id signed in from with its right secret, one row a pair, keyed as the pair's
# failures are (``pair:``, a long or unprintable one as its digest), with its last such sign-in: read with
# a sign-in's failures (services.sign_ins, known sources); rows older than a known source's time are
# deleted as failures are recorded. A revoked credential's rows stay until then: its sign-ins fail anyway.
sign_in_sources = sa.Table(
    "sign_in_sources",
    metadata,
    sa.Column("key", sa.String(80), primary_key=True),
    sa.Column("signed_in_at", UtcDateTime, nullable=False),
    sa.Index("ix_sign_in_sources_signed_in_at", "signed_in_at"),
)

# onapi-order's rate limit: one token bucket per partner, shared by every API process on the database
# (services.rate_limits). ``used`` is the requests not yet refilled (the limit less the tokens left) as of
# ``updated_at``, in seconds since the epoch: the refill is computed from them in the statement that adds a
# process's requests, on either database. A row idle for minutes has refilled and is deleted.
rate_limit_buckets = sa.Table(
    "rate_limit_buckets",
    metadata,
    sa.Column("partner_id", sa.String(64), primary_key=True),
    sa.Column("used", sa.Double, nullable=False),
    sa.Column("per_minute", sa.Integer, nullable=False),
    sa.Column("updated_at", sa.Double, nullable=False),
)

customers = sa.Table(
    "customers",
    metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("partner_id", sa.String(64), sa.ForeignKey("partners.id"), nullable=False),
    # Each API's key for its customers: e-mail (esim-v1), identification (TMF, ON-API); one at least.
    sa.Column("email", sa.String(320), nullable=True),
    sa.Column("country_of_residence", sa.String(2), nullable=True),
    sa.Column("created_at", UtcDateTime, nullable=False),
    # ON-API's customerFirstname and customerLastName (255 characters each), a space between them.
    sa.Column("name", sa.String(511), nullable=True),
    sa.Column("identity_type", sa.String(64), nullable=True),
    sa.Column("identity_value", sa.String(64), nullable=True),
    # When the customer's personal data was erased on request (`orderhub customer erase`): e-mail, name,
    # identity and country are NULL since; the row stays for the orders that refer to it.
    sa.Column("erased_at", UtcDateTime, nullable=True),
    sa.UniqueConstraint("partner_id", "email", name="uq_customers_partner_email"),
    sa.Index("uq_customers_identity", "partner_id", "identity_type", "identity_value", unique=True),
)


idempotency_keys = sa.Table(
    "idempotency_keys",
    metadata,
    sa.Column("partner_id", sa.String(64), sa.ForeignKey("partners.id"), primary_key=True),
    sa.Column("key", sa.String(255), primary_key=True),
    sa.Column("request_hash", sa.String(64), nullable=False),
    # The order the key placed; none for a key whose request was refused (migration 0023).
    sa.Column("order_id", sa.String(36), sa.ForeignKey("orders.id"), nullable=True),
    sa.Column("created_at", UtcDateTime, nullable=False),
    # The reason code of the business refusal the key's request got (domain.errors.BusinessRefusal), kept
    # as the key's answer in place of an order (migration 0023).
    sa.Column("refusal", sa.String(64), nullable=True),
    # The keys that stand for a customer's orders, which their erasure reads (migration 0028).
    sa.Index(
        "ix_idempotency_keys_order_id",
        "order_id",
        sqlite_where=sa.text("order_id IS NOT NULL"),
        postgresql_where=sa.text("order_id IS NOT NULL"),
    ),
)

# One row whose version changes with every change to partners, credentials or the catalog, so that
# every process can cache those and still notice a change made by another process at once.
config_version = sa.Table(
    "config_version",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("version", sa.Integer, nullable=False),
)
