"""Order intake and order queries: the use cases every dialect calls."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from orderhub.domain.customers import Customer
from orderhub.domain.errors import (
    CustomerMustExist,
    DomainError,
    EmailAndIccidDoNotMatch,
    IdempotencyConflict,
    OrderNotFound,
    ProductNotFound,
    SubscriptionLimitReached,
)
from orderhub.domain.esim import (
    MAX_ACTIVE_SUBSCRIPTIONS_PER_ICCID,
    EsimOrderRequest,
    validate_esim_order,
)
from orderhub.domain.identifiers import new_id
from orderhub.domain.orders import Operation, Order, OrderEvent, OrderItem, OrderState
from orderhub.domain.partners import Principal
from orderhub.metrics import ORDERS_ACCEPTED
from orderhub.services.clock import Clock, utc_now
from orderhub.services.ports import Database, DuplicateKey, UnitOfWork


@dataclass(frozen=True)
class PlacedOrder:
    order_id: str
    # True when an earlier request with the same idempotency key already placed this order.
    replayed: bool
    # Set when the order was fulfilled in the transaction that accepted it (see FulfilNow).
    finished: tuple[Operation, OrderState] | None = None


# Fulfils a just-accepted order in the accepting transaction when it can (FulfilmentService.fulfil_in).
FulfilNow = Callable[[UnitOfWork, Order, datetime], "tuple[Operation, OrderState] | None"]


@dataclass(frozen=True)
class OrderView:
    order: Order
    events: list[OrderEvent]


def request_fingerprint(body: Any) -> str:
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


class OrderingService:
    def __init__(
        self,
        db: Database,
        *,
        clock: Clock = utc_now,
        on_accepted: Callable[[], None] = lambda: None,
        fulfil_now: FulfilNow | None = None,
        after_fulfilled: Callable[[tuple[Operation, OrderState]], None] = lambda _finished: None,
    ) -> None:
        self._db = db
        self._clock = clock
        # Wakes an in-process worker so a new order does not wait for the next poll.
        self._on_accepted = on_accepted
        # Without it (an API process next to separate workers) orders wait for a worker.
        self._fulfil_now = fulfil_now
        self._after_fulfilled = after_fulfilled

    async def place_esim_order(
        self,
        principal: Principal,
        request: EsimOrderRequest,
        *,
        raw_request: dict[str, Any],
        dialect: str,
        idempotency_key: str | None = None,
        correlation_id: str | None = None,
    ) -> PlacedOrder:
        """Validate and store an order; returns once it is durably committed (or was placed before)."""
        now = self._clock()
        fingerprint = request_fingerprint(raw_request)
        try:
            validate_esim_order(request, now=now, supported_currencies=principal.partner.currencies)
        except DomainError:
            # A retry answers what the first attempt got, even if the request would no longer pass
            # validation now (its activation date may have passed in the meantime).
            if idempotency_key is not None:
                replay = await self._db.read(lambda uow: self._replay(uow, principal, idempotency_key, fingerprint))
                if replay is not None:
                    return replay
            raise

        def place(uow: UnitOfWork) -> PlacedOrder:
            if idempotency_key is not None:
                # Checked inside the write, before the business rules: a retry gets the first answer.
                replay = self._replay(uow, principal, idempotency_key, fingerprint)
                if replay is not None:
                    return replay
            order = self._new_esim_order(
                uow, principal, request, now, dialect=dialect, raw_request=raw_request, correlation_id=correlation_id
            )
            uow.orders.add(order)
            if idempotency_key is not None:
                uow.partners.add_idempotency_key(principal.partner_id, idempotency_key, fingerprint, order.id, now)
            finished = self._fulfil_now(uow, order, now) if self._fulfil_now is not None else None
            return PlacedOrder(order.id, replayed=False, finished=finished)

        try:
            placed = await self._db.write(place)
        except DuplicateKey:
            # Another process committed the same key first (possible on PostgreSQL).
            if idempotency_key is None:
                raise
            replay = await self._db.read(lambda uow: self._replay(uow, principal, idempotency_key, fingerprint))
            if replay is None:
                raise
            return replay
        if not placed.replayed:
            ORDERS_ACCEPTED.labels(dialect, request.operation.value).inc()
            if placed.finished is not None:
                self._after_fulfilled(placed.finished)
            else:
                self._on_accepted()
        return placed

    @staticmethod
    def _replay(uow: UnitOfWork, principal: Principal, key: str, fingerprint: str) -> PlacedOrder | None:
        stored = uow.partners.get_idempotency_key(principal.partner_id, key)
        if stored is None:
            return None
        if stored.request_hash != fingerprint:
            raise IdempotencyConflict(
                "Idempotency-Key was already used with a different request", field="Idempotency-Key"
            )
        return PlacedOrder(stored.order_id, replayed=True)

    def _new_esim_order(
        self,
        uow: UnitOfWork,
        principal: Principal,
        request: EsimOrderRequest,
        now: datetime,
        *,
        dialect: str,
        raw_request: dict[str, Any],
        correlation_id: str | None,
    ) -> Order:
        partner = principal.partner
        for index, subscription in enumerate(request.subscriptions):
            # A partner's products exist in the catalog (a foreign key says so) and are never deleted.
            if subscription.product_id not in partner.product_ids:
                raise ProductNotFound(
                    f"product {subscription.product_id} is not in your product catalog",
                    field=f"input.subscriptions[{index}].product_id",
                )
        target_iccid = None
        if request.operation is Operation.TOPUP:
            # A top-up may target any customer the caller can see (an account manager: its resellers').
            customer = uow.partners.find_customer(principal.visible_partner_ids, request.customer_email)
            assert request.iccid is not None
            if customer is None:
                raise CustomerMustExist(
                    f"no customer with email {request.customer_email}", field="input.customer.email"
                )
            profile = uow.profiles.get(request.iccid)
            if profile is None or profile.customer_id != customer.id:
                raise EmailAndIccidDoNotMatch(
                    "esim.iccid does not belong to the customer with this email", field="input.esim.iccid"
                )
            active = uow.subscriptions.count_unexpired(request.iccid, now)
            pending = uow.orders.count_open_items_for_iccid(request.iccid, Operation.TOPUP)
            if active + pending + len(request.subscriptions) > MAX_ACTIVE_SUBSCRIPTIONS_PER_ICCID:
                raise SubscriptionLimitReached(
                    f"an eSIM holds at most {MAX_ACTIVE_SUBSCRIPTIONS_PER_ICCID} active subscriptions "
                    f"({active} active, {pending} more from top-ups in progress)",
                    field="input.esim.iccid",
                )
            target_iccid = request.iccid
        else:
            customer = uow.partners.find_customer([partner.id], request.customer_email)
        if customer is None:
            customer = Customer(
                id=new_id(),
                partner_id=partner.id,
                email=request.customer_email,
                country_of_residence=request.country_of_residence,
                created_at=now,
            )
            uow.partners.add_customer(customer)
        items = [
            OrderItem(
                seq=seq,
                product_id=s.product_id,
                price=s.price,
                currency=s.currency,
                activation_at=s.activation_at,
            )
            for seq, s in enumerate(request.subscriptions, start=1)
        ]
        return Order.accept(
            now=now,
            id=new_id(),
            partner_id=partner.id,
            dialect=dialect,
            operation=request.operation,
            customer_id=customer.id,
            items=items,
            target_iccid=target_iccid,
            request=raw_request,
            correlation_id=correlation_id,
        )

    async def get_order(self, principal: Principal, order_id: str) -> OrderView:
        def load(uow: UnitOfWork) -> OrderView:
            order = uow.orders.get(order_id)
            # Unknown and someone else's answer alike, so order ids cannot be probed.
            if order is None or not principal.can_see(order.partner_id):
                raise OrderNotFound(f"order {order_id} not found", field="id")
            return OrderView(order, uow.orders.events(order_id))

        return await self._db.read(load)
