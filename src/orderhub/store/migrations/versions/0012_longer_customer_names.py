"""customers.name as long as ON-API's two names and the space between them (255 + 1 + 255)

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-06

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | Sequence[str] | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # SQLite rebuilds the table (store.migrate turns foreign keys off around it); PostgreSQL alters.
    with op.batch_alter_table("customers") as batch:
        batch.alter_column("name", existing_type=sa.String(length=200), type_=sa.String(length=511))


def downgrade() -> None:
    # Names longer than 200 characters are cut to fit the narrower column.
    op.execute("UPDATE customers SET name = substr(name, 1, 200) WHERE length(name) > 200")
    with op.batch_alter_table("customers") as batch:
        batch.alter_column("name", existing_type=sa.String(length=511), type_=sa.String(length=200))
