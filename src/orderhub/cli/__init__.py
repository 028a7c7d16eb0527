"""The ``orderhub`` command: run the service and the worker, and operate partners, catalog, inventory,
business units, lines, accesses and orders. Each module holds one group of commands; importing them registers them."""

from __future__ import annotations

import sys
from typing import NoReturn

import sqlalchemy as sa

from orderhub.cli import (  # noqa: F401  (registers the commands)
    audit,
    credentials,
    customers,
    hub,
    imports,
    network,
    orders,
    partners,
    service,
    setup,
)
from orderhub.cli.audit import command_ended, command_starts
from orderhub.cli.base import OPENED, _fail, _warn, app
from orderhub.services.ports import DatabaseUnavailable
from orderhub.settings import SettingError, unknown_variables
from orderhub.store.errors import is_unavailable
from orderhub.store.migrate import NotOrderhubDatabase

__all__ = ["app", "main"]


def main() -> None:
    """Runs the command, recorded in the audit trail when it starts and once it ended, however it ended."""
    OPENED.clear()
    command_starts(sys.argv[1:])
    exit_code = 1  # an exception that is no exit: a bug, its traceback shown
    try:
        _run()
        exit_code = 0
    except SystemExit as exc:
        exit_code = exc.code if isinstance(exc.code, int) else int(exc.code is not None)
        raise
    except KeyboardInterrupt:
        exit_code = 130  # as a shell reports a command stopped by Ctrl-C
        raise
    finally:
        command_ended(exit_code)


def _run() -> None:
    for line in unknown_variables():
        _warn(line)
    try:
        app()
    except (sa.exc.DBAPIError, DatabaseUnavailable) as exc:
        # An unreachable or misconfigured database is the operator's to fix: one line, not a traceback.
        # So is one that refuses us (read-only, privileges revoked: store.errors); any other error is a bug.
        refused = isinstance(exc, DatabaseUnavailable | sa.exc.OperationalError | sa.exc.InterfaceError)
        if isinstance(exc, sa.exc.DBAPIError) and not refused and not is_unavailable(exc):
            raise
        reason = exc.reason if isinstance(exc, DatabaseUnavailable) else str(exc.orig).strip().splitlines()[0]
        _refused(f"cannot use the database: {reason}")
    except UnicodeEncodeError as exc:
        # An argument of bytes that are no UTF-8 (Python keeps them as lone surrogates) met the database or
        # the terminal: the operator's typo, named in one line; any other encoding error is a bug.
        unreadable = next((arg for arg in sys.argv[1:] if not _is_utf8(arg)), None)
        if unreadable is None or "surrogates not allowed" not in str(exc):
            raise
        _refused(f"an argument is not UTF-8 text: {unreadable!a}")
    except NotOrderhubDatabase as exc:
        # Another application's database (a mistyped setting): named, untouched, not a traceback.
        _refused(str(exc))
    except ValueError as exc:
        # A setting or option orderhub cannot use (SettingError names it), or a database it does not serve.
        if not isinstance(exc, SettingError) and "unsupported database" not in str(exc):
            raise
        _refused(str(exc))


def _refused(message: str) -> NoReturn:
    _fail(message)  # as a command's own refusal is printed
    raise SystemExit(1) from None


def _is_utf8(argument: str) -> bool:
    try:
        argument.encode()
    except UnicodeEncodeError:
        return False
    return True
