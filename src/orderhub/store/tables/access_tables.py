"""The network's offerings, which CO may order which, accesses and the services on them."""

from __future__ import annotations

import sqlalchemy as sa

from orderhub.store.tables.base import metadata
from orderhub.store.types import UtcDateTime

# The SP's products as ON-API orders them: each with offerings (e.g. speeds), and which CO may order which.
network_offerings = sa.Table(
    "network_offerings",
    metadata,
    sa.Column("product_id", sa.String(64), sa.ForeignKey("products.id"), primary_key=True),
    sa.Column("offering_id", sa.String(64), primary_key=True),
    sa.Column("name", sa.String(200), nullable=False),
)

partner_network_offerings = sa.Table(
    "partner_network_offerings",
    metadata,
    sa.Column("partner_id", sa.String(64), sa.ForeignKey("partners.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("product_id", sa.String(64), primary_key=True),
    sa.Column("offering_id", sa.String(64), primary_key=True),
    sa.ForeignKeyConstraint(
        ["product_id", "offering_id"],
        ["network_offerings.product_id", "network_offerings.offering_id"],
        name="fk_partner_network_offerings_offering",
    ),
)

accesses = sa.Table(
    "accesses",
    metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("ref", sa.String(64), nullable=False, unique=True),
    sa.Column("state", sa.String(16), nullable=False),
    sa.Column("created_at", UtcDateTime, nullable=False),
    sa.Column("updated_at", UtcDateTime, nullable=False),
)

access_services = sa.Table(
    "access_services",
    metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("access_id", sa.String(36), sa.ForeignKey("accesses.id"), nullable=False, index=True),
    sa.Column("order_id", sa.String(36), sa.ForeignKey("orders.id"), nullable=True),
    sa.Column("item_seq", sa.Integer, nullable=True),
    sa.Column("product_id", sa.String(64), nullable=False),
    sa.Column("offering_id", sa.String(64), nullable=False),
    sa.Column("started_at", UtcDateTime, nullable=False),
    sa.Column("ended_at", UtcDateTime, nullable=True),
    sa.Column("created_at", UtcDateTime, nullable=False),
    # One service per order item, so re-running an activation cannot start a second one.
    sa.UniqueConstraint("order_id", "item_seq", name="uq_access_services_order_item"),
)
