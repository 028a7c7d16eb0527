"""The repositories of what protects partners and their customers: sign-ins counted against guessing,
rate limits shared by every process, the erasure of a customer's personal data and the operators'
audit trail (the store implements them; a unit of work holds them beside those of ``repositories``)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Protocol

from orderhub.domain.order_states import OrderSnapshot
from orderhub.services.records import (
    Charged,
    CommandsWanted,
    InactiveCustomer,
    OperatorCommand,
    RequestsToAdd,
    SignInLookUp,
    StoredReason,
    Window,
)


class ErasureRepository(Protocol):
    """What erasing a customer's personal data reads and rewrites besides their orders
    (services.customer_erasure), which customers a retention policy erases (services.customer_retention),
    and what exporting it reads (services.customer_export)."""

    def read_one_snapshot(self) -> None:
        """The transaction's reads all see one state of the database, and it writes nothing; first thing
        in the transaction, before any read."""
        ...

    def lock_customer(self, customer_id: str) -> None:
        """Hold the customer until the transaction ends: an order being placed for them commits first."""
        ...

    def orders_of(self, customer_id: str) -> list[str]:
        """The ids of the customer's orders, deleted ones included."""
        ...

    def inactive_customers(self, partner_id: str | None, since: datetime) -> list[InactiveCustomer]:
        """The customers (of the partner; of every partner when None) not erased, created before ``since``,
        none of whose orders changed or noted anything in its history at or after it, oldest first;
        those with an order not final yet too, said so. Reads each order once, whatever their number."""
        ...

    def last_noted(self, order_ids: Sequence[str]) -> datetime | None:
        """When the latest event of the orders' histories happened (None: the orders have none)."""
        ...

    def snapshots_of(self, order_id: str) -> list[tuple[int, OrderSnapshot]]:
        """(event id, snapshot) of each of the order's events that keeps one."""
        ...

    def replace_snapshot(self, event_id: int, snapshot: OrderSnapshot) -> None: ...
    def reasons_of(self, order_ids: Sequence[str]) -> list[StoredReason]:
        """The reasons given in words with the orders' events and cancellations."""
        ...

    def replace_reason(self, reason: StoredReason, text: str) -> None: ...
    def idempotency_keys_of(self, order_ids: Sequence[str]) -> list[tuple[str, str]]:
        """(partner id, key) of each idempotency key that stands for one of the orders."""
        ...

    def refusal_keys_of(self, partner_id: str) -> list[str]:
        """The partner's idempotency keys that keep a refusal (onapi-order's REJECTED): no order, no customer."""
        ...

    def replace_correlation_id(self, order_id: str, correlation_id: str) -> None: ...
    def replace_idempotency_key(self, partner_id: str, key: str, new_key: str) -> None: ...
    def drop_refusal_key(self, partner_id: str, key: str) -> None: ...
    def erase_customer(self, customer_id: str, now: datetime) -> None:
        """Removes their e-mail, name, identity and country, and notes when; id, partner and created stay."""
        ...


class SignInRepository(Protocol):
    """Failed sign-ins, per key (services.sign_ins), and the sources each client id signed in from (by
    the key of the client id at the source), shared by every process on the database."""

    def look_up(
        self, client_id: str, keys: Sequence[str], window: Window, pair: str, known_since: datetime
    ) -> SignInLookUp:
        """The credential of ``client_id``, each key's failures within ``window`` and whether ``pair``
        signed in after ``known_since``, read by one statement (one round trip)."""
        ...

    def charge(self, keys: Sequence[str], at: datetime, window: Window, known_since: datetime) -> Charged:
        """A failure of each key at ``at``, added before the attempt's hash, then each key's failures within
        ``window``, these included, counted by a statement of its own; failures from before its start, and
        sign-ins from before ``known_since``, go, a bounded number at a time, so that the tables hold
        about one window's failures and the sign-ins of that long."""
        ...

    def take_back(self, ids: Sequence[int]) -> None:
        """The charge's rows go (an attempt refused)."""
        ...

    def signed_in(self, ids: Sequence[int], pair: str, client_id: str, at: datetime) -> None:
        """The charge's rows go, and ``pair`` and the credential of ``client_id`` signed in at ``at`` (its
        secret right; an earlier time leaves a later one): on PostgreSQL in one statement."""
        ...


class RateLimitRepository(Protocol):
    """Per-partner token buckets (onapi-order's rate limit, services.rate_limits), shared by every
    process on the database. Times are seconds since the epoch."""

    def add_requests(
        self, added: Sequence[RequestsToAdd], now: float, most_minutes: float, clocks_apart: float
    ) -> dict[str, float]:
        """Refills each partner's bucket up to ``now`` at its limit, then adds its requests, keeping at
        most ``most_minutes`` of its limit; each bucket's level (requests not yet refilled) afterwards.
        A bucket dated more than ``clocks_apart`` seconds after ``now`` was dated before the clock was
        set back: it is dated ``now``. One statement, whose row locks last as long as it does."""
        ...

    def delete_idle(self, before: float) -> None:
        """Deletes the buckets no process added to since ``before`` (refilled by then: as good as none)."""
        ...


class OperatorCommandRepository(Protocol):
    """The commands operators ran on the database (services.operator_commands)."""

    def add(self, command: OperatorCommand) -> int:
        """Keeps ``command``; its id in the trail."""
        ...

    def ended(self, command_id: int, at: datetime, exit_code: int) -> bool:
        """Completes the command ``add`` kept when it started; False if the trail has no such command."""
        ...

    def recent(self, since: datetime | None, limit: int, wanted: CommandsWanted) -> list[OperatorCommand]:
        """The newest ``limit`` of those ``wanted`` whose ``at`` is ``since`` or later, newest first."""
        ...
