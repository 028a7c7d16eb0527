"""sign_in_sources: the sources each client id signed in from lately, where guesses from elsewhere do not
lock it out

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-06

"""

# Renumbering (another change taking 0020 first): change revision, down_revision and the file's name;
# nothing else here depends on the number.

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0020"
down_revision: str | Sequence[str] | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # A new table only: processes of the previous release never read it (they apply the client id's
    # limit at every source, as before).
    op.create_table(
        "sign_in_sources",
        sa.Column("key", sa.String(length=80), nullable=False),
        sa.Column("signed_in_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_sign_in_sources")),
    )
    op.create_index("ix_sign_in_sources_signed_in_at", "sign_in_sources", ["signed_in_at"])


def downgrade() -> None:
    op.drop_index("ix_sign_in_sources_signed_in_at", table_name="sign_in_sources")
    op.drop_table("sign_in_sources")
