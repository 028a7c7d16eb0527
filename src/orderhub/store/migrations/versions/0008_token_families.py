"""refresh tokens: families (a replay revokes them) and use marks

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-24

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | Sequence[str] | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("tokens", sa.Column("family", sa.String(length=64), nullable=True))
    op.add_column("tokens", sa.Column("used_at", sa.DateTime(), nullable=True))
    op.create_index("ix_tokens_family", "tokens", ["family"])


def downgrade() -> None:
    op.drop_index("ix_tokens_family", table_name="tokens")
    op.execute("ALTER TABLE tokens DROP COLUMN used_at")
    op.execute("ALTER TABLE tokens DROP COLUMN family")
