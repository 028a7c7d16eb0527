"""One database transaction with the repositories bound to it."""

from __future__ import annotations

from contextlib import AbstractContextManager

import sqlalchemy as sa

from orderhub.services.ports import DatabaseUnavailable, DuplicateKey
from orderhub.store.access_repository import AccessRepository
from orderhub.store.change_repository import CancellationRepository, ListenerRepository
from orderhub.store.erasure_repository import ErasureRepository
from orderhub.store.errors import is_unavailable
from orderhub.store.fastsql import FastSql
from orderhub.store.inventory_repository import CatalogRepository, ProfileRepository, SubscriptionRepository
from orderhub.store.line_repository import LineRepository
from orderhub.store.operator_command_repository import OperatorCommandRepository
from orderhub.store.order_repository import OrderRepository
from orderhub.store.partner_repository import PartnerRepository
from orderhub.store.rate_limit_repository import RateLimitRepository
from orderhub.store.sign_in_repository import SignInRepository


class BoundUnitOfWork:
    """The repositories over a connection whose transaction someone else begins and ends."""

    def __init__(self, connection: sa.Connection) -> None:
        self._connection = connection
        self.orders = OrderRepository(connection)
        self.partners = PartnerRepository(connection)
        self.erasures = ErasureRepository(connection)
        self.catalog = CatalogRepository(connection)
        self.profiles = ProfileRepository(connection)
        self.subscriptions = SubscriptionRepository(connection)
        self.lines = LineRepository(connection)
        self.cancellations = CancellationRepository(connection)
        self.listeners = ListenerRepository(connection)
        self.accesses = AccessRepository(connection)
        self.sign_ins = SignInRepository(connection)
        self.rate_limits = RateLimitRepository(connection)
        self.operator_commands = OperatorCommandRepository(connection)

    def __enter__(self) -> BoundUnitOfWork:
        return self

    def __exit__(self, *exc_info: object) -> None:
        return None

    def commit(self) -> None:
        # The owner of the transaction commits (see store.runtime); work never commits by itself.
        return None

    def savepoint(self) -> AbstractContextManager[None]:
        return FastSql(self._connection).savepoint()


class SqlUnitOfWork(BoundUnitOfWork):
    """``with uow: ...; uow.commit()`` — anything not committed is rolled back on exit.

    Used by the operator paths (CLI, imports); the request path goes through ``store.runtime``.
    """

    def __init__(self, engine: sa.Engine, *, read_only: bool = False) -> None:
        self._engine = engine
        self._read_only = read_only

    def __enter__(self) -> SqlUnitOfWork:
        connection = self._engine.connect()
        try:
            if self._read_only:
                connection = connection.execution_options(read_only=True)
            self._transaction = connection.begin()
        except BaseException as exc:
            # __exit__ does not run when __enter__ raises: give the connection back here, or it leaks.
            connection.close()
            if isinstance(exc, sa.exc.DBAPIError) and is_unavailable(exc):
                raise DatabaseUnavailable(f"database unavailable: {exc.orig}") from exc
            raise
        super().__init__(connection)
        return self

    def __exit__(self, *exc_info: object) -> None:
        exc = exc_info[1] if len(exc_info) > 1 else None
        try:
            if self._transaction.is_active:
                self._transaction.rollback()
        finally:
            self._connection.close()
        if isinstance(exc, sa.exc.DBAPIError) and is_unavailable(exc):
            raise DatabaseUnavailable(f"database unavailable: {exc.orig}") from exc

    def commit(self) -> None:
        try:
            self._transaction.commit()
        except sa.exc.IntegrityError as exc:
            raise DuplicateKey(str(exc.orig)) from exc


class SqlUnitOfWorkFactory:
    def __init__(self, engine: sa.Engine) -> None:
        self.engine = engine

    def __call__(self, *, read_only: bool = False) -> SqlUnitOfWork:
        return SqlUnitOfWork(self.engine, read_only=read_only)
