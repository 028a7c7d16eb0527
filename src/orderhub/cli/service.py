"""Running orderhub: the service, the worker, migrations, backups, demo data."""

from __future__ import annotations

import errno
import gc
import importlib
import json
import os
import resource
import signal
import threading
import warnings
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from orderhub.bootstrap import build_services
from orderhub.cli.base import (
    DbOption,
    _fail,
    _services,
    app,
    console,
    opened,
)
from orderhub.descriptors import too_few_descriptors
from orderhub.observability import configure_logging
from orderhub.services.auth import verify_secret
from orderhub.services.demo import DemoRefused, demo_credentials, load_demo_data
from orderhub.settings import Settings
from orderhub.store.backup import BackupRefused, backup_sqlite
from orderhub.store.migrate import SchemaNewer


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Interface to listen on (default 127.0.0.1)")] = None,
    port: Annotated[int | None, typer.Option(help="Port (default 8080)")] = None,
    db: DbOption = None,
    demo: Annotated[bool, typer.Option("--demo", help="Load demo partners, catalog and inventory if absent")] = False,
    worker: Annotated[bool, typer.Option("--worker/--no-worker", help="Run the fulfilment worker in-process")] = True,
) -> None:
    """Run the HTTP API (and, by default, the fulfilment worker) after applying migrations."""
    try:
        _serve(host, port, db, demo=demo, worker=worker)
    except Exception as exc:
        # Start-up opens many files (modules, the database, data files, the socket): with too few file
        # descriptors allowed it fails wherever it runs out (the event loop's clean-up may then fail in
        # turn), and the operator needs the cause, not the traceback of the place.
        cause = _descriptors_exhausted(exc)
        if cause == errno.EMFILE:
            raise _too_few_descriptors(resource.getrlimit(resource.RLIMIT_NOFILE)[0]) from None
        if cause == errno.ENFILE:
            message = "too many open files in the system: close other programs' files and start again"
            raise _out_of_files(message) from None
        raise


def _descriptors_exhausted(exc: BaseException | None) -> int | None:
    """EMFILE or ENFILE when ``exc``, or an error it arose from, is running out of file descriptors."""
    while exc is not None:
        if isinstance(exc, OSError) and exc.errno in (errno.EMFILE, errno.ENFILE):
            return exc.errno
        exc = exc.__context__
    return None


def _too_few_descriptors(limit: int) -> typer.Exit:
    return _out_of_files(
        f"too many open files: this process may open {limit}; raise the limit"
        f" (`ulimit -n {RECOMMENDED_OPEN_FILES}`) and start again"
    )


def _out_of_files(message: str) -> typer.Exit:
    # What the failed start held (the event loop's descriptors) is freed first; printing may still load
    # a module, and find no descriptor for it: the line is then written as it is.
    gc.collect()
    # The server's coroutine that never ran would add its own warning at exit.
    warnings.filterwarnings("ignore", "coroutine .* was never awaited", RuntimeWarning)
    try:
        return _fail(message)
    except OSError:
        os.write(2, f"error: {message}\n".encode())
        return typer.Exit(code=1)


# Enough for the database, the worker and some thousands of partners' connections at once.
RECOMMENDED_OPEN_FILES = 65536


def _serve(host: str | None, port: int | None, db: str | None, *, demo: bool, worker: bool) -> None:
    # The web stack is imported by the command that serves it: the other commands start faster.
    from orderhub.api.app import CORRELATION_KEYED_PREFIXES, create_app, not_http_answer
    from orderhub.web.server import run_server
    from orderhub.web.trusted_proxies import trusted_proxies

    # Without a worker in this process, orders are left to the separate workers, not fulfilled at intake.
    settings = Settings.from_env(database_url=db, host=host, port=port, fulfil_inline=None if worker else False)
    forwarded_allow_ips = trusted_proxies()  # refused, like a setting, before the database is touched
    configure_logging(settings.log_level)
    _refuse_too_few_descriptors(settings)
    services = build_services(settings)
    services.migrate_unless_newer()
    # Asked for the demo and refused it (a database with partners of its own): no server, rather than
    # one the operator believes holds the demo.
    try:
        if demo and load_demo_data(services.uow_factory, inventory_size=settings.demo_inventory_size):
            console.print("[green]demo data loaded[/green]: see `orderhub demo-credentials --json`")
    except DemoRefused as exc:
        raise _fail(f"{exc}; not serving") from None
    application = create_app(services, run_worker=worker, close_at_stop=True)
    # Loaded by the address look-up of the bind, which fails with no descriptor left for it and is
    # then logged by uvicorn rather than raised here.
    importlib.import_module("encodings.idna")
    run_server(
        application,
        host=settings.host,
        port=settings.port,
        header_timeout_seconds=settings.request_header_timeout_seconds,
        keep_alive_seconds=settings.keep_alive_seconds,
        not_http=not_http_answer,
        correlation_keyed=CORRELATION_KEYED_PREFIXES,
        log_config=None,
        forwarded_allow_ips=forwarded_allow_ips,
    )


