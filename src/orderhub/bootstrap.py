"""Wires settings, store, services and the worker together: one place, used by the API and the CLI."""

from __future__ import annotations

import functools
import logging
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import sqlalchemy as sa

from orderhub.domain.callbacks import CallbackAddresses
from orderhub.fulfilment.hub_dispatcher import HubDispatcher
from orderhub.fulfilment.provisioners import default_provisioners
from orderhub.fulfilment.worker import Worker
from orderhub.services.access_orders import AccessQueries
from orderhub.services.auth import AuthService
from orderhub.services.catalog import CatalogService
from orderhub.services.fulfilment import FulfilmentService
from orderhub.services.hub import HubService, PendingEvent, RenderEvent
from orderhub.services.intakes import default_intakes
from orderhub.services.inventory import InventoryService
from orderhub.services.line_orders import LineService
from orderhub.services.order_changes import OrderChanges
from orderhub.services.ordering import OrderingService
from orderhub.services.partners import PartnerAdmin
from orderhub.services.ports import DatabaseUnavailable
from orderhub.services.rate_limits import DatabaseBuckets, RateLimiter
from orderhub.settings import Settings
from orderhub.store import migrate
from orderhub.store.database import checkpoint_sqlite, create_engine, sqlite_path
from orderhub.store.runtime import SqlDatabase
from orderhub.store.sole_dispatcher import SoleDispatcherLock
from orderhub.store.unit_of_work import SqlUnitOfWorkFactory
from orderhub.store.write_refusals import postgres_write_refusal

log = logging.getLogger("orderhub")


@dataclass
class Services:
    settings: Settings
    engine: sa.Engine
    database: SqlDatabase
    uow_factory: SqlUnitOfWorkFactory
    auth: AuthService
    ordering: OrderingService
    catalog: CatalogService
    inventory: InventoryService
    partners: PartnerAdmin
    lines: LineService
    changes: OrderChanges
    hub: HubService
    accesses: AccessQueries
    # Delivers order events to partners' listeners; runs wherever the worker runs.
    hub_dispatcher: HubDispatcher
    fulfilment: FulfilmentService
    worker: Worker

    def migrate(self) -> migrate.Migrated:
        """Migrates the database forward; ``migrate.SchemaNewer`` when a newer orderhub migrated it."""
        return migrate.upgrade(self.engine)

    def migrate_unless_newer(self) -> None:
        """For the service and the worker: migrates a database that is behind; runs on one a newer orderhub
        migrated (a rolling upgrade, or a rollback of the code) without touching it, and says so once.
        DatabaseUnavailable when PostgreSQL would refuse its writes (store.write_refusals)."""
        try:
            self.migrate()
        except migrate.SchemaNewer as exc:
            log.warning("%s; running on it without migrating", exc)
        if self.engine.dialect.name == "postgresql":
            # A database that answers but refuses every write (a standby, privileges revoked) is the
            # operator's to fix, as one that does not answer is: one line at start, not a server whose
            # every order and sign-in is refused.
            with self.engine.connect() as connection:
                refusal = postgres_write_refusal(connection)
            if refusal is not None:
                raise DatabaseUnavailable(refusal)

    def new_rate_limiter(self) -> RateLimiter:
        """The per-partner rate limiter of one application: on PostgreSQL each partner's bucket is shared
        with every other API process through the database; on SQLite, with its one API process, it is
        this process's alone and writes nothing (a write a second would queue for the orders' lock)."""
        if self.database.is_sqlite:
            return RateLimiter()
        return RateLimiter(DatabaseBuckets(self.database), sync_seconds=self.settings.rate_limit_sync_seconds)

    def close(self) -> None:
        """Closes every connection; on SQLite the WAL is then checkpointed into the database file, so
        that after a clean stop the file alone holds every order."""
        self.database.close()
        self.engine.dispose()
        try:
            checkpoint_sqlite(self.settings.database_url)
        except sqlite3.Error as exc:  # another process still reading: its last close checkpoints
            log.warning("the database file could not be checkpointed at stop: %s", exc)


def _event_renderer(settings: Settings) -> RenderEvent:
    """The event body of the dialect that has a hub (TMF622), with links to this service's address."""
    base_url = settings.public_url.rstrip("/") or f"http://{settings.host}:{settings.port}"

    def render(pending: PendingEvent) -> dict[str, Any]:
        return _hub_dialect_renderer()(pending, base_url)

    return render


@functools.cache
def _hub_dialect_renderer() -> Callable[[PendingEvent, str], dict[str, Any]]:
    # Looked up when the first event is sent: the dialects bring the web framework with them, which the
    # CLI's commands (migrate, partners, imports) would otherwise load for nothing.
    from orderhub.dialects import DIALECTS

    (render_event,) = [dialect.render_event for dialect in DIALECTS if dialect.render_event is not None]
    return render_event


def _sole_dispatcher(database_url: str) -> SoleDispatcherLock | None:
    """SQLite: the lock that tells whether this process alone delivers events from the file."""
    path = sqlite_path(database_url)
    return SoleDispatcherLock(path) if path is not None else None


def build_services(settings: Settings) -> Services:
    engine = create_engine(
        settings.database_url,
        sqlite_synchronous=settings.sqlite_synchronous,
        busy_timeout_seconds=settings.db_write_timeout_seconds,
        pool_size=settings.db_pool_size,
    )
    uow_factory = SqlUnitOfWorkFactory(engine)
    database = SqlDatabase(
        settings.database_url,
        write_timeout=settings.db_write_timeout_seconds,
        sqlite_synchronous=settings.sqlite_synchronous,
        pool_size=settings.db_pool_size,
        writers=settings.db_writers,
    )
    fulfilment = FulfilmentService(
        database,
        default_provisioners(),
        lease=timedelta(seconds=settings.worker_lease_seconds),
        max_attempts=settings.worker_max_attempts,
        low_stock_threshold=settings.low_stock_threshold,
    )
    worker = Worker(fulfilment, poll_interval=settings.worker_poll_seconds)
    hub = HubService(
        database,
        callbacks=CallbackAddresses.from_setting(settings.hub_allowed_networks),
        first_retry=timedelta(seconds=settings.hub_retry_seconds),
        # Renewed before each delivery, it outlasts one with room to spare for the database's writes.
        lease=timedelta(seconds=2 * settings.hub_delivery_timeout_seconds + 10),
        sole_dispatcher=_sole_dispatcher(settings.database_url),
        render=_event_renderer(settings),
    )
    return Services(
        settings=settings,
        engine=engine,
        database=database,
        uow_factory=uow_factory,
        auth=AuthService(
            database,
            access_ttl=timedelta(seconds=settings.access_token_ttl_seconds),
            refresh_ttl=timedelta(seconds=settings.refresh_token_ttl_seconds),
        ),
        ordering=OrderingService(
            database,
            default_intakes(),
            on_accepted=worker.wake,
            fulfil_now=fulfilment.fulfil_in if settings.fulfil_inline else None,
            after_fulfilled=fulfilment.after_inline,
        ),
        catalog=CatalogService(uow_factory),
        inventory=InventoryService(uow_factory),
        partners=PartnerAdmin(uow_factory),
        lines=LineService(database),
        changes=OrderChanges(database, on_changed=worker.wake),
        hub=hub,
        accesses=AccessQueries(database),
        hub_dispatcher=HubDispatcher(hub, timeout=settings.hub_delivery_timeout_seconds),
        fulfilment=fulfilment,
        worker=worker,
    )
