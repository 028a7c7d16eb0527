"""The ``orderhub`` command: run the service and the worker, and operate partners, catalog and inventory."""

from __future__ import annotations

import csv
import gc
import io
import json
import signal
import threading
from collections.abc import Iterator
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Annotated, Any

import sqlalchemy as sa
import typer
from rich.console import Console
from rich.progress import Progress
from rich.table import Table

from orderhub.bootstrap import Services, build_services
from orderhub.domain.accesses import AccessState, NetworkOffering
from orderhub.domain.catalog import Product
from orderhub.domain.errors import DomainError
from orderhub.domain.esim import ProfileState
from orderhub.observability import configure_logging, mask, mask_identity
from orderhub.services.access_orders import AccessAdmin
from orderhub.services.auth import verify_secret
from orderhub.services.demo import demo_credentials, load_demo_data
from orderhub.services.inventory import ProfileRow
from orderhub.services.line_orders import LineAdmin
from orderhub.services.ports import DatabaseUnavailable
from orderhub.settings import Settings
from orderhub.web.server import protocol_with_header_timeout

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

console = Console()
err = Console(stderr=True)

DbOption = Annotated[
    str | None,
    typer.Option("--db", help="Database URL (default: $ORDERHUB_DATABASE_URL or sqlite:///./orderhub.db)"),
]


def _services(db: str | None, **overrides: Any) -> Services:
    services = build_services(Settings.from_env(database_url=db, **overrides))
    services.migrate()
    return services


def _fail(message: str) -> typer.Exit:
    err.print(f"[red]error:[/red] {message}")
    return typer.Exit(code=1)


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Interface to listen on (default 127.0.0.1)")] = None,
    port: Annotated[int | None, typer.Option(help="Port (default 8080)")] = None,
    db: DbOption = None,
    demo: Annotated[bool, typer.Option("--demo", help="Load demo partners, catalog and inventory if absent")] = False,
    worker: Annotated[bool, typer.Option("--worker/--no-worker", help="Run the fulfilment worker in-process")] = True,
) -> None:
    """Run the HTTP API (and, by default, the fulfilment worker) after applying migrations."""
    import uvicorn

    from orderhub.api.app import create_app

    # Without a worker in this process, orders are left to the separate workers, not fulfilled at intake.
    settings = Settings.from_env(database_url=db, host=host, port=port, fulfil_inline=None if worker else False)
    configure_logging(settings.log_level)
    services = build_services(settings)
    services.migrate()
    if demo and load_demo_data(services.uow_factory, inventory_size=settings.demo_inventory_size):
        console.print("[green]demo data loaded[/green]: see `orderhub demo-credentials --json`")
    application = create_app(services, run_worker=worker)
    # What startup built (the app, schemas, tables) lives as long as the process: the collector need not
    # scan it again at every collection, and collections come less often (p99 under load: bench/README.md).
    gc.collect()
    gc.freeze()
    gc.set_threshold(20_000, 50, 100)
    uvicorn.run(
        application,
        host=settings.host,
        port=settings.port,
        log_config=None,
        access_log=False,
        loop="uvloop",
        # httptools with a bound on how long request headers may take (slowloris).
        http=protocol_with_header_timeout(settings.request_header_timeout_seconds),
    )


@app.command("worker")
def run_worker(db: DbOption = None) -> None:
    """Run the fulfilment worker and the event dispatcher alone (for `serve --no-worker` deployments)."""
    settings = Settings.from_env(database_url=db)
    configure_logging(settings.log_level)
    services = build_services(settings)
    services.migrate()
    stopped = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stopped.set())
    services.worker.start(watch_database=True)
    services.hub_dispatcher.start()
    stopped.wait()
    services.hub_dispatcher.stop()
    services.worker.stop()


@app.command()
def migrate(db: DbOption = None) -> None:
    """Apply database migrations up to the newest."""
    _services(db)
    console.print("database is at the newest migration")


