"""Importing the catalog and the eSIM inventory from files, and the inventory's levels and states."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.progress import Progress
from rich.table import Table

from orderhub.cli.base import (
    DbOption,
    _fail,
    _services,
    console,
    counted,
    err,
    inventory_app,
    product_app,
    refusals_in_one_line,
)
from orderhub.cli.import_files import UnreadableFile, csv_records, product_records
from orderhub.domain.errors import DomainError
from orderhub.domain.esim import ProfileState
from orderhub.services.inventory import ProfileRow


@product_app.command("withdraw")
def product_withdraw(product_id: str, db: DbOption = None) -> None:
    """Stop selling an eSIM product: it leaves every partner's catalog (running servers included, from
    the next request on); orders accepted for it are still fulfilled."""
    services = _services(db)
    with refusals_in_one_line():
        withdrawn = services.partners.withdraw_product(product_id)
    if withdrawn:
        console.print(escape(f"{product_id} withdrawn from the catalogs of: {', '.join(withdrawn)}"))
    else:
        console.print(escape(f"{product_id} is in no partner's catalog: nothing to withdraw"))


@product_app.command("import")
def product_import(
    # Not typer's checks of the path: a usage error of several lines, exit 2, which is an import's code
    # for bad records. import_files names a file that is not there or not a file in one line, exit 1.
    file: Annotated[Path, typer.Argument(help="JSON list or CSV file")],
    db: DbOption = None,
) -> None:
    """Insert or update products from a JSON list or a CSV file (see the README for the columns)."""
    services = _services(db)
    try:
        # Read whole before anything is written: a file that turns out unreadable half-way imports
        # nothing, though the import writes in chunks.
        records = list(product_records(file))
    except UnreadableFile as exc:
        raise _fail(str(exc)) from exc
    report = services.catalog.import_products(records)
    console.print(f"{counted(report.accepted, 'product')} imported, {len(report.rejected)} rejected")
    for line, reason in report.rejected:
        console.print(f"  record {line}: {escape(reason)}")  # a reason quotes the file: no markup of rich's
    if report.rejected:
        raise typer.Exit(code=2)


# -- inventory ----------------------------------------------------------------------------------

_ICCID_COLUMNS = ("iccid", "ICCID")
_MATCHING_COLUMNS = ("matching_id", "matchingId", "MATCHING_ID")
# The batch name a profile keeps (store.tables.esim_tables).
MAX_BATCH_LENGTH = 100
_SMDP_COLUMNS = ("smdp_address", "smdpUrl", "smdp", "SMDP_ADDRESS")


def _column(record: dict[str, str], names: tuple[str, ...]) -> str:
    for name in names:
        if record.get(name):
            return record[name].strip()
    return ""


@inventory_app.command("import")
def inventory_import(
    file: Annotated[Path, typer.Argument(help="CSV: iccid,matching_id,smdp_address")],  # as product import's
    batch: Annotated[str | None, typer.Option(help="Batch name kept with each profile")] = None,
    db: DbOption = None,
) -> None:
    """Import an eSIM profile batch from CSV, reporting each rejected row and why."""
    named = "--batch" if batch else f"the batch name (the file's, without --batch) {file.stem!r}"
    batch = batch or file.stem
    if len(batch) > MAX_BATCH_LENGTH:  # the store's column: PostgreSQL refused it with a traceback
        raise _fail(f"{named} is {len(batch)} characters long: at most {MAX_BATCH_LENGTH}")
    services = _services(db)
    try:
        records = list(csv_records(file, (_ICCID_COLUMNS, _MATCHING_COLUMNS, _SMDP_COLUMNS)))
    except UnreadableFile as exc:
        raise _fail(str(exc)) from exc
    with Progress(console=err) as progress:
        task = progress.add_task(f"importing {file.name}", total=len(records))
        rows = (
            ProfileRow(line, _column(r, _ICCID_COLUMNS), _column(r, _MATCHING_COLUMNS), _column(r, _SMDP_COLUMNS))
            for line, r in records
        )
        report = services.inventory.import_profiles(rows, batch=batch, progress=lambda n: progress.advance(task, n))
    console.print(f"{counted(report.accepted, 'profile')} imported, {len(report.rejected)} rejected")
    if report.not_luhn_valid:
        failing = counted(report.not_luhn_valid, "imported ICCID fails", "imported ICCIDs fail")
        console.print(f"[yellow]{failing} the Luhn check (kept, flagged)[/yellow]")
    for line, reason in sorted(report.rejected):
        console.print(f"  line {line}: {escape(reason)}")  # as product import's: it quotes the file
    if report.rejected:
        raise typer.Exit(code=2)


@inventory_app.command("levels")
def inventory_levels(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON")] = False, db: DbOption = None
) -> None:
    """Profiles per state (available, reserved, released, downloaded, installed)."""
    services = _services(db)
    levels = services.inventory.levels()
    if as_json:
        print(json.dumps(levels))
        return
    table = Table("state", "profiles")
    for state, count in levels.items():
        table.add_row(state, str(count))
    console.print(table)
    if levels["available"] < services.settings.low_stock_threshold:
        console.print(f"[yellow]below the low-stock threshold ({services.settings.low_stock_threshold})[/yellow]")


@inventory_app.command("set-state")
def inventory_set_state(
    iccid: str,
    state: Annotated[str, typer.Argument(help="downloaded or installed (as reported by the SM-DP+)")],
    db: DbOption = None,
) -> None:
    """Record an SM-DP+ notification: the profile was downloaded or installed."""
    services = _services(db)
    try:
        services.inventory.set_profile_state(iccid, ProfileState(state.lower()))
    except ValueError as exc:
        raise _fail(f"unknown state {state!r}: downloaded or installed (as the SM-DP+ reports it)") from exc
    except DomainError as exc:
        raise _fail(exc.message) from exc
    console.print(escape(f"{iccid}: {state.lower()}"))
