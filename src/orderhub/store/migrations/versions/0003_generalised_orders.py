"""generalised orders: subjects, numbered orders, item actions and attributes, typed results;
business units, their offerings, lines and line products

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-24

"""

import json
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _typed_result(legacy: dict[str, Any]) -> dict[str, Any]:
    """0002 stored esim-v1's wire keys as the order's output; the typed eSIM result replaces them."""
    ids = legacy.get("subscription_ids") or ([legacy["subscription_id"]] if legacy.get("subscription_id") else [])
    result = {"kind": "esim", "iccid": legacy["iccid"], "smdp_address": legacy["smdpUrl"], "subscription_ids": ids}
    if legacy.get("matchingId"):
        result["matching_id"] = legacy["matchingId"]
    return result


def upgrade() -> None:
    # Columns are added and dropped in place, never by copying the table: on SQLite a copy would drop
    # the old table, and with foreign keys on that cascades into the order items.
    op.add_column("orders", sa.Column("subject_kind", sa.String(length=16), nullable=True))
    op.add_column("orders", sa.Column("subject_ref", sa.String(length=64), nullable=True))
    op.add_column("orders", sa.Column("reference", sa.String(length=40), nullable=True))
    op.execute("UPDATE orders SET subject_kind = 'esim', subject_ref = target_iccid WHERE target_iccid IS NOT NULL")
    op.drop_index("ix_orders_target_iccid", table_name="orders")
    op.execute("ALTER TABLE orders DROP COLUMN target_iccid")
    op.create_index("ix_orders_subject", "orders", ["subject_ref", "subject_kind"])
    op.create_index("uq_orders_reference", "orders", ["reference"], unique=True)
    op.add_column("order_items", sa.Column("action", sa.String(length=16), server_default="add", nullable=False))
    op.add_column("order_items", sa.Column("attributes", sa.JSON(), nullable=True))

    connection = op.get_bind()
    rows = connection.execute(sa.text("SELECT id, output FROM orders WHERE output IS NOT NULL")).fetchall()
    for order_id, output in rows:
        legacy = json.loads(output) if isinstance(output, str) else output
        if legacy and "kind" not in legacy and "iccid" in legacy:
            connection.execute(
                sa.text("UPDATE orders SET output = :output WHERE id = :id"),
                {"output": json.dumps(_typed_result(legacy)), "id": order_id},
            )

    op.create_table(
        "order_numbers",
        sa.Column("second", sa.String(length=14), nullable=False),
        sa.Column("last", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("second", name=op.f("pk_order_numbers")),
    )
    op.create_table(
        "business_units",
        sa.Column("id", sa.String(length=16), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("timezone", sa.String(length=64), nullable=False),
        sa.Column("msisdn_pattern", sa.String(length=200), nullable=False),
        sa.Column("msisdn_hint", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_business_units")),
    )
    op.create_table(
        "partner_business_units",
        sa.Column("partner_id", sa.String(length=64), nullable=False),
        sa.Column("business_unit_id", sa.String(length=16), nullable=False),
        sa.ForeignKeyConstraint(
            ["business_unit_id"],
            ["business_units.id"],
            name=op.f("fk_partner_business_units_business_unit_id_business_units"),
        ),
        sa.ForeignKeyConstraint(
            ["partner_id"],
            ["partners.id"],
            name=op.f("fk_partner_business_units_partner_id_partners"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("partner_id", "business_unit_id", name=op.f("pk_partner_business_units")),
    )
    op.create_table(
        "business_unit_offerings",
        sa.Column("business_unit_id", sa.String(length=16), nullable=False),
        sa.Column("product_id", sa.String(length=64), nullable=False),
        sa.Column("plan_type", sa.String(length=16), nullable=False),
        sa.Column("validity_days", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["business_unit_id"],
            ["business_units.id"],
            name=op.f("fk_business_unit_offerings_business_unit_id_business_units"),
        ),
        sa.ForeignKeyConstraint(
            ["product_id"], ["products.id"], name=op.f("fk_business_unit_offerings_product_id_products")
        ),
        sa.PrimaryKeyConstraint("business_unit_id", "product_id", "plan_type", name=op.f("pk_business_unit_offerings")),
    )
    op.create_table(
        "lines",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("business_unit_id", sa.String(length=16), nullable=False),
        sa.Column("msisdn", sa.String(length=20), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["business_unit_id"], ["business_units.id"], name=op.f("fk_lines_business_unit_id_business_units")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lines")),
        sa.UniqueConstraint("business_unit_id", "msisdn", name="uq_lines_business_unit_msisdn"),
    )
    op.create_table(
        "line_products",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("line_id", sa.String(length=36), nullable=False),
        sa.Column("order_id", sa.String(length=36), nullable=True),
        sa.Column("item_seq", sa.Integer(), nullable=True),
        sa.Column("product_id", sa.String(length=64), nullable=False),
        sa.Column("plan_type", sa.String(length=16), nullable=False),
        sa.Column("starts_at", sa.DateTime(), nullable=False),
        sa.Column("ends_at", sa.DateTime(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["line_id"], ["lines.id"], name=op.f("fk_line_products_line_id_lines")),
        sa.ForeignKeyConstraint(["order_id"], ["orders.id"], name=op.f("fk_line_products_order_id_orders")),
        sa.ForeignKeyConstraint(["product_id"], ["products.id"], name=op.f("fk_line_products_product_id_products")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_line_products")),
        sa.UniqueConstraint("order_id", "item_seq", name="uq_line_products_order_item"),
    )
    op.create_index("ix_line_products_line_id", "line_products", ["line_id"])


def downgrade() -> None:
    op.drop_index("ix_line_products_line_id", table_name="line_products")
    for table in ("line_products", "lines", "business_unit_offerings", "partner_business_units", "business_units"):
        op.drop_table(table)
    op.drop_table("order_numbers")
    op.execute("ALTER TABLE order_items DROP COLUMN attributes")
    op.execute("ALTER TABLE order_items DROP COLUMN action")
    op.drop_index("uq_orders_reference", table_name="orders")
    op.drop_index("ix_orders_subject", table_name="orders")
    op.add_column("orders", sa.Column("target_iccid", sa.String(length=22), nullable=True))
    op.execute("UPDATE orders SET target_iccid = subject_ref WHERE subject_kind = 'esim'")
    op.create_index("ix_orders_target_iccid", "orders", ["target_iccid"])
    for column in ("reference", "subject_ref", "subject_kind"):
        op.execute(f"ALTER TABLE orders DROP COLUMN {column}")
