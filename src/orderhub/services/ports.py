"""What the services need from the store: units of work holding the repositories, and a database that
runs work inside them.

The store implements this seam; services depend on it, never on SQLAlchemy.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Protocol, TypeVar

from orderhub.services.repositories import (
    AccessRepository,
    CancellationRepository,
    CatalogRepository,
    LineRepository,
    ListenerRepository,
    OrderRepository,
    PartnerRepository,
    ProfileRepository,
    SubscriptionRepository,
)
from orderhub.services.safety_repositories import (
    ErasureRepository,
    OperatorCommandRepository,
    RateLimitRepository,
    SignInRepository,
)

T = TypeVar("T")


class Refusal(Exception):
    """An answer a write gives by raising, as a DomainError does: not a fault, so the store keeps no
    traceback of it (store.write_batches)."""


class DuplicateKey(Refusal):
    """A row with the same unique key was committed by someone else first."""


class Contention(Exception):
    """Another transaction held what the work needed past the store's brief wait for it (PostgreSQL: a
    row lock, a deadlock), so a savepoint undid the work: nothing was wrong with it, and it may simply run
    again. Raised by the store's savepoints in place of the driver's error."""


class DatabaseUnavailable(Exception):
    """The database could not be used within the configured bound (locked, read-only, missing, down).

    Nothing was written for the request that got it, except when the database stopped answering in the
    middle of a write (PostgreSQL): that write may still commit once it answers again, which a retry
    with the same idempotency key finds. The caller may retry after ``retry_after`` seconds.
    """

    def __init__(self, reason: str, *, retry_after: int = 1) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retry_after = retry_after


class UnitOfWork(Protocol):
    # Read-only members, so that a store's own repository classes satisfy them.
    @property
    def orders(self) -> OrderRepository: ...
    @property
    def partners(self) -> PartnerRepository: ...
    @property
    def erasures(self) -> ErasureRepository: ...
    @property
    def catalog(self) -> CatalogRepository: ...
    @property
    def profiles(self) -> ProfileRepository: ...
    @property
    def subscriptions(self) -> SubscriptionRepository: ...
    @property
    def lines(self) -> LineRepository: ...
    @property
    def cancellations(self) -> CancellationRepository: ...
    @property
    def listeners(self) -> ListenerRepository: ...
    @property
    def accesses(self) -> AccessRepository: ...
    @property
    def sign_ins(self) -> SignInRepository: ...
    @property
    def rate_limits(self) -> RateLimitRepository: ...
    @property
    def operator_commands(self) -> OperatorCommandRepository: ...

    def __enter__(self) -> UnitOfWork: ...

    def __exit__(self, *exc_info: object) -> None: ...

    def commit(self) -> None: ...

    def savepoint(self) -> AbstractContextManager[None]:
        """A nested transaction: an exception inside undoes only what was done inside."""
        ...


class UnitOfWorkFactory(Protocol):
    def __call__(self, *, read_only: bool = False) -> UnitOfWork: ...


Work = Callable[[UnitOfWork], T]


class Database(Protocol):
    """Runs a function inside one unit of work: the hot paths' way to the store.

    ``write`` work may share its transaction with other writes (group commit): it must not commit, and
    it returns only after the transaction that holds it is durably committed. An exception raised by
    the work undoes that work alone. Both raise ``DatabaseUnavailable`` when the database cannot be
    used within the configured bound.
    """

    async def read(self, work: Work[T]) -> T: ...

    async def read_statement(self, work: Work[T]) -> T:
        """``read`` for work that runs a single statement: one statement sees one consistent state on
        its own, so no transaction is begun around it where the store can skip one."""
        ...

    async def read_long(self, work: Work[T]) -> T:
        """``read`` for work whose time grows with the data (a page of a partner's orders, counted): it
        never runs on the event loop, where it would hold every other request for as long."""
        ...

    async def write(self, work: Work[T]) -> T: ...

    async def write_statement(self, work: Work[T]) -> T:
        """``write`` for work on rows every process changes often (a shared counter), each statement
        committed on its own where the store can (PostgreSQL), outside the group commit: in a batch of
        orders a row's lock would be held until the batch commits, and other processes' batches would
        wait for it. Work of one statement, or of statements that each stand alone."""
        ...

    def read_now(self, work: Work[T]) -> T:
        """``read`` for threads that are not the event loop (the worker, the CLI)."""
        ...

    def write_now(self, work: Work[T]) -> T:
        """``write`` for threads that are not the event loop (the worker, the CLI)."""
        ...

    def changed(self) -> bool:
        """Whether anyone committed since this thread last asked: a cheap way for a worker to notice
        orders placed by another process (False when the store cannot tell; then the poll does)."""
        ...

    async def config_version(self) -> int:
        """A number that changes whenever partners, credentials or the catalog change (cache keys)."""
        ...

    def config_version_at_hand(self) -> int | None:
        """``config_version`` when the store can tell it without a wait on the event loop, else None."""
        ...
