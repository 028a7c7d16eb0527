"""The operators' audit trail: every `orderhub` command an operator ran on the database, who ran it,
from which host, with what and how it ended (`orderhub audit list`). Accountability for what an
operator did to partners, credentials, the catalog, orders and customers' personal data (reading it
with `order show` or `customer export` included), where the logs of one host are not kept for long.

A command is recorded when it starts, in a transaction of its own, before it changes anything, and its
exit code once it ended: so a command killed in between (SIGKILL, a dropped SSH session, a host that went
down) still leaves who ran what, and shows as never ended. A command whose start could not be recorded
is recorded whole once it ended."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from orderhub.services.clock import Clock, utc_now
from orderhub.services.ports import UnitOfWorkFactory
from orderhub.services.records import CommandsWanted, OperatorCommand

# What the columns hold at most: the login and host an operating system gives may be longer.
MAX_ACTOR = 200
MAX_HOST = 255
MAX_COMMAND = 100


class OperatorCommands:
    def __init__(self, uow_factory: UnitOfWorkFactory, *, clock: Clock = utc_now) -> None:
        self._uow = uow_factory
        self._clock = clock

    def started(self, *, actor: str, host: str, command: str, arguments: str) -> int:
        """Keeps the command as running (``arguments`` already masked: they are kept as given); the id to
        complete it with (``ended``)."""
        now = self._clock()
        return self._add(OperatorCommand(now, now, actor, host, command, arguments, exit_code=None))

    def ended(self, command_id: int, exit_code: int) -> bool:
        """Completes a command ``started`` kept; False if the trail no longer has it."""
        with self._uow() as uow:
            found = uow.operator_commands.ended(command_id, self._clock(), exit_code)
            uow.commit()
        return found

    def record(
        self, *, started_at: datetime, actor: str, host: str, command: str, arguments: str, exit_code: int
    ) -> OperatorCommand:
        """Keeps a command that ended whose start could not be kept (the database refused the write then,
        or had no trail yet: ``orderhub migrate``)."""
        entry = OperatorCommand(started_at, self._clock(), actor, host, command, arguments, exit_code)
        self._add(entry)
        return entry

    def recent(
        self, *, since: datetime | None = None, limit: int = 50, wanted: CommandsWanted = CommandsWanted()
    ) -> list[OperatorCommand]:
        """The newest ``limit`` commands ``wanted`` that ended at or after ``since`` (or started then and have
        not ended), newest first."""
        with self._uow(read_only=True) as uow:
            return uow.operator_commands.recent(since, limit, wanted)

    def _add(self, entry: OperatorCommand) -> int:
        entry = replace(
            entry, actor=entry.actor[:MAX_ACTOR], host=entry.host[:MAX_HOST], command=entry.command[:MAX_COMMAND]
        )
        with self._uow() as uow:
            command_id = uow.operator_commands.add(entry)
            uow.commit()
        return command_id
