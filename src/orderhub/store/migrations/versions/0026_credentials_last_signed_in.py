"""credentials.last_signed_in_at: when each credential's secret was last checked right (a sign-in at
/oauth2/token or a request that carried it), for `orderhub credential list` while a partner's secret is
rotated

Revision ID: 0026
Revises: 0025
Create Date: 2026-12-07

"""

# Renumbering (another change taking 0026 first): change revision, down_revision and the file's name,
# and the mentions of 0026 in README ("Upgrading to 0026").

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0026"
down_revision: str | Sequence[str] | None = "0025"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Additive and nullable, no default: a change of the catalogue only on both databases (no row is
    # rewritten), and the previous release, serving beside this one, neither reads nor writes it.
    op.add_column("credentials", sa.Column("last_signed_in_at", sa.DateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("credentials") as batch:
        batch.drop_column("last_signed_in_at")