@app.command("demo-data")
def demo_data(db: DbOption = None) -> None:
    """Load the demo partners, catalog and eSIM inventory (once)."""
    services = _services(db)
    loaded = load_demo_data(services.uow_factory, inventory_size=services.settings.demo_inventory_size)
    console.print("demo data loaded" if loaded else "demo data was already there")


@app.command("demo-credentials")
def demo_credentials_command(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON")] = False, db: DbOption = None
) -> None:
    """Print the demo partners' credentials (only those that still work in this database)."""
    services = _services(db)
    result: dict[str, list[dict[str, object]]] = {}
    with services.uow_factory(read_only=True) as uow:
        for dialect, entries in demo_credentials().items():
            live = []
            for entry in entries:
                # ON-API calls the pair username and password (HTTP Basic).
                client_id = str(entry.get("client_id", entry.get("username")))
                secret = str(entry.get("client_secret", entry.get("password")))
                stored = uow.partners.get_credential(client_id)
                if stored and stored.revoked_at is None and verify_secret(secret, stored.secret_hash):
                    live.append(entry)
            result[dialect] = live
    if not any(result.values()):
        raise _fail("no demo data in this database: run `orderhub demo-data` or `orderhub serve --demo`")
    if as_json:
        print(json.dumps(result, indent=2))
        return
    table = Table("dialect", "partner", "client_id / username", "client_secret / password", "scope")
    for dialect, entries in result.items():
        for entry in entries:
            scope = entry.get("roles", entry.get("business_ids", [f"coId {entry.get('co_id')}"]))
            table.add_row(
                dialect,
                str(entry["partner"]),
                str(entry.get("client_id", entry.get("username"))),
                str(entry.get("client_secret", entry.get("password"))),
                ", ".join(map(str, scope)),  # type: ignore[call-overload]
            )
    console.print(table)


# -- partners and credentials -------------------------------------------------------------------


@partner_app.command("create")
def partner_create(
    partner_id: Annotated[str, typer.Argument(help="Short id, e.g. acme-travel")],
    name: Annotated[str, typer.Option(help="Display name")],
    role: Annotated[
        list[str], typer.Option("--role", help="RESELLER, ACCOUNT_MANAGER or BUSINESS_CHANNEL (repeatable)")
    ],
    currency: Annotated[list[str], typer.Option("--currency", help="Supported currency (repeatable)")],
    product: Annotated[list[str] | None, typer.Option("--product", help="Product in its catalog (repeatable)")] = None,
    manager: Annotated[str | None, typer.Option(help="Id of the ACCOUNT_MANAGER partner managing it")] = None,
    business_unit: Annotated[
        list[str] | None,
        typer.Option("--business-unit", help="Business unit whose lines a BUSINESS_CHANNEL orders for (repeatable)"),
    ] = None,
    co_id: Annotated[str | None, typer.Option(help="A COMMUNICATION_OPERATOR's ON-API coId")] = None,
    language: Annotated[str, typer.Option(help="Language of end-customer messages: en or sv")] = "en",
    rate_limit: Annotated[int | None, typer.Option(help="Requests a minute it may send (default: no limit)")] = None,
    db: DbOption = None,
) -> None:
    """Create a partner with roles, supported currencies and a catalog (or business units)."""
    services = _services(db)
    try:
        services.partners.create_partner(
            partner_id,
            name=name,
            roles=role,
            currencies=currency,
            product_ids=product or [],
            manager_id=manager,
            business_unit_ids=business_unit or [],
            co_id=co_id,
            language=language,
            rate_limit_per_minute=rate_limit,
        )
    except DomainError as exc:
        raise _fail(exc.message) from exc
    console.print(f"partner {partner_id} created")


