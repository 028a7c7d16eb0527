"""Business units, what they sell, their lines and the products on those lines."""

from __future__ import annotations

import sqlalchemy as sa

from orderhub.store.tables.base import metadata
from orderhub.store.types import UtcDateTime

business_units = sa.Table(
    "business_units",
    metadata,
    sa.Column("id", sa.String(16), primary_key=True),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("timezone", sa.String(64), nullable=False),
    sa.Column("msisdn_pattern", sa.String(200), nullable=False),
    sa.Column("msisdn_hint", sa.String(200), nullable=False),
    sa.Column("created_at", UtcDateTime, nullable=False),
)

partner_business_units = sa.Table(
    "partner_business_units",
    metadata,
    sa.Column("partner_id", sa.String(64), sa.ForeignKey("partners.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("business_unit_id", sa.String(16), sa.ForeignKey("business_units.id"), primary_key=True),
)

# What each business unit sells, and as what: one offering may be sold as a Plan, a DataPlan and an Addon.
business_unit_offerings = sa.Table(
    "business_unit_offerings",
    metadata,
    sa.Column("business_unit_id", sa.String(16), sa.ForeignKey("business_units.id"), primary_key=True),
    sa.Column("product_id", sa.String(64), sa.ForeignKey("products.id"), primary_key=True),
    sa.Column("plan_type", sa.String(16), primary_key=True),
    sa.Column("validity_days", sa.Integer, nullable=True),
)

lines = sa.Table(
    "lines",
    metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("business_unit_id", sa.String(16), sa.ForeignKey("business_units.id"), nullable=False),
    sa.Column("msisdn", sa.String(20), nullable=False),
    sa.Column("created_at", UtcDateTime, nullable=False),
    sa.UniqueConstraint("business_unit_id", "msisdn", name="uq_lines_business_unit_msisdn"),
)

line_products = sa.Table(
    "line_products",
    metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("line_id", sa.String(36), sa.ForeignKey("lines.id"), nullable=False),
    sa.Column("order_id", sa.String(36), sa.ForeignKey("orders.id"), nullable=True),
    sa.Column("item_seq", sa.Integer, nullable=True),
    sa.Column("product_id", sa.String(64), sa.ForeignKey("products.id"), nullable=False),
    sa.Column("plan_type", sa.String(16), nullable=False),
    sa.Column("starts_at", UtcDateTime, nullable=False),
    sa.Column("ends_at", UtcDateTime, nullable=True),
    sa.Column("created_at", UtcDateTime, nullable=False),
    # One product per order item, so re-running a fulfilment cannot start a second one.
    sa.UniqueConstraint("order_id", "item_seq", name="uq_line_products_order_item"),
    # A line's current plan is found among its plans alone, newest first, however many add-ons and
    # data plans it gathered (each order on a line looks it up).
    sa.Index("ix_line_products_line_plans", "line_id", "plan_type", "starts_at"),
)
