"""What operators did: every `orderhub` command run on the database (cli.audit)."""

from __future__ import annotations

import sqlalchemy as sa

from orderhub.store.tables.base import metadata
from orderhub.store.types import UtcDateTime

# One row a command, written once it ended; its arguments with personal data and passwords masked.
operator_commands = sa.Table(
    "operator_commands",
    metadata,
    sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True, autoincrement=True),
    sa.Column("at", UtcDateTime, nullable=False),
    sa.Column("actor", sa.String(200), nullable=False),
    sa.Column("host", sa.String(255), nullable=False),
    sa.Column("command", sa.String(100), nullable=False),
    sa.Column("arguments", sa.Text, nullable=False),
    sa.Column("exit_code", sa.Integer, nullable=False),
    sa.Index("ix_operator_commands_at", "at"),
)
