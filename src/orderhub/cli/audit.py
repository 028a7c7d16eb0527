"""The operators' audit trail: every command that works on the database is recorded there when it
starts and completed once it ended (``command_starts`` and ``command_ended``, which ``main`` calls), and
`orderhub audit list` shows them."""

from __future__ import annotations

import getpass
import json
import os
import shlex
import socket
from collections.abc import Callable, Sequence
from contextlib import suppress
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any

import sqlalchemy as sa
import typer
from rich.markup import escape
from rich.table import Table

from orderhub.bootstrap import Services
from orderhub.cli import audit_syslog
from orderhub.cli.base import (
    ON_CHECKED,
    OPENED,
    DbOption,
    _services,
    _warn,
    app,
    audit_app,
    console,
    count_option,
    instant_option,
)
from orderhub.observability import mask, mask_identity
from orderhub.services.clock import utc_now
from orderhub.services.operator_commands import OperatorCommands
from orderhub.services.ports import DatabaseUnavailable
from orderhub.services.records import CommandsWanted, OperatorCommand

MAX_LISTED = 10_000
# Options whose value is words an operator writes, which may name a customer: kept as their length.
FREE_TEXT = frozenset({"--reason"})
# What a failed write of the trail may raise: the database refused it, or has no trail (yet).
NOT_RECORDED = (sa.exc.SQLAlchemyError, DatabaseUnavailable)


@dataclass
class _Running:
    """The command this process runs, as the trail keeps it."""

    started_at: datetime
    words: tuple[str, ...]
    arguments: str  # masked
    recorded_as: int | None = None  # its id in the trail, once its start is kept there
    syslog_refused: bool = False  # a copy for the syslog could not be sent (said once)

    def entry(self) -> dict[str, str]:
        return {
            "actor": _actor(), "host": socket.gethostname(), "command": " ".join(self.words),
            "arguments": self.arguments,
        }  # fmt: skip


RUNNING: list[_Running] = []


def command_starts(argv: Sequence[str]) -> None:
    """Notes the command ``argv`` names (its words and arguments): its start is recorded on the first database
    it opens that is orderhub's (cli.base.ON_CHECKED), before it works on it."""
    argv = [_readable(argument) for argument in argv]
    words = command_words(argv)
    RUNNING[:] = [_Running(utc_now(), words, masked_arguments(argv[len(words) :]))]
    ON_CHECKED[:] = [_record_start]


def _record_start(services: Services) -> None:
    running = RUNNING[0] if RUNNING else None
    if running is None or running.recorded_as is not None:
        return
    # If its start cannot be kept, it is recorded whole once it ended, or said then that it could not be.
    with suppress(*NOT_RECORDED):
        running.recorded_as = OperatorCommands(services.uow_factory).started(**running.entry())
    _copy_to_syslog(services, running, "started")


def command_ended(exit_code: int) -> None:
    """Records how the running command ended on the database it opened, if it opened one: a command refused
    before it reached a database changed nothing there. A command that worked but could not be recorded
    says so; one that failed has said why already."""
    running = RUNNING[0] if RUNNING else None
    services = OPENED[0] if OPENED else None
    RUNNING.clear()
    OPENED.clear()
    ON_CHECKED.clear()
    if running is None or services is None:
        return
    trail = OperatorCommands(services.uow_factory)
    try:
        if running.recorded_as is None or not trail.ended(running.recorded_as, exit_code):
            trail.record(started_at=running.started_at, exit_code=exit_code, **running.entry())
    except NOT_RECORDED as exc:
        if exit_code == 0:
            reason = exc.reason if isinstance(exc, DatabaseUnavailable) else type(exc).__name__
            _warn(f"the command was not recorded in the audit trail ({reason})")
    _copy_to_syslog(services, running, "ended", exit_code=exit_code)


def _copy_to_syslog(services: Services, running: _Running, event: str, **more: int) -> None:
    """The entry, to the syslog the settings name (cli.audit_syslog); a copy that could not be sent is said
    once (the command goes on: the trail in the database has it)."""
    path = services.settings.audit_syslog
    if not path or running.syslog_refused:
        return
    entry = {"event": event, "trail_id": running.recorded_as, "database": mask(services.settings.database_url)}
    refused = audit_syslog.send(path, {**entry, **running.entry(), **more})
    if refused is not None:
        running.syslog_refused = True
        _warn(f"the command was not sent to the syslog at {path} ({refused})")


def command_words(argv: Sequence[str]) -> tuple[str, ...]:
    """The words that name the command at the start of ``argv``: a group's and its command's, or a
    command's alone ("customer erase", "migrate")."""
    groups = {info.name: info.typer_instance for info in app.registered_groups}
    group = groups.get(argv[0]) if argv else None
    if group is None:
        return tuple(argv[:1])
    commands = {info.name or _command_name(info.callback) for info in group.registered_commands}
    return tuple(argv[:2]) if len(argv) > 1 and argv[1] in commands else tuple(argv[:1])


