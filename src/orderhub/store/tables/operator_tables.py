"""What operators did: every `orderhub` command run on the database (cli.audit)."""

from __future__ import annotations

import sqlalchemy as sa

from orderhub.store.tables.base import metadata
from orderhub.store.types import UtcDateTime

# One row a command, written when it starts and completed when it ends (`at` is then when it ended, and
# `exit_code` is set); its arguments with personal data and passwords masked.
operator_commands = sa.Table(
    "operator_commands",
    metadata,
    sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True, autoincrement=True),
    sa.Column("started_at", UtcDateTime, nullable=True),  # none in rows of a release before 0029
    sa.Column("at", UtcDateTime, nullable=False),
    sa.Column("actor", sa.String(200), nullable=False),
    sa.Column("host", sa.String(255), nullable=False),
    sa.Column("command", sa.String(100), nullable=False),
    sa.Column("arguments", sa.Text, nullable=False),
    sa.Column("exit_code", sa.Integer, nullable=True),  # none: it has not ended, or was killed
    sa.Index("ix_operator_commands_at", "at"),
)
