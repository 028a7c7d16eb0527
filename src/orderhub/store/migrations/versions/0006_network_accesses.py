"""ON-API: communication operators (coId, language, rate limit), network offerings, accesses and
the services on them

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-24

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | Sequence[str] | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("partners", sa.Column("co_id", sa.String(length=64), nullable=True))
    op.add_column("partners", sa.Column("language", sa.String(length=8), server_default="en", nullable=False))
    op.add_column("partners", sa.Column("rate_limit_per_minute", sa.Integer(), nullable=True))
    op.create_index("uq_partners_co_id", "partners", ["co_id"], unique=True)
    op.create_table(
        "network_offerings",
        sa.Column("product_id", sa.String(length=64), nullable=False),
        sa.Column("offering_id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(["product_id"], ["products.id"], name=op.f("fk_network_offerings_product_id_products")),
        sa.PrimaryKeyConstraint("product_id", "offering_id", name=op.f("pk_network_offerings")),
    )
    op.create_table(
        "partner_network_offerings",
        sa.Column("partner_id", sa.String(length=64), nullable=False),
        sa.Column("product_id", sa.String(length=64), nullable=False),
        sa.Column("offering_id", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["partner_id"],
            ["partners.id"],
            name=op.f("fk_partner_network_offerings_partner_id_partners"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["product_id", "offering_id"],
            ["network_offerings.product_id", "network_offerings.offering_id"],
            name="fk_partner_network_offerings_offering",
        ),
        sa.PrimaryKeyConstraint("partner_id", "product_id", "offering_id", name=op.f("pk_partner_network_offerings")),
    )
    op.create_table(
        "accesses",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("ref", sa.String(length=64), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_accesses")),
        sa.UniqueConstraint("ref", name=op.f("uq_accesses_ref")),
    )
    op.create_table(
        "access_services",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("access_id", sa.String(length=36), nullable=False),
        sa.Column("order_id", sa.String(length=36), nullable=True),
        sa.Column("item_seq", sa.Integer(), nullable=True),
        sa.Column("product_id", sa.String(length=64), nullable=False),
        sa.Column("offering_id", sa.String(length=64), nullable=False),
        sa.Column("started_at", sa.DateTime(), nullable=False),
        sa.Column("ended_at", sa.DateTime(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["access_id"], ["accesses.id"], name=op.f("fk_access_services_access_id_accesses")),
        sa.ForeignKeyConstraint(["order_id"], ["orders.id"], name=op.f("fk_access_services_order_id_orders")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_access_services")),
        sa.UniqueConstraint("order_id", "item_seq", name="uq_access_services_order_item"),
    )
    op.create_index("ix_access_services_access_id", "access_services", ["access_id"])


def downgrade() -> None:
    op.drop_index("ix_access_services_access_id", table_name="access_services")
    for table in ("access_services", "accesses", "partner_network_offerings", "network_offerings"):
        op.drop_table(table)
    op.drop_index("uq_partners_co_id", table_name="partners")
    for column in ("rate_limit_per_minute", "language", "co_id"):
        op.execute(f"ALTER TABLE partners DROP COLUMN {column}")