@partner_app.command("set-rate-limit")
def partner_set_rate_limit(
    partner_id: str,
    per_minute: Annotated[int | None, typer.Argument(help="Requests a minute; leave out for no limit")] = None,
    db: DbOption = None,
) -> None:
    """Limit how many requests a minute a partner may send (ON-API answers 429 beyond it)."""
    services = _services(db)
    try:
        services.partners.set_rate_limit(partner_id, per_minute)
    except DomainError as exc:
        raise _fail(exc.message) from exc
    console.print(f"{partner_id}: " + (f"at most {per_minute} requests a minute" if per_minute else "no limit"))


@partner_app.command("set-offerings")
def partner_set_offerings(
    partner_id: str,
    offering: Annotated[
        list[str], typer.Option("--offering", help="product_id/offering_id it may order on accesses (repeatable)")
    ],
    db: DbOption = None,
) -> None:
    """Replace the network offerings a communication operator may order (onapi-order)."""
    services = _services(db)
    pairs = []
    for text in offering:
        product_id, _, offering_id = text.partition("/")
        if not product_id or not offering_id:
            raise _fail(f"{text!r}: expected product_id/offering_id")
        pairs.append((product_id, offering_id))
    try:
        AccessAdmin(services.uow_factory).allow(partner_id, pairs)
    except (DomainError, sa.exc.IntegrityError) as exc:
        raise _fail(getattr(exc, "message", "unknown offering")) from exc
    console.print(f"{partner_id} may order: {', '.join(offering)}")


@partner_app.command("set-products")
def partner_set_products(
    partner_id: str,
    product: Annotated[list[str], typer.Option("--product", help="Product in its catalog (repeatable)")],
    db: DbOption = None,
) -> None:
    """Replace a partner's catalog."""
    services = _services(db)
    try:
        services.partners.set_products(partner_id, product)
    except DomainError as exc:
        raise _fail(exc.message) from exc
    console.print(f"catalog of {partner_id}: {', '.join(sorted(product))}")


@partner_app.command("list")
def partner_list(db: DbOption = None) -> None:
    """List partners with their roles, currencies, catalog and live client ids."""
    services = _services(db)
    table = Table("id", "roles", "currencies", "manager", "products", "client ids")
    for partner, client_ids in services.partners.list_partners():
        table.add_row(
            partner.id, ", ".join(sorted(partner.roles)), ", ".join(sorted(partner.currencies)),
            partner.manager_id or "", ", ".join(sorted(partner.product_ids)), ", ".join(client_ids),
        )  # fmt: skip
    console.print(table)


@credential_app.command("issue")
def credential_issue(
    partner_id: str,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON")] = False,
    db: DbOption = None,
) -> None:
    """Issue a client_id / client_secret pair. The secret is shown this once and stored hashed."""
    services = _services(db)
    try:
        issued = services.partners.issue_credential(partner_id)
    except DomainError as exc:
        raise _fail(exc.message) from exc
    if as_json:
        print(json.dumps({"partner": partner_id, "client_id": issued.client_id, "client_secret": issued.client_secret}))
        return
    console.print(f"client_id:     {issued.client_id}\nclient_secret: {issued.client_secret}")
    console.print("[yellow]Store the secret now: it cannot be shown again.[/yellow]")


@credential_app.command("revoke")
def credential_revoke(client_id: str, db: DbOption = None) -> None:
    """Revoke a credential; its tokens stop working at once."""
    services = _services(db)
    if not services.partners.revoke_credential(client_id):
        raise _fail(f"no live credential {client_id}")
    console.print(f"credential {client_id} revoked")


# -- catalog ------------------------------------------------------------------------------------


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
    """Profiles per state (available, released, downloaded, installed)."""
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


