"""idempotency_keys.refusal: a key whose request got a business refusal (onapi-order's REJECTED) keeps
that answer in place of an order, so order_id may be empty

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-07

"""

# Renumbering (another change taking 0023 first): change revision, down_revision and the file's name,
# and the mentions of 0023 in README ("Upgrading to 0023") and in the comments that name it.

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0023"
down_revision: str | Sequence[str] | None = "0022"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Additive: the previous release writes order_id as before and leaves refusal out (nullable, no
    # default: adding it rewrites no row on PostgreSQL, where dropping NOT NULL is a change of the
    # catalogue only). SQLite cannot drop a NOT NULL in place: it copies the table (store.migrate turns
    # foreign keys off around it), writes waiting meanwhile.
    with op.batch_alter_table("idempotency_keys") as batch:
        batch.alter_column("order_id", existing_type=sa.String(length=36), nullable=True)
        batch.add_column(sa.Column("refusal", sa.String(length=64), nullable=True))


def downgrade() -> None:
    # The refusals go: their keys can be used again, as before the migration.
    op.execute("DELETE FROM idempotency_keys WHERE order_id IS NULL")
    with op.batch_alter_table("idempotency_keys") as batch:
        batch.drop_column("refusal")
        batch.alter_column("order_id", existing_type=sa.String(length=36), nullable=False)
