"""order_events.snapshot: what a listened-to order's event shows of it, as it was right after the event

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-06

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | Sequence[str] | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Nullable, no default: events stored before (and those of orders no listener hears of) have none.
    # Adding such a column rewrites no row, on SQLite as on PostgreSQL.
    op.add_column("order_events", sa.Column("snapshot", sa.JSON(), nullable=True))


def downgrade() -> None:
    op.execute("ALTER TABLE order_events DROP COLUMN snapshot")
