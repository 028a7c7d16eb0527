"""item states; customers known by identification as well as by e-mail

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-24

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | Sequence[str] | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("order_items", sa.Column("state", sa.String(length=16), nullable=True))
    op.add_column("order_items", sa.Column("failure_reason", sa.Text(), nullable=True))
    op.execute(
        "UPDATE order_items SET state = 'delivered' WHERE order_id IN (SELECT id FROM orders WHERE state = 'completed')"
    )
    op.execute(
        "UPDATE order_items SET state = 'failed' WHERE order_id IN (SELECT id FROM orders WHERE state = 'failed')"
    )
    # Making e-mail optional rebuilds the table on SQLite; store.migrate turns foreign keys off around
    # the migration so that dropping the old table does not touch the orders that point at it.
    with op.batch_alter_table("customers") as batch:
        batch.alter_column("email", existing_type=sa.String(length=320), nullable=True)
        batch.add_column(sa.Column("name", sa.String(length=200), nullable=True))
        batch.add_column(sa.Column("identity_type", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("identity_value", sa.String(length=64), nullable=True))
        batch.create_index("uq_customers_identity", ["partner_id", "identity_type", "identity_value"], unique=True)


def downgrade() -> None:
    with op.batch_alter_table("customers") as batch:
        batch.drop_index("uq_customers_identity")
        batch.drop_column("identity_value")
        batch.drop_column("identity_type")
        batch.drop_column("name")
        batch.alter_column("email", existing_type=sa.String(length=320), nullable=False)
    op.execute("ALTER TABLE order_items DROP COLUMN failure_reason")
    op.execute("ALTER TABLE order_items DROP COLUMN state")
