"""rate_limit_buckets: onapi-order's per-partner rate limit, one token bucket shared by every API process

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-06

"""

# Renumbering (another change taking 0017 first): change revision, down_revision and the file's name;
# nothing else here depends on the number.

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017"
down_revision: str | Sequence[str] | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # A new table only: processes of the previous release never read it (they count per process).
    op.create_table(
        "rate_limit_buckets",
        sa.Column("partner_id", sa.String(length=64), nullable=False),
        sa.Column("used", sa.Double(), nullable=False),
        sa.Column("per_minute", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.Double(), nullable=False),
        sa.PrimaryKeyConstraint("partner_id", name=op.f("pk_rate_limit_buckets")),
    )


def downgrade() -> None:
    op.drop_table("rate_limit_buckets")
