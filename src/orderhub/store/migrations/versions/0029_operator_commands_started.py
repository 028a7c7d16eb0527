"""operator_commands.started_at, and exit_code left empty until the command ends: a command is recorded
when it starts, so one killed before it ended (SIGKILL, a dropped SSH session, a host that went down)
still leaves who ran what, and when

Revision ID: 0029
Revises: 0028
Create Date: 2026-12-07

"""

# Renumbering (another change taking 0029 first): change revision, down_revision and the file's name,
# and the mentions of 0029 in README ("Upgrading to 0029").

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0029"
down_revision: str | Sequence[str] | None = "0028"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# What a command that never ended gets back as its exit code if this migration is undone: the column
# takes no empty value before it, and no process returns a negative exit code.
NEVER_ENDED = -1


def upgrade() -> None:
    # The previous release, serving beside this one, still writes whole rows once a command ended: the new
    # column is nullable and exit_code only loses its NOT NULL. On SQLite the (small) table is copied.
    with op.batch_alter_table("operator_commands") as batch:
        batch.add_column(sa.Column("started_at", sa.DateTime(), nullable=True))
        batch.alter_column("exit_code", existing_type=sa.Integer(), nullable=True)


def downgrade() -> None:
    op.execute(sa.text(f"UPDATE operator_commands SET exit_code = {NEVER_ENDED} WHERE exit_code IS NULL"))
    with op.batch_alter_table("operator_commands") as batch:
        batch.alter_column("exit_code", existing_type=sa.Integer(), nullable=False)
        batch.drop_column("started_at")