def _refuse_too_few_descriptors(settings: Settings) -> None:
    # A limit that start-up gets through would otherwise make a process that cannot work: the database
    # connections it opens as it needs them, and partners' connections, fail once it serves.
    limit = too_few_descriptors(settings)
    if limit is not None:
        raise _too_few_descriptors(limit)


@app.command("worker")
def run_worker(
    db: DbOption = None,
    host: Annotated[str | None, typer.Option(help="Interface of the operations endpoint (default 127.0.0.1)")] = None,
    port: Annotated[
        int | None,
        typer.Option(help="Port of the operations endpoint: /healthz, /readyz, /metrics (default 0: none)"),
    ] = None,
) -> None:
    """Run the fulfilment worker and the event dispatcher alone (for `serve --no-worker` deployments)."""
    from orderhub.api.worker_ops import worker_ops_endpoint

    settings = Settings.from_env(database_url=db, worker_host=host, worker_port=port)
    configure_logging(settings.log_level)
    _refuse_too_few_descriptors(settings)
    services = build_services(settings)
    services.migrate_unless_newer()
    ops = None
    if settings.worker_port:
        try:
            ops = worker_ops_endpoint(services, settings.worker_host, settings.worker_port)
        except OSError as exc:
            raise _fail(f"cannot listen on {settings.worker_host}:{settings.worker_port}: {exc.strerror}") from None
    stopped = threading.Event()
    # SIGHUP too: a closed terminal or `kill -HUP` stops it as gracefully as SIGTERM (nothing reloads).
    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, lambda *_: stopped.set())
    services.worker.start(watch_database=True)
    services.hub_dispatcher.start()
    if ops is not None:
        ops.start()
    stopped.wait()
    if ops is not None:
        ops.stop()
    services.hub_dispatcher.stop()
    services.worker.stop()
    services.close()


@app.command()
def migrate(db: DbOption = None) -> None:
    """Apply database migrations up to the newest (creates a SQLite database that is not there)."""
    services = opened(build_services(Settings.from_env(database_url=db)))
    try:
        migrated = services.migrate()
    except SchemaNewer as exc:
        raise _fail(str(exc)) from None
    console.print(migrated.describe())


@app.command()
def backup(
    target: Annotated[Path, typer.Argument(help="The new file to write (refused if it exists)")],
    db: DbOption = None,
) -> None:
    """Copy the SQLite database as of one moment, while orderhub keeps serving from it."""
    settings = Settings.from_env(database_url=db)
    try:
        report = backup_sqlite(settings.database_url, target)
    except BackupRefused as exc:
        raise _fail(str(exc)) from None
    console.print(
        escape(f"backup written: {report.target} ({report.orders:,} order{'' if report.orders == 1 else 's'},")
        + f" migration {report.migration},"
        f" {report.size_bytes / 1e6:,.1f} MB, {report.seconds:.1f} s)"
    )


@app.command("demo-data")
def demo_data(db: DbOption = None) -> None:
    """Load the demo partners, catalog and eSIM inventory (once); creates and migrates the database."""
    services = _services(db, create=True)
    try:
        loaded = load_demo_data(services.uow_factory, inventory_size=services.settings.demo_inventory_size)
    except DemoRefused as exc:
        raise _fail(str(exc)) from None
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
