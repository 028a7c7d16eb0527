"""What fulfilment asks of a provisioner: the seam between the fulfilment use cases and the
provisioners (fulfilment/provisioners.py) that turn an order into lines and subscriptions."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from orderhub.domain.lines import Line, LineProduct, Offering
from orderhub.domain.orders import Order
from orderhub.domain.results import FulfilmentResult
from orderhub.services.ports import UnitOfWork


@dataclass(frozen=True)
class Provisioned:
    """What was made; ``failed_items`` (item seq -> reason) could not be delivered (the order ends
    partial, or failed when no item was delivered)."""

    result: FulfilmentResult
    failed_items: Mapping[int, str] = field(default_factory=dict)


@dataclass(frozen=True)
class NotProvisioned:
    """A business reason the order cannot be fulfilled; the order fails with it."""

    reason: str


Outcome = Provisioned | NotProvisioned


@dataclass(frozen=True)
class LineReadings:
    """What a line order's intake read, under the line's lock, in the transaction that accepts it: the
    same transaction fulfilling the order need not read it again (three statements fewer, each a round
    trip on PostgreSQL)."""

    line: Line
    offerings: tuple[Offering, ...]
    base_plan: LineProduct | None


@dataclass(frozen=True)
class AccessReadings:
    """What a service activation's intake read under the access's lock, in the transaction that accepts
    it (see LineReadings). Not the access itself: fulfilment reads it again, and a provisioner handed
    no readings reads it with its lock (its state once the lock is held: store.AccessRepository)."""

    access_id: str
    active_products: frozenset[str]


@dataclass(frozen=True)
class EsimReadings:
    """The validity of an eSIM order's products as the caller's principal holds them
    (domain.partners.Principal): the transaction fulfilling the order need not read the catalog (one
    statement fewer, a round trip on PostgreSQL)."""

    validity_days: Mapping[str, int | None]


# What an intake may hand to the provisioner of an order fulfilled in the transaction that accepts it.
IntakeReadings = LineReadings | AccessReadings | EsimReadings


class Provisioner(Protocol):
    # True when provisioning touches only orderhub's own database and takes microseconds: then an
    # order can be fulfilled in the very transaction that accepts it. A provisioner that calls out
    # (an SM-DP+, an operator's network) says False and always runs in the worker.
    runs_inline: bool

    def provision(
        self,
        uow: UnitOfWork,
        order: Order,
        now: datetime,
        *,
        first_run: bool = False,
        readings: IntakeReadings | None = None,
    ) -> Outcome:
        """Provision ``order``; run again for it, find what an earlier run made instead of making it twice.
        ``first_run``: the order was placed in this very transaction, so no earlier run can have made
        anything, and the look for it is skipped (an order fulfilled at intake); ``readings``: what its
        intake read in this transaction, at the same instant ``now``, if it handed anything over."""
        ...
