"""orders by customer_id and idempotency keys by order_id: indexes for the commands that act on one
customer's orders (customer erase, export, erase --inactive-since), which read every order and every
idempotency key without them, while writes waited (~0.3 s and ~0.2 s a million on SQLite)

Revision ID: 0028
Revises: 0027
Create Date: 2026-12-07

"""

# Renumbering (another change taking 0028 first): change revision, down_revision and the file's name,
# and the mentions of 0028 in README ("Upgrading to 0028") and in store/erasure_repository.py.

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0028"
down_revision: str | Sequence[str] | None = "0027"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# (index, table, column): each partial, so that a row without the column (an order for no customer, a key
# that kept a refusal in place of an order) costs nothing more to write.
_INDEXES = (
    ("ix_orders_customer_id", "orders", "customer_id"),
    ("ix_idempotency_keys_order_id", "idempotency_keys", "order_id"),
)


def upgrade() -> None:
    # Built within the migration's transaction, as every index before them (README, Upgrading).
    for index, table, column in _INDEXES:
        where = sa.text(f"{column} IS NOT NULL")
        op.create_index(index, table, [column], sqlite_where=where, postgresql_where=where)


def downgrade() -> None:
    for index, table, _column in _INDEXES:
        op.drop_index(index, table_name=table)
