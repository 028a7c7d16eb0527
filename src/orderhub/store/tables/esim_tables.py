"""eSIM profiles, who received which, and the subscriptions on them."""

from __future__ import annotations

import sqlalchemy as sa

from orderhub.store.tables.base import metadata
from orderhub.store.types import UtcDateTime

esim_profiles = sa.Table(
    "esim_profiles",
    metadata,
    sa.Column("iccid", sa.String(22), primary_key=True),
    sa.Column("matching_id", sa.String(64), nullable=False, unique=True),
    sa.Column("smdp_address", sa.String(253), nullable=False),
    sa.Column("state", sa.String(16), nullable=False),
    sa.Column("order_id", sa.String(36), sa.ForeignKey("orders.id"), nullable=True, unique=True),
    sa.Column("customer_id", sa.String(36), sa.ForeignKey("customers.id"), nullable=True, index=True),
    sa.Column("luhn_ok", sa.Boolean, nullable=False),
    sa.Column("batch", sa.String(100), nullable=True),
    sa.Column("created_at", UtcDateTime, nullable=False),
    sa.Column("updated_at", UtcDateTime, nullable=False),
    sa.Index("ix_esim_profiles_allocation", "state", "created_at", "iccid"),
)

# Insert-only ledger of which order received which profile. Both keys are unique, so the database
# itself refuses a second owner for a profile (or a second profile for an order), whatever code runs.
esim_assignments = sa.Table(
    "esim_assignments",
    metadata,
    sa.Column("iccid", sa.String(22), sa.ForeignKey("esim_profiles.iccid"), primary_key=True),
    sa.Column("order_id", sa.String(36), sa.ForeignKey("orders.id"), nullable=False, unique=True),
    sa.Column("assigned_at", UtcDateTime, nullable=False),
)

subscriptions = sa.Table(
    "subscriptions",
    metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("iccid", sa.String(22), sa.ForeignKey("esim_profiles.iccid"), nullable=False, index=True),
    sa.Column("order_id", sa.String(36), sa.ForeignKey("orders.id"), nullable=False),
    sa.Column("item_seq", sa.Integer, nullable=False),
    sa.Column("product_id", sa.String(64), sa.ForeignKey("products.id"), nullable=False),
    sa.Column("starts_at", UtcDateTime, nullable=False),
    sa.Column("ends_at", UtcDateTime, nullable=True),
    sa.Column("created_at", UtcDateTime, nullable=False),
    # One subscription per order item, so re-running a fulfilment cannot create a second one.
    sa.UniqueConstraint("order_id", "item_seq", name="uq_subscriptions_order_item"),
)
