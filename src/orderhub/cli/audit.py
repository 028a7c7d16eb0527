"""The operators' audit trail: every command that worked on the database is recorded there once it
ended (``record_command``, which ``main`` calls), and `orderhub audit list` shows them."""

from __future__ import annotations

import getpass
import json
import os
import shlex
import socket
from collections.abc import Callable, Sequence
from typing import Annotated, Any

import sqlalchemy as sa
import typer
from rich.markup import escape
from rich.table import Table

from orderhub.cli.base import (
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
from orderhub.services.operator_commands import OperatorCommands
from orderhub.services.ports import DatabaseUnavailable
from orderhub.services.records import OperatorCommand

MAX_LISTED = 10_000
# Options whose value is words an operator writes, which may name a customer: kept as their length.
FREE_TEXT = frozenset({"--reason"})


def record_command(argv: Sequence[str], exit_code: int) -> None:
    """Records the command that ran (``argv``: its words and arguments) on the database it opened, if it
    opened one: a command refused before it reached a database changed nothing there. A command that
    worked but could not be recorded says so; one that failed has said why already."""
    if not OPENED:
        return
    services = OPENED[0]
    OPENED.clear()
    argv = [_readable(argument) for argument in argv]
    words = command_words(argv)
    try:
        OperatorCommands(services.uow_factory).record(
            actor=_actor(), host=socket.gethostname(), command=" ".join(words),
            arguments=masked_arguments(argv[len(words):]), exit_code=exit_code,
        )  # fmt: skip
    except (sa.exc.SQLAlchemyError, DatabaseUnavailable) as exc:
        if exit_code == 0:
            reason = exc.reason if isinstance(exc, DatabaseUnavailable) else type(exc).__name__
            _warn(escape(f"the command was not recorded in the audit trail ({reason})"))


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
        str | None, typer.Option(help="Only commands that ended then or later: a date (UTC) or an ISO-8601 date-time")
    ] = None,
    limit: Annotated[str, typer.Option(metavar="N", help=f"List at most N (1-{MAX_LISTED})")] = "50",
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON")] = False,
    db: DbOption = None,
) -> None:
    """The commands operators ran on the database, newest first: when each ended, who ran it and on which
    host, its words and arguments (personal data and passwords masked) and its exit code."""
    most = count_option("--limit", limit, MAX_LISTED)
    start = instant_option("--since", since) if since is not None else None
    listed = OperatorCommands(_services(db).uow_factory).recent(since=start, limit=most)
    if as_json:
        print(json.dumps([_as_json(command) for command in listed], indent=2, ensure_ascii=False))
        return
    table = Table("ended", "who", "host", "command", "arguments", "exit")
    for command in listed:
        row = (
            command.at.isoformat(timespec="seconds"), command.actor, command.host, command.command,
            command.arguments, str(command.exit_code),
        )  # fmt: skip
        table.add_row(*(escape(value) for value in row))
    console.print(table)


def _as_json(command: OperatorCommand) -> dict[str, str | int]:
    return {
        "at": command.at.isoformat(),
        "actor": command.actor,
        "host": command.host,
        "command": command.command,
        "arguments": command.arguments,
        "exit_code": command.exit_code,
    }
