"""Importing the catalog and the eSIM inventory from files, and the inventory's levels and states."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.progress import Progress
from rich.table import Table

from orderhub.cli.base import (
    DbOption,
    _fail,
    _services,
    console,
    err,
    inventory_app,
    product_app,
)
from orderhub.domain.catalog import Product
from orderhub.domain.errors import DomainError
from orderhub.domain.esim import ProfileState
from orderhub.services.inventory import ProfileRow


def _product(data: dict[str, Any]) -> Product | str:
    for required in ("id", "name"):
        if data.get(required) is None:  # absent or null (an empty one is the validation's to name)
            return f"missing field '{required}'"
    try:
        prices_raw = data.get("prices") or {}
        if isinstance(prices_raw, str):  # CSV: "USD=10;EUR=9.50"
            prices_raw = dict(part.split("=", 1) for part in prices_raw.split(";") if part.strip())
        footprint = data.get("footprint") or []
        if isinstance(footprint, str):  # CSV: "PT;ES"
            footprint = [c for c in footprint.split(";") if c.strip()]
        return Product(
            id=str(data["id"]).strip(),
            name=str(data["name"]).strip(),
            description=str(data.get("description") or ""),
            data_mb=int(data["data_mb"]) if data.get("data_mb") not in (None, "") else None,
            validity_days=int(data["validity_days"]) if data.get("validity_days") not in (None, "") else None,
            footprint=tuple(str(c).strip().upper() for c in footprint),
            prices={str(c).strip().upper(): Decimal(str(a).strip()) for c, a in prices_raw.items()},
        )
    except KeyError as exc:
        return f"missing field {exc}"
    except (ValueError, InvalidOperation, TypeError, AttributeError, OverflowError) as exc:
        return f"unreadable value: {exc}"


class UnreadableFile(Exception):
    """The file as a whole cannot be imported (not UTF-8, not the expected format): nothing is."""


def _text(path: Path) -> str:
    try:
        # utf-8-sig: spreadsheet exports and some editors start with a byte-order mark; JSON too.
        return path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise UnreadableFile(f"{path} is not UTF-8 text ({exc.reason} at byte {exc.start}); save it as UTF-8") from None


def _csv_records(path: Path, required: tuple[tuple[str, ...], ...]) -> Iterator[tuple[int, dict[str, str]]]:
    """The rows of a CSV file whose header holds one of each group of ``required`` column names."""
    reader = csv.DictReader(io.StringIO(_text(path), newline=""))
    columns = set(reader.fieldnames or [])
    missing = [names[0] for names in required if not columns & set(names)]
    if missing:
        raise UnreadableFile(f"{path} lacks the column(s) {', '.join(missing)}: not a file for this import")
    try:
        for record in reader:
            yield reader.line_num, record
    except csv.Error as exc:
        raise UnreadableFile(f"{path} line {reader.line_num}: {exc}") from None


def _product_records(path: Path) -> Iterator[tuple[int, Product | str]]:
    if path.suffix.lower() == ".json":
        try:
            records = json.loads(_text(path))
        except json.JSONDecodeError as exc:
            raise UnreadableFile(f"{path} is not valid JSON: {exc}") from None
        if not isinstance(records, list | dict):
            raise UnreadableFile(f"{path} holds no product records (a JSON list of objects is expected)")
        for number, record in enumerate(records if isinstance(records, list) else [records], start=1):
            yield number, _product(record) if isinstance(record, dict) else "not an object"
        return
    for line, record in _csv_records(path, (("id",), ("name",))):
        yield line, _product(record)


@product_app.command("import")
def product_import(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="JSON list or CSV file")],
    db: DbOption = None,
) -> None:
    """Insert or update products from a JSON list or a CSV file (see the README for the columns)."""
    services = _services(db)
    try:
        # One transaction: a file that turns out unreadable half-way imports nothing.
        report = services.catalog.import_products(_product_records(file))
    except UnreadableFile as exc:
        raise _fail(str(exc)) from exc
    console.print(f"{report.accepted} products imported, {len(report.rejected)} rejected")
    for line, reason in report.rejected:
        console.print(f"  record {line}: {reason}")
    if report.rejected:
        raise typer.Exit(code=2)


# -- inventory ----------------------------------------------------------------------------------

_ICCID_COLUMNS = ("iccid", "ICCID")
_MATCHING_COLUMNS = ("matching_id", "matchingId", "MATCHING_ID")
_SMDP_COLUMNS = ("smdp_address", "smdpUrl", "smdp", "SMDP_ADDRESS")


def _column(record: dict[str, str], names: tuple[str, ...]) -> str:
    for name in names:
        if record.get(name):
            return record[name].strip()
    return ""


@inventory_app.command("import")
def inventory_import(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="CSV: iccid,matching_id,smdp_address")],
    batch: Annotated[str | None, typer.Option(help="Batch name kept with each profile")] = None,
    db: DbOption = None,
) -> None:
    """Import an eSIM profile batch from CSV, reporting each rejected row and why."""
    services = _services(db)
    try:
        records = list(_csv_records(file, (_ICCID_COLUMNS, _MATCHING_COLUMNS, _SMDP_COLUMNS)))
    except UnreadableFile as exc:
        raise _fail(str(exc)) from exc
    with Progress(console=err) as progress:
        task = progress.add_task(f"importing {file.name}", total=len(records))
        rows = (
            ProfileRow(line, _column(r, _ICCID_COLUMNS), _column(r, _MATCHING_COLUMNS), _column(r, _SMDP_COLUMNS))
            for line, r in records
        )
        report = services.inventory.import_profiles(
            rows, batch=batch or file.stem, progress=lambda n: progress.advance(task, n)
        )
    console.print(f"{report.accepted} profiles imported, {len(report.rejected)} rejected")
    if report.not_luhn_valid:
        console.print(f"[yellow]{report.not_luhn_valid} imported ICCIDs fail the Luhn check (kept, flagged)[/yellow]")
    for line, reason in sorted(report.rejected):
        console.print(f"  line {line}: {reason}")
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
        raise _fail(f"unknown state {state}") from exc
    except DomainError as exc:
        raise _fail(exc.message) from exc
    console.print(f"{iccid}: {state.lower()}")
