"""customers.erased_at: when a customer's personal data was erased on request (`orderhub customer erase`)

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-06

"""

# Renumbering (another change taking 0018 first): change revision, down_revision and the file's name;
# nothing else here depends on the number.

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0018"
down_revision: str | Sequence[str] | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Nullable, no default: a column only (no row rewritten, on SQLite as on PostgreSQL), which the previous
    # release leaves out of its inserts. An erased customer's e-mail, name, identity and country are NULL,
    # which the previous release reads as a customer it cannot find by e-mail or identity.
    op.add_column("customers", sa.Column("erased_at", sa.DateTime(), nullable=True))


def downgrade() -> None:
    op.execute("ALTER TABLE customers DROP COLUMN erased_at")
