"""The operators' audit trail: every `orderhub` command an operator ran on the database, who ran it,
from which host, with what and how it ended (`orderhub audit list`). Accountability for what an
operator did to partners, credentials, the catalog, orders and customers' personal data (reading it
with `order show` or `customer export` included), where the logs of one host are not kept for long.

A command is recorded once it ended, in a transaction of its own: its exit code is known only then, and
a command refused or failed is recorded too. So a process killed in between leaves its change
unrecorded (the README says so)."""

from __future__ import annotations

from datetime import datetime

from orderhub.services.clock import Clock, utc_now
from orderhub.services.ports import UnitOfWorkFactory
from orderhub.services.records import OperatorCommand

# What the columns hold at most: the login and host an operating system gives may be longer.
MAX_ACTOR = 200
MAX_HOST = 255
MAX_COMMAND = 100


class OperatorCommands:
    def __init__(self, uow_factory: UnitOfWorkFactory, *, clock: Clock = utc_now) -> None:
        self._uow = uow_factory
        self._clock = clock

    def record(self, *, actor: str, host: str, command: str, arguments: str, exit_code: int) -> OperatorCommand:
        """Keeps the command; ``arguments`` already masked (they are kept as given)."""
        entry = OperatorCommand(
            self._clock(), actor[:MAX_ACTOR], host[:MAX_HOST], command[:MAX_COMMAND], arguments, exit_code
        )
        with self._uow() as uow:
            uow.operator_commands.add(entry)
            uow.commit()
        return entry

    def recent(self, *, since: datetime | None = None, limit: int = 50) -> list[OperatorCommand]:
        """The newest ``limit`` commands that ended at or after ``since``, newest first."""
        with self._uow(read_only=True) as uow:
            return uow.operator_commands.recent(since, limit)