def main() -> None:
    try:
        app()
    except (sa.exc.OperationalError, sa.exc.InterfaceError, DatabaseUnavailable) as exc:
        # An unreachable or misconfigured database is the operator's to fix: one line, not a traceback.
        reason = exc.reason if isinstance(exc, DatabaseUnavailable) else str(exc.orig).strip().splitlines()[0]
        err.print(f"[red]error:[/red] cannot use the database: {reason}")
        raise SystemExit(1) from None
    except ValueError as exc:
        if "unsupported database" not in str(exc):
            raise
        err.print(f"[red]error:[/red] {exc}")
        raise SystemExit(1) from None


# -- mobile lines ---------------------------------------------------------------------------------


@line_app.command("add")
def line_add(
    business_unit: Annotated[str, typer.Argument(help="Business unit id, e.g. CR")],
    msisdn: Annotated[str, typer.Argument(help="The line's number in the business unit's format")],
    plan: Annotated[str | None, typer.Option(help="Start this offering as the line's base Plan")] = None,
    db: DbOption = None,
) -> None:
    """Add a line to a business unit, optionally with an active base plan."""
    services = _services(db)
    try:
        LineAdmin(services.uow_factory).add_line(business_unit, msisdn, plan=plan)
    except DomainError as exc:
        raise _fail(exc.message) from exc
    console.print(f"line {msisdn} added to {business_unit}" + (f" with plan {plan}" if plan else ""))


@line_app.command("show")
def line_show(
    business_unit: Annotated[str, typer.Argument(help="Business unit id, e.g. CR")],
    msisdn: Annotated[str, typer.Argument(help="The line's number")],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON")] = False,
    db: DbOption = None,
) -> None:
    """A line's plans, data plans and add-ons, active and past, with the orders that started them."""
    services = _services(db)
    view = services.lines.line(business_unit, msisdn)
    if view is None:
        raise _fail(f"{msisdn} is not a line of business unit {business_unit}")
    rows = [
        {
            "id": p.id,
            "product": p.product_id,
            "planType": p.plan_type.value,
            "status": "active" if p.active(view.now) else ("pending" if view.now < p.starts_at else "ended"),
            "startDate": p.starts_at.isoformat(),
            "endDate": p.ends_at.isoformat() if p.ends_at else None,
            "order": p.order_id,
        }
        for p in view.products
    ]
    if as_json:
        print(json.dumps({"businessUnit": business_unit, "msisdn": msisdn, "products": rows}, indent=2))
        return
    table = Table("id", "product", "planType", "status", "startDate", "endDate", "order")
    for row in rows:
        table.add_row(*(str(row[key] or "") for key in row))
    console.print(table)


# -- network accesses (onapi-order) ---------------------------------------------------------------


@access_app.command("add-offering")
def access_add_offering(
    product_id: Annotated[str, typer.Argument(help="A product of the catalog (product import)")],
    offering_id: Annotated[str, typer.Argument(help="ON-API offering id, e.g. 1000-1000")],
    name: Annotated[str, typer.Option(help="Display name, e.g. '1000/1000 Mbit/s'")],
    db: DbOption = None,
) -> None:
    """Add an offering of a product to the SP's catalog (then: partner set-offerings)."""
    services = _services(db)
    try:
        AccessAdmin(services.uow_factory).add_offerings([NetworkOffering(product_id, offering_id, name)])
    except sa.exc.IntegrityError as exc:
        raise _fail(f"{product_id}/{offering_id}: unknown product or offering exists already") from exc
    console.print(f"offering {product_id}/{offering_id} added")


@access_app.command("add")
def access_add(
    ref: Annotated[str, typer.Argument(help="The access id COs use (coAccessId)")],
    blocked: Annotated[bool, typer.Option("--blocked", help="Takes no new orders")] = False,
    db: DbOption = None,
) -> None:
    """Add an access of the network."""
    services = _services(db)
    try:
        AccessAdmin(services.uow_factory).add_access(ref, blocked=blocked)
    except DomainError as exc:
        raise _fail(exc.message) from exc
    console.print(f"access {ref} added" + (" (blocked)" if blocked else ""))


