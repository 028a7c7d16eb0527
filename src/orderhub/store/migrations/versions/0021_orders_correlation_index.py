"""orders: an index on correlation_id, for `orderhub order list --correlation-id` (the order of a request
an access line or a partner names)

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-06

"""

# Renumbering (another change taking 0021 first): change revision, down_revision and the file's name;
# nothing else here depends on the number.

from collections.abc import Sequence

from alembic import op

revision: str = "0021"
down_revision: str | Sequence[str] | None = "0020"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Without it the look-up reads every stored order. An index only: the previous release ignores it.
    # Built in the migration's transaction, as every index before it: writes to orders wait meanwhile
    # (README, Upgrading).
    op.create_index("ix_orders_correlation_id", "orders", ["correlation_id"])


def downgrade() -> None:
    op.drop_index("ix_orders_correlation_id", table_name="orders")
