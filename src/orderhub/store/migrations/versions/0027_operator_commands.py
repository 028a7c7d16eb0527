"""operator_commands: every `orderhub` command an operator ran on the database, who ran it, where, with
what (personal data and passwords masked) and how it ended, for `orderhub audit list`

Revision ID: 0027
Revises: 0026
Create Date: 2026-12-07

"""

# Renumbering (another change taking 0027 first): change revision, down_revision and the file's name,
# and the mentions of 0027 in README ("Upgrading to 0027").

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0027"
down_revision: str | Sequence[str] | None = "0026"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # A new table: the previous release, serving beside this one, never reads or writes it.
    op.create_table(
        "operator_commands",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True, autoincrement=True),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("host", sa.String(length=255), nullable=False),
        sa.Column("command", sa.String(length=100), nullable=False),
        sa.Column("arguments", sa.Text(), nullable=False),
        sa.Column("exit_code", sa.Integer(), nullable=False),
    )
    op.create_index("ix_operator_commands_at", "operator_commands", ["at"])


def downgrade() -> None:
    op.drop_index("ix_operator_commands_at", table_name="operator_commands")
    op.drop_table("operator_commands")
