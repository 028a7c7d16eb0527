"""The operators' audit trail: the commands they ran on the database (services.operator_commands)."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime

import sqlalchemy as sa

from orderhub.services.records import OperatorCommand
from orderhub.store.tables import operator_commands

# The record's fields are the table's columns, in order.
_COLUMNS = [operator_commands.c[name] for name in OperatorCommand.__dataclass_fields__]


class OperatorCommandRepository:
    def __init__(self, connection: sa.Connection) -> None:
        self._db = connection

    def add(self, command: OperatorCommand) -> None:
        self._db.execute(operator_commands.insert().values(**asdict(command)))

    def recent(self, since: datetime | None, limit: int) -> list[OperatorCommand]:
        query = sa.select(*_COLUMNS)
        if since is not None:
            query = query.where(operator_commands.c.at >= since)
        # By id as well: two commands may end within the same microsecond.
        query = query.order_by(operator_commands.c.at.desc(), operator_commands.c.id.desc()).limit(limit)
        return [OperatorCommand(*row) for row in self._db.execute(query)]