def _command_name(callback: Callable[..., Any] | None) -> str:
    # As Typer names a command after its function when it is given no name.
    return callback.__name__.lower().replace("_", "-") if callback is not None else ""


def masked_arguments(arguments: Sequence[str]) -> str:
    """The arguments as a shell would take them again, with what the logs mask masked (e-mails, identity
    numbers, a URL's user and password), the number of every ``--identity KIND NUMBER`` (a passport
    number has no form of its own to be recognised by) and words given in free text (FREE_TEXT) kept as
    their length only: an order's history keeps them, where an erasure finds the customer's name in them,
    and the trail is never erased."""
    shown = []
    identity_number_at = free_text_at = -1
    for index, argument in enumerate(arguments):
        option, equals, value = argument.partition("=")
        if index == identity_number_at:
            shown.append(mask_identity(argument))
        elif index == free_text_at:
            shown.append(_in_words(argument))
        elif option in FREE_TEXT and equals:
            shown.append(f"{option}={_in_words(value)}")
        else:
            shown.append(mask(argument))
        if argument == "--identity":
            identity_number_at = index + 2
        elif argument in FREE_TEXT:
            free_text_at = index + 1
    return shlex.join(shown)


def _readable(argument: str) -> str:
    """The argument, its bytes that are no UTF-8 (Python keeps them as lone surrogates, which no database
    takes as text) as ``\\x`` escapes."""
    return os.fsencode(argument).decode("utf-8", "backslashreplace")


def _in_words(text: str) -> str:
    return f"<{len(text)} characters>"


def _actor() -> str:
    """Who ran the command, as the operating system says: the login, and the one behind sudo."""
    try:
        login = getpass.getuser()
    except (OSError, KeyError):  # a container's user with no name
        login = f"uid {os.getuid()}"
    behind = os.environ.get("SUDO_USER")
    return f"{behind} (as {login})" if behind and behind != login else login


@audit_app.command("list")
def audit_list(
    since: Annotated[
        str | None,
        typer.Option(
            help="Only commands that ended (or, not ended, started) then or later: a date (UTC) or ISO-8601 date-time"
        ),
    ] = None,
    command: Annotated[
        str | None, typer.Option("--command", help="Only this command, or those it begins: 'order cancel', 'order'")
    ] = None,
    actor: Annotated[
        str | None, typer.Option("--actor", help="Only those this login ran, itself or with sudo, or sudo ran as it")
    ] = None,
    limit: Annotated[str, typer.Option(metavar="N", help=f"List at most N (1-{MAX_LISTED})")] = "50",
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON")] = False,
    db: DbOption = None,
) -> None:
    """The commands operators ran on the database, newest first: when each started and ended (a command that
    has not ended is still running, or was killed), who ran it and on which host, its words and arguments
    (personal data and passwords masked) and its exit code. This listing itself is left out."""
    most = count_option("--limit", limit, MAX_LISTED)
    start = instant_option("--since", since) if since is not None else None
    trail = OperatorCommands(_services(db).uow_factory)  # which records this listing's start
    itself = RUNNING[0].recorded_as if RUNNING else None
    wanted = CommandsWanted(command=_words(command), actor=actor, excluding=itself)
    listed = trail.recent(since=start, limit=most, wanted=wanted)
    if as_json:
        print(json.dumps([_as_json(entry) for entry in listed], indent=2, ensure_ascii=False))
        return
    table = Table("started", "ended", "who", "host", "command", "arguments", "exit")
    for entry in listed:
        row = (
            _shown(entry.started_at), _shown(entry.at) if entry.ended else "not ended", entry.actor, entry.host,
            entry.command, entry.arguments, "-" if entry.exit_code is None else str(entry.exit_code),
        )  # fmt: skip
        table.add_row(*(escape(value) for value in row))
    console.print(table)


def _words(command: str | None) -> str | None:
    # As the trail keeps them: one blank between words, whatever the operator typed.
    return " ".join(command.split()) if command is not None else None


def _shown(at: datetime | None) -> str:
    return at.isoformat(timespec="seconds") if at is not None else "-"


def _as_json(entry: OperatorCommand) -> dict[str, str | int | None]:
    return {
        "started_at": entry.started_at.isoformat() if entry.started_at is not None else None,
        "at": entry.at.isoformat() if entry.ended else None,
        "actor": entry.actor,
        "host": entry.host,
        "command": entry.command,
        "arguments": entry.arguments,
        "exit_code": entry.exit_code,
    }
