"""What the services need from the store: a unit of work holding the repositories.

The store implements this seam; services depend on it, never on SQLAlchemy.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from orderhub.store.inventory_repository import (
        CatalogRepository,
        ProfileRepository,
        SubscriptionRepository,
    )
    from orderhub.store.order_repository import OrderRepository
    from orderhub.store.partner_repository import PartnerRepository


class DuplicateKey(Exception):
    """A row with the same unique key was committed by someone else first."""


class UnitOfWork(Protocol):
    orders: OrderRepository
    partners: PartnerRepository
    catalog: CatalogRepository
    profiles: ProfileRepository
    subscriptions: SubscriptionRepository

    def __enter__(self) -> UnitOfWork: ...

    def __exit__(self, *exc_info: object) -> None: ...

    def commit(self) -> None: ...


class UnitOfWorkFactory(Protocol):
    def __call__(self, *, read_only: bool = False) -> UnitOfWork: ...
