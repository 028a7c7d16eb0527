"""Erasing a customer's personal data on request (GDPR art. 17): `orderhub customer erase`.

One transaction: the customer record loses its e-mail, name, identity and country (it stays, with its id,
partner and creation time, for the orders that refer to it); each of their orders keeps what the partner
sent without the customer's data (domain.erasure), its history notes the erasure and its version moves
(every API renders it anew); the snapshots its events keep for listeners are erased alike, and words
given with its changes (a cancellation's reason) that name the customer, and the ids the partner sent with
them (an order's correlation id, an idempotency key that stands for it) that do, replaced by a keyed hash
(domain.erasure.id_eraser). Orders, their
states, items, prices, eSIMs, lines and subscriptions stay: accounting and the partner's integration need
them. Orders not final yet are refused: provisioning does not read the customer's data, but each step it
takes, a partner's change (TMF622 PATCH) or a cancellation writes the order again from what it read, and
one under way as the erasure commits would write the data back.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from orderhub.domain.customers import Customer
from orderhub.domain.erasure import Mentions, customer_values, id_eraser, note_erasure
from orderhub.domain.errors import CannotChange
from orderhub.domain.order_states import OrderSnapshot
from orderhub.domain.orders import Order
from orderhub.services.clock import Clock, utc_now
from orderhub.services.customer_keys import CustomerKey, named_customer
from orderhub.services.ports import UnitOfWork, UnitOfWorkFactory
from orderhub.services.records import StoredReason

# An API's way to erase its customer from a request it kept: the request without them, and the values it
# took out (looked for in the rest of the request, domain.erasure.Mentions). Each dialect has its own.
EraseCustomer = Callable[[dict[str, Any]], tuple[dict[str, Any], list[str]]]
# Orders named in a refusal; past this many they are counted (one line a person reads).
MAX_ORDERS_NAMED = 10
# What a caller requires of the customer and their orders before they are erased, checked in the erasure's
# own transaction once the customer is held (services.customer_retention: still inactive); raising, it
# leaves everything as it was.
Precondition = Callable[[UnitOfWork, Customer, list[Order]], None]


@dataclass(frozen=True)
class Erasure:
    """What an erasure did, or would do (``dry_run``)."""

    customer: Customer  # as it was before: its data is for the caller to show masked, or not at all
    orders: list[str]  # the orders whose kept request held the customer's data (numbers, ids where none)
    snapshots: int  # event snapshots that held it
    reasons: int  # reasons given in words with their changes (events, cancellations) that named the customer
    dry_run: bool
    ids: int = 0  # correlation ids and idempotency keys the partner sent that named the customer


@dataclass
class _Plan:
    orders: list[tuple[Order, dict[str, Any]]] = field(default_factory=list)
    snapshots: list[tuple[int, OrderSnapshot]] = field(default_factory=list)
    reasons: list[tuple[StoredReason, str]] = field(default_factory=list)
    correlation_ids: list[tuple[str, str]] = field(default_factory=list)  # order id, the id in its place
    keys: list[tuple[str, str, str]] = field(default_factory=list)  # partner id, key, the key in its place
    refusal_keys: list[str] = field(default_factory=list)  # the customer's partner's, dropped


class CustomerErasure:
    def __init__(
        self, uow_factory: UnitOfWorkFactory, erasers: Mapping[str, EraseCustomer], *, clock: Clock = utc_now
    ) -> None:
        self._uow = uow_factory
        # By dialect name: where each API's orders keep their customer.
        self._erasers = erasers
        self._clock = clock

    def erase(
        self, partner_id: str, key: CustomerKey, *, dry_run: bool = False, precondition: Precondition | None = None
    ) -> Erasure:
        """Erases the customer ``key`` names among the partner's (InvalidInput when there is none, CannotChange
        while an order of theirs is not final); ``dry_run``: says what it would erase, and changes nothing.
        Run again on an erased customer (``customer_id``), it erases what an order may still hold."""
        with self._uow(read_only=dry_run) as uow:
            customer = named_customer(uow, partner_id, key)
            if not dry_run:
                uow.erasures.lock_customer(customer.id)
            orders = [order for order_id in uow.erasures.orders_of(customer.id) if (order := uow.orders.get(order_id))]
            if precondition is not None:
                precondition(uow, customer, orders)
            _refuse_open(customer, orders)
            plan = self._plan(uow, customer, orders)
            erasure = Erasure(customer, [order.reference or order.id for order, _ in plan.orders],
                              len(plan.snapshots), len(plan.reasons), dry_run,
                              len(plan.correlation_ids) + len(plan.keys) + len(plan.refusal_keys))  # fmt: skip
            if dry_run:
                return erasure
            now = self._clock()
            for order, request in plan.orders:
                note_erasure(order, request, now)
                uow.orders.update_request(order)
                uow.orders.save(order)  # appends the note; each write moves the order's version
            for event_id, snapshot in plan.snapshots:
                uow.erasures.replace_snapshot(event_id, snapshot)
            for reason, text in plan.reasons:
                uow.erasures.replace_reason(reason, text)
            for order_id, correlation_id in plan.correlation_ids:
                uow.erasures.replace_correlation_id(order_id, correlation_id)
            for partner_id, sent, new_key in plan.keys:
                uow.erasures.replace_idempotency_key(partner_id, sent, new_key)
            for sent in plan.refusal_keys:
                uow.erasures.drop_refusal_key(customer.partner_id, sent)
            if customer.erased_at is None:
                uow.erasures.erase_customer(customer.id, now)
            uow.commit()
            return erasure

    def _plan(self, uow: UnitOfWork, customer: Customer, orders: list[Order]) -> _Plan:
        """Each order's request and each event snapshot without the customer's data: first where its API
        keeps the customer, then wherever what was found there (and what the record holds) stands."""
        found = customer_values(customer)
        requests: list[tuple[Order, dict[str, Any]]] = []
        snapshots: list[tuple[int, OrderSnapshot, OrderSnapshot]] = []
        for order in orders:
            erase = self._erasers.get(order.dialect)
            request, values = erase(order.request) if erase is not None else (order.request, [])
            requests.append((order, request))
            found += values
            for event_id, snapshot in uow.erasures.snapshots_of(order.id):
                kept, values = erase(snapshot.request) if erase is not None else (snapshot.request, [])
                snapshots.append((event_id, snapshot, replace(snapshot, request=kept)))
                found += values
        mentions = Mentions(found)
        plan = _Plan()
        # A partner may send the customer's e-mail as an order's X-Correlation-ID or Idempotency-Key. Ids
        # must stay ids (a key unique per partner, a correlation id that still tells its requests apart
        # from others'): each one is replaced by a keyed hash of it, the same for the same id.
        erased_id = id_eraser()
        for order, request in requests:
            request = mentions.erase_in(request)
            cid = order.correlation_id
            named_in_id = cid is not None and mentions.holds(cid)
            if cid is not None and named_in_id:
                plan.correlation_ids.append((order.id, erased_id(cid)))
            if request != order.request or named_in_id:
                plan.orders.append((order, request))  # its history notes the erasure, its version moves
        keys = uow.erasures.idempotency_keys_of([order.id for order in orders]) if mentions else []
        plan.keys = [(partner_id, key, erased_id(key)) for partner_id, key in keys if mentions.holds(key)]
        # A refusal kept under its Idempotency-Key (onapi-order's REJECTED) stands for no order and names no
        # customer: found by its key alone. Dropped whole, not rewritten: its fingerprint derives from the
        # refused body, customerDetails included, and nothing needs it once its key is gone.
        refusals = uow.erasures.refusal_keys_of(customer.partner_id) if mentions else []
        plan.refusal_keys = [key for key in refusals if mentions.holds(key)]
        for event_id, before, after in snapshots:
            after = replace(after, request=mentions.erase_in(after.request))
            if after != before:
                plan.snapshots.append((event_id, after))
        # Words a partner or an operator gave with a change (a cancellation's reason) may name the customer.
        for reason in uow.erasures.reasons_of([order.id for order in orders]) if mentions else []:
            text = mentions.erase_in(reason.text)
            if text != reason.text:
                plan.reasons.append((reason, text))
        return plan


def _refuse_open(customer: Customer, orders: list[Order]) -> None:
    open_orders = [order.reference or order.id for order in orders if not order.state.is_final]
    if not open_orders:
        return
    named = ", ".join(open_orders[:MAX_ORDERS_NAMED])
    if len(open_orders) > MAX_ORDERS_NAMED:
        named += f" and {len(open_orders) - MAX_ORDERS_NAMED} more"
    raise CannotChange(
        f"customer {customer.id} has orders not final yet ({len(open_orders)}): {named}; while an order is open, "
        "what changes it may write the data back; erase once they are final (orderhub order show <order>; "
        "orderhub order cancel <order> --reason ... calls off one not started)"
    )
