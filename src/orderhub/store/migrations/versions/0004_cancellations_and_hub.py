"""TMF622 standard API: deleted orders, cancellation requests, event listeners

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-24

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("orders", sa.Column("deleted_at", sa.DateTime(), nullable=True))
    op.create_table(
        "cancellations",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("partner_id", sa.String(length=64), nullable=False),
        sa.Column("order_id", sa.String(length=36), nullable=False),
        sa.Column("state", sa.String(length=32), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("requested_for", sa.DateTime(), nullable=True),
        sa.Column("refusal", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("effective_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(["order_id"], ["orders.id"], name=op.f("fk_cancellations_order_id_orders")),
        sa.ForeignKeyConstraint(["partner_id"], ["partners.id"], name=op.f("fk_cancellations_partner_id_partners")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cancellations")),
    )
    op.create_index("ix_cancellations_partner_id", "cancellations", ["partner_id"])
    op.create_table(
        "hub_listeners",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("partner_id", sa.String(length=64), nullable=False),
        sa.Column("callback", sa.String(length=500), nullable=False),
        sa.Column("query", sa.String(length=500), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("delivered_event_id", sa.Integer(), nullable=False),
        sa.Column("failures", sa.Integer(), server_default="0", nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(), nullable=True),
        sa.Column("lease_until", sa.DateTime(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["partner_id"], ["partners.id"], name=op.f("fk_hub_listeners_partner_id_partners")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_hub_listeners")),
    )
    op.create_index("ix_hub_listeners_partner_id", "hub_listeners", ["partner_id"])


def downgrade() -> None:
    op.drop_index("ix_hub_listeners_partner_id", table_name="hub_listeners")
    op.drop_table("hub_listeners")
    op.drop_index("ix_cancellations_partner_id", table_name="cancellations")
    op.drop_table("cancellations")
    op.execute("ALTER TABLE orders DROP COLUMN deleted_at")
