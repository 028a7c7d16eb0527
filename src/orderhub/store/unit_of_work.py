"""One database transaction with the repositories bound to it."""

from __future__ import annotations

import sqlalchemy as sa

from orderhub.services.ports import DuplicateKey
from orderhub.store.inventory_repository import CatalogRepository, ProfileRepository, SubscriptionRepository
from orderhub.store.order_repository import OrderRepository
from orderhub.store.partner_repository import PartnerRepository


class SqlUnitOfWork:
    """``with uow: ...; uow.commit()`` — anything not committed is rolled back on exit."""

    def __init__(self, engine: sa.Engine, *, read_only: bool = False) -> None:
        self._engine = engine
        self._read_only = read_only

    def __enter__(self) -> SqlUnitOfWork:
        connection = self._engine.connect()
        if self._read_only:
            connection = connection.execution_options(read_only=True)
        self._connection = connection
        self._transaction = connection.begin()
        self.orders = OrderRepository(connection)
        self.partners = PartnerRepository(connection)
        self.catalog = CatalogRepository(connection)
        self.profiles = ProfileRepository(connection)
        self.subscriptions = SubscriptionRepository(connection)
        return self

    def __exit__(self, *exc_info: object) -> None:
        try:
            if self._transaction.is_active:
                self._transaction.rollback()
        finally:
            self._connection.close()

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