@access_app.command("set-state")
def access_set_state(
    ref: str,
    state: Annotated[str, typer.Argument(help="free, active or blocked")],
    db: DbOption = None,
) -> None:
    """Block an access for new orders (or open it again)."""
    services = _services(db)
    try:
        AccessAdmin(services.uow_factory).set_state(ref, AccessState(state))
    except ValueError as exc:
        raise _fail("state must be free, active or blocked") from exc
    except DomainError as exc:
        raise _fail(exc.message) from exc
    console.print(f"access {ref}: {state}")


@access_app.command("show")
def access_show(ref: str, as_json: Annotated[bool, typer.Option("--json", help="Print JSON")] = False,
                db: DbOption = None) -> None:  # fmt: skip
    """An access, its state and the services on it, with the orders that started them."""
    services = _services(db)
    with services.uow_factory(read_only=True) as uow:
        access = uow.accesses.by_ref(ref)
        running = uow.accesses.services_of(access.id) if access is not None else []
    if access is None:
        raise _fail(f"no access {ref}")
    data = {
        "access": access.ref,
        "state": access.state.value,
        "services": [
            {"product": s.product_id, "offering": s.offering_id, "since": s.started_at.isoformat(), "order": s.order_id}
            for s in running
        ],
    }
    if as_json:
        print(json.dumps(data, indent=2))
        return
    console.print(f"access {access.ref}: {access.state.value}")
    table = Table("product", "offering", "since", "order")
    for service in data["services"]:
        table.add_row(*(str(v or "") for v in service.values()))  # type: ignore[union-attr]
    console.print(table)


# -- orders ------------------------------------------------------------------------------------------


@order_app.command("show")
def order_show(
    order_id: Annotated[str, typer.Argument(help="The order's id, or its number (ORD-...)")],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON")] = False,
    db: DbOption = None,
) -> None:
    """An order of any API: what it is, for whom (identity numbers masked), how it ended, its history."""
    services = _services(db)
    with services.uow_factory(read_only=True) as uow:
        order = uow.orders.get(order_id) or uow.orders.get_by_reference(order_id)
        events = uow.orders.events(order.id) if order is not None else []
        customer = uow.partners.get_customer(order.customer_id) if order and order.customer_id else None
    if order is None:
        raise _fail(f"no order {order_id}")
    data: dict[str, Any] = {
        "id": order.id,
        "reference": order.reference,
        "partner": order.partner_id,
        "dialect": order.dialect,
        "operation": order.operation.value,
        "state": order.state.value,
        "subject": f"{order.subject.kind.value} {order.subject.ref}" if order.subject else None,
        "due": order.due_at.isoformat() if order.due_at else None,
        "failure": order.failure_reason,
        "items": [
            {"seq": i.seq, "product": i.product_id, **i.attributes, "state": i.state.value if i.state else None}
            for i in order.items
        ],
        "customer": None
        if customer is None
        else {
            "id": customer.id,
            "name": customer.name,
            "email": mask(customer.email) if customer.email else None,
            "identity": f"{customer.identity.kind} {mask_identity(customer.identity.number)}"
            if customer.identity
            else None,
        },
        "history": [
            {"at": e.at.isoformat(), "state": e.to_state.value, **({"reason": e.reason} if e.reason else {})}
            for e in events
        ],
    }
    if as_json:
        print(json.dumps(data, indent=2))
        return
    for key, value in data.items():
        if key not in ("items", "history", "customer"):
            console.print(f"{key}: {value}")
    console.print(f"customer: {data['customer']}")
    items = Table("seq", "product", "attributes", "state")
    for item in order.items:
        items.add_row(
            str(item.seq), item.product_id, json.dumps(item.attributes), item.state.value if item.state else ""
        )
    console.print(items)
    history = Table("at", "state", "reason")
    for event in events:
        history.add_row(event.at.isoformat(), event.to_state.value, event.reason or "")
    console.print(history)
