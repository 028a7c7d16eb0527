"""The operators' audit trail: the commands they ran on the database (services.operator_commands)."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime

import sqlalchemy as sa

from orderhub.services.records import CommandsWanted, OperatorCommand
from orderhub.store.tables import operator_commands

# The record's fields are the table's columns, in order.
_COLUMNS = [operator_commands.c[name] for name in OperatorCommand.__dataclass_fields__]


class OperatorCommandRepository:
    def __init__(self, connection: sa.Connection) -> None:
        self._db = connection

    def add(self, command: OperatorCommand) -> int:
        insert = operator_commands.insert().values(**asdict(command)).returning(operator_commands.c.id)
        return int(self._db.execute(insert).scalar_one())

    def ended(self, command_id: int, at: datetime, exit_code: int) -> bool:
        update = (
            operator_commands.update().where(operator_commands.c.id == command_id).values(at=at, exit_code=exit_code)
        )
        return self._db.execute(update).rowcount == 1

    def recent(self, since: datetime | None, limit: int, wanted: CommandsWanted) -> list[OperatorCommand]:
        columns = operator_commands.c
        query = sa.select(*_COLUMNS)
        if since is not None:
            query = query.where(columns.at >= since)
        if wanted.command is not None:
            words = wanted.command
            begun_by = columns.command.startswith(f"{words} ", autoescape=True)
            query = query.where(sa.or_(columns.command == words, begun_by))
        if wanted.actor is not None:
            login = wanted.actor  # "alice", "alice (as root)" (sudo) or "bob (as alice)"
            query = query.where(
                sa.or_(
                    columns.actor == login,
                    columns.actor.startswith(f"{login} (as ", autoescape=True),
                    columns.actor.endswith(f" (as {login})", autoescape=True),
                )
            )
        if wanted.excluding is not None:
            query = query.where(columns.id != wanted.excluding)
        # By id as well: two commands may end within the same microsecond.
        query = query.order_by(columns.at.desc(), columns.id.desc()).limit(limit)
        return [OperatorCommand(*row) for row in self._db.execute(query)]
