"""The command's groups, its consoles, and what every command shares: the database option and the
wired services."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape

from orderhub.bootstrap import Services, build_services
from orderhub.domain.errors import DomainError
from orderhub.services.ports import DatabaseUnavailable
from orderhub.settings import Settings
from orderhub.store import migrate
from orderhub.store.database import sqlite_path

app = typer.Typer(help="orderhub: order management for connectivity products.", no_args_is_help=True)
partner_app = typer.Typer(help="Partners (API client accounts).", no_args_is_help=True)
credential_app = typer.Typer(help="Client credentials of partners.", no_args_is_help=True)
product_app = typer.Typer(help="The product catalog.", no_args_is_help=True)
inventory_app = typer.Typer(help="The eSIM profile inventory.", no_args_is_help=True)
app.add_typer(partner_app, name="partner")
app.add_typer(credential_app, name="credential")
app.add_typer(product_app, name="product")
app.add_typer(inventory_app, name="inventory")
line_app = typer.Typer(help="Mobile lines of business units and the products on them.", no_args_is_help=True)
app.add_typer(line_app, name="line")
access_app = typer.Typer(
    help="Network accesses, their services and the SP's offerings (onapi-order).", no_args_is_help=True
)
app.add_typer(access_app, name="access")
order_app = typer.Typer(help="Orders of every API.", no_args_is_help=True)
app.add_typer(order_app, name="order")
customer_app = typer.Typer(help="End customers' personal data: copied or erased on request.", no_args_is_help=True)
app.add_typer(customer_app, name="customer")
hub_app = typer.Typer(help="TMF622 event listeners (hub) and how their deliveries fare.", no_args_is_help=True)
app.add_typer(hub_app, name="hub")
audit_app = typer.Typer(help="The commands operators ran on the database (the audit trail).", no_args_is_help=True)
app.add_typer(audit_app, name="audit")

# The services the running command opened the database with: where cli.audit records it once it ended.
OPENED: list[Services] = []
# Called once the database the command opened is known to be orderhub's, before the command works on it:
# cli.audit records the command's start there.
ON_CHECKED: list[Callable[[Services], None]] = []


def _console(*, stderr: bool = False) -> Console:
    console = Console(stderr=stderr)
    if console.is_terminal:
        return console
    # A pipe or a log collector: a line is never wrapped (a one-line error stays one line) and a
    # table is as wide as its values, which are never cut short (secrets, ids, paths).
    return Console(stderr=stderr, soft_wrap=True, width=NOT_A_TERMINAL_WIDTH)


# Wide enough for any table orderhub prints; tables take only the width their values need.
NOT_A_TERMINAL_WIDTH = 10_000
console = _console()
err = _console(stderr=True)

DbOption = Annotated[
    str | None,
    typer.Option("--db", help="Database URL (default: $ORDERHUB_DATABASE_URL or sqlite:///./orderhub.db)"),
]


def _services(db: str | None, *, create: bool = False, **overrides: Any) -> Services:
    """The services on the database, for a command that operates on it. ``create`` (demo-data) creates
    and migrates the database as `orderhub migrate` does; otherwise a SQLite file that is not there (a
    typo in --db) or a database behind this orderhub's migrations is refused, untouched, in one line.
    A database a newer orderhub migrated is worked on, as the service does (a release's migrations are
    additive), with a warning."""
    settings = Settings.from_env(database_url=db, **overrides)
    path = sqlite_path(settings.database_url)
    if not create and path is not None and not _there(path):
        raise _fail(f"no database at {path} (create it with: orderhub migrate --db {settings.database_url})")
    services = opened(build_services(settings))
    if create:
        try:
            services.migrate()
        except migrate.SchemaNewer as exc:
            _warn(str(exc))
        return checked(services)
    state = migrate.schema_state(services.engine)
    if state.status == "foreign":
        raise _fail(str(state.refusal()))
    if state.status == "behind":
        at = f"at migration {state.revision}" if state.revision else "without orderhub's tables"
        raise _fail(f"the database is {at}, behind this orderhub ({state.head}): run `orderhub migrate` first")
    if state.status == "newer":
        _warn(f"the database is at migration {state.revision}, newer than this orderhub ({state.head})")
    return checked(services)


def _there(path: Path) -> bool:
    try:
        return path.exists()
    except OSError as exc:  # a name too long for the file system: named, not a traceback
        raise DatabaseUnavailable(f"{path}: {exc.strerror}") from exc


def opened(services: Services) -> Services:
    """``services``, noted as the database the running command works on (OPENED)."""
    OPENED.append(services)
    return services


def checked(services: Services) -> Services:
    """``services``, found to be on orderhub's database at this orderhub's migration or a newer one."""
    for call in ON_CHECKED:
        call(services)
    return services


def _warn(message: str) -> None:
    """``message`` on stderr as a warning, as given (_fail's rules)."""
    err.print(f"[yellow]warning:[/yellow] {one_line(escape(message))}", soft_wrap=True)


def _warn_open_orders(order_ids: list[str]) -> None:
    """Orders accepted for a withdrawn offering and not final yet: they fail it when provisioned, and the
    operator may want to tell the partner first."""
    if not order_ids:
        return
    shown = ", ".join(order_ids[:MAX_ORDERS_SHOWN]) + (
        f" and {len(order_ids) - MAX_ORDERS_SHOWN} more" if len(order_ids) > MAX_ORDERS_SHOWN else ""
    )
    _warn(f"orders accepted for it and not fulfilled yet fail it when provisioned ({len(order_ids)}): "
                 f"{shown} (orderhub order show <order>)")  # fmt: skip


# Past this many, the orders are counted, not named: the warning stays one line a person reads.
MAX_ORDERS_SHOWN = 10


@contextmanager
def refusals_in_one_line() -> Iterator[None]:
    """What the services refuse (a DomainError) ends the command with its one error line, exit 1: the
    message escaped, since it may quote what the operator typed, which rich would read as markup."""
    try:
        yield
    except DomainError as exc:
        raise _fail(exc.message) from exc


def counted(count: int, one: str, many: str | None = None) -> str:
    """``count`` with its noun: "1 order", "2 orders" (``many``: the noun when it is not one plus "s")."""
    return f"{count} {one if count == 1 else many or one + 's'}"


def _fail(message: str) -> typer.Exit:
    """``message`` on stderr as the command's error, on one line whatever the terminal width, and shown as
    given: what the operator typed or a file holds may look like the console's [markup]."""
    err.print(f"[red]error:[/red] {one_line(escape(message))}", soft_wrap=True)
    return typer.Exit(code=1)


def one_line(message: str) -> str:
    """``message`` with what would break its line or drive the terminal (a newline, a tab, an escape, a
    right-to-left override an operator pasted into an id) written out as Python escapes: ``a\\nb``."""
    return "".join(char if char.isprintable() else ascii(char)[1:-1] for char in message)


def count_option(option: str, text: str, most: int) -> int:
    """An option's whole number from 1 to ``most``, or the command's one error line."""
    try:
        count = int(text)
    except ValueError:
        count = 0
    if not 1 <= count <= most:
        raise _fail(f"{option} {text!r}: expected a whole number from 1 to {most}")
    return count


def instant_option(option: str, text: str, *, end_of_day: bool = False) -> datetime:
    """A date is its day's start in UTC (``end_of_day``: the next day's); a date-time without an offset: UTC."""
    try:
        day = date.fromisoformat(text)
    except ValueError:
        pass
    else:
        if end_of_day and day == date.max:  # its end is past what a date-time holds: the last instant
            return datetime.max.replace(tzinfo=UTC)
        return datetime.combine(day + timedelta(days=int(end_of_day)), time(), UTC)
    try:
        at = datetime.fromisoformat(text)
    except ValueError:
        raise _fail(
            escape(f"{option} {text!r}: expected an ISO-8601 date or date-time, e.g. 2026-01-15 or 2026-01-15T08:00Z")
        ) from None
    if at.tzinfo is None:
        return at.replace(tzinfo=UTC)
    try:
        at.astimezone(UTC)  # as the store and the clock compare it
    except OverflowError:  # 0001-01-01T00:00+01:00 is before the first instant a date-time holds in UTC
        raise _fail(f"{option} {text!r}: out of range, in UTC before year 1 or after 9999") from None
    return at
