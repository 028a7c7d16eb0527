"""order states as long as TMF's (assessing_cancellation, pending_cancellation)

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-24

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | Sequence[str] | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # SQLite rebuilds the tables (store.migrate turns foreign keys off around it); PostgreSQL alters.
    with op.batch_alter_table("orders") as batch:
        batch.alter_column("state", existing_type=sa.String(length=16), type_=sa.String(length=32))
    with op.batch_alter_table("order_events") as batch:
        batch.alter_column("from_state", existing_type=sa.String(length=16), type_=sa.String(length=32))
        batch.alter_column("to_state", existing_type=sa.String(length=16), type_=sa.String(length=32))


def downgrade() -> None:
    with op.batch_alter_table("order_events") as batch:
        batch.alter_column("to_state", existing_type=sa.String(length=32), type_=sa.String(length=16))
        batch.alter_column("from_state", existing_type=sa.String(length=32), type_=sa.String(length=16))
    with op.batch_alter_table("orders") as batch:
        batch.alter_column("state", existing_type=sa.String(length=32), type_=sa.String(length=16))
