"""Erasing the customers no longer active, in bulk, under the operator's retention policy (GDPR art. 5(1)(e),
storage limitation): `orderhub customer erase --inactive-since DATE`.

A customer is inactive since a cut-off when they are not erased yet, their record was created before it,
and none of their orders changed (its state, its dates) or noted anything in its history (a partner's
deletion or change of what it sent) at or after it. One of them with an order not final yet is kept, as
`customer erase` refuses them, and counted: an order that never ended is the operator's to look at.

The store selects them in one read (ErasureRepository.inactive_customers). Each is then erased as
`customer erase --id` erases one (CustomerErasure), in a transaction of its own: a serving database waits
for one customer at a time, never for the whole run, and a run stopped half-way keeps what it erased (run
again, it erases the rest). That transaction reads the customer and their orders again once it holds the
customer: one erased or active since the selection (an order placed meanwhile) is skipped and counted.

A run may be long (a few milliseconds a customer: hundreds of thousands take many minutes), so it tells a
RetentionWatch what it selected and each customer it went through, and asks it between two customers
whether to stop: the customers erased so far stay erased, and the run says how many they were.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, time
from functools import partial
from typing import Protocol

from orderhub.domain.customers import Customer
from orderhub.domain.errors import CannotChange, InvalidInput
from orderhub.domain.orders import Order
from orderhub.services.clock import Clock, utc_now
from orderhub.services.customer_erasure import CustomerErasure, EraseCustomer, Precondition
from orderhub.services.customer_keys import CustomerKey
from orderhub.services.partners import existing_partner
from orderhub.services.ports import UnitOfWork, UnitOfWorkFactory
from orderhub.services.records import InactiveCustomer


@dataclass
class Retention:
    """What a run erased, or would erase (``dry_run``)."""

    since: datetime
    partner_id: str | None  # None: every partner's customers
    dry_run: bool
    customers: list[str] = field(default_factory=list)  # erased (or to be), oldest first; ids alone
    kept: int = 0  # inactive, but an order of theirs is not final yet
    skipped: int = 0  # erased, or active, since they were selected
    # Where their data was erased, summed over them (services.customer_erasure.Erasure)
    orders: int = 0
    snapshots: int = 0
    reasons: int = 0
    ids: int = 0
    selected: int = 0  # inactive and not kept: the customers the run goes through
    stopped: bool = False  # the run stopped before it went through them all (RetentionWatch.stop_requested)

    @property
    def gone_through(self) -> int:
        return len(self.customers) + self.skipped


class RetentionWatch(Protocol):
    """Shows a run's progress as it goes (the command: a progress bar, or a line every so often)."""

    def selected(self, done: Retention) -> None:
        """The customers are selected: ``done.selected`` to go through, ``done.kept`` kept."""

    def went_through(self, done: Retention) -> None:
        """One more customer erased, or skipped (``done`` counts them so far)."""

    def stop_requested(self) -> bool:
        """Asked before each customer: True stops the run there, every customer erased so far kept so."""
        return False


class _NoLongerInactive(Exception):
    """The selected customer was erased, or was active, by the time their erasure held them."""


class CustomerRetention:
    def __init__(
        self, uow_factory: UnitOfWorkFactory, erasers: Mapping[str, EraseCustomer], *, clock: Clock = utc_now
    ) -> None:
        self._uow = uow_factory
        self._erasure = CustomerErasure(uow_factory, erasers, clock=clock)
        self._clock = clock

    def inactive(self, partner_id: str | None, since: datetime) -> list[InactiveCustomer]:
        """The customers inactive since ``since`` (of the partner; of every partner when None), those kept
        for an order not final among them. InvalidInput: no such partner, or ``since`` later than now."""
        if since > self._clock():
            # A cut-off in the future is a typo: every customer active until now would be erased.
            raise InvalidInput(
                f"--inactive-since {shown_since(since)} is later than now: it would erase customers active today; "
                "give the retention policy's cut-off, a date in the past",
                field="inactive_since",
            )
        with self._uow(read_only=True) as uow:
            uow.erasures.read_one_snapshot()
            if partner_id is not None:
                existing_partner(uow, partner_id)
            return uow.erasures.inactive_customers(partner_id, since)

    def erase_inactive(
        self, partner_id: str | None, since: datetime, *, dry_run: bool = False, watch: RetentionWatch | None = None
    ) -> Retention:
        """Erases each customer inactive since ``since`` but those with an order not final; ``dry_run``:
        says which it would erase, and changes nothing."""
        found = self.inactive(partner_id, since)
        selected = [customer for customer in found if not customer.orders_not_final]
        done = Retention(since, partner_id, dry_run, kept=len(found) - len(selected), selected=len(selected))
        if watch is not None:
            watch.selected(done)
        if dry_run:
            done.customers = [customer.id for customer in selected]
            return done
        self.erase_selected(selected, done, watch)
        return done

    def erase_selected(
        self, selected: Sequence[InactiveCustomer], done: Retention, watch: RetentionWatch | None = None
    ) -> None:
        """Erases each of ``selected`` still inactive since ``done.since``, one transaction each, and adds
        what it did to ``done``; stops early when ``watch`` asks it to (``done.stopped``)."""
        still_inactive = partial(_still_inactive, done.since)
        for customer in selected:
            if watch is not None and watch.stop_requested():
                done.stopped = True
                return
            self._erase_one(customer, done, still_inactive)
            if watch is not None:
                watch.went_through(done)

    def _erase_one(self, customer: InactiveCustomer, done: Retention, still_inactive: Precondition) -> None:
        try:
            erased = self._erasure.erase(
                customer.partner_id, CustomerKey(customer_id=customer.id), precondition=still_inactive
            )
        except (_NoLongerInactive, CannotChange):  # CannotChange: an order placed meanwhile is not final
            done.skipped += 1
            return
        done.customers.append(customer.id)
        done.orders += len(erased.orders)
        done.snapshots += erased.snapshots
        done.reasons += erased.reasons
        done.ids += erased.ids


def _still_inactive(since: datetime, uow: UnitOfWork, customer: Customer, orders: list[Order]) -> None:
    """The selection's rule (ErasureRepository.inactive_customers) on what the erasure read, holding the
    customer: an order placed, changed or noted since the selection, or an erasure meanwhile, shows here."""
    # Read anew: on PostgreSQL the erasure read the customer before it held them, and another erasure may
    # have committed in between (READ COMMITTED: this statement sees it).
    now = uow.partners.get_customer(customer.id)
    if now is None or now.erased_at is not None:
        raise _NoLongerInactive(customer.id)
    noted = uow.erasures.last_noted([order.id for order in orders]) if orders else None
    times = [customer.created_at, *(order.updated_at or order.created_at for order in orders)]
    if max(times + ([noted] if noted is not None else [])) >= since:
        raise _NoLongerInactive(customer.id)


def shown_since(at: datetime) -> str:
    """The cut-off as the operator would write it: a day's start in UTC as its date, else its UTC time."""
    at = at.astimezone(UTC)
    return at.date().isoformat() if at.time() == time() else at.isoformat(timespec="seconds")
