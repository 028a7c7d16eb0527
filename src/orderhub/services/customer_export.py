"""Giving a customer a copy of the personal data held about them on request (GDPR art. 15, right of access;
art. 20, portability): `orderhub customer export`.

One read transaction, one state of the database (the service may be placing and fulfilling orders
meanwhile): the customer record and each of their orders, oldest first, with what the partner sent as
orderhub keeps it, what fulfilment made and the order's history. Unmasked, as stored: the document is the
person's copy, for the operator to hand over, so it is never logged. An erased customer's is exported too:
their record without its data and "erased" where their orders held it, which is what is held of them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from orderhub.domain.customers import Customer
from orderhub.domain.order_states import OrderEvent
from orderhub.domain.orders import Order
from orderhub.domain.results import AccessResult, EsimResult, FulfilmentResult, LineResult
from orderhub.services.clock import Clock, utc_now
from orderhub.services.customer_keys import CustomerKey, named_customer
from orderhub.services.ports import UnitOfWorkFactory


@dataclass(frozen=True)
class ExportedOrder:
    order: Order
    history: list[OrderEvent]


@dataclass(frozen=True)
class CustomerExport:
    """What is held about one customer, read at ``exported_at``."""

    exported_at: datetime
    customer: Customer
    orders: list[ExportedOrder]  # oldest first

    def document(self) -> dict[str, Any]:
        """The export as JSON values, members in the order a reader meets them (the same every time)."""
        customer = self.customer
        identity = customer.identity
        return {
            "exportedAt": self.exported_at.isoformat(),
            "partner": customer.partner_id,
            "customer": {
                "id": customer.id,
                "createdAt": customer.created_at.isoformat(),
                "email": customer.email,
                "name": customer.name,
                "identity": None if identity is None else {"kind": identity.kind, "number": identity.number},
                "countryOfResidence": customer.country_of_residence,
                "erasedAt": _time(customer.erased_at),
            },
            "orders": [_order(exported.order, exported.history) for exported in self.orders],
        }


class CustomerExports:
    def __init__(self, uow_factory: UnitOfWorkFactory, *, clock: Clock = utc_now) -> None:
        self._uow = uow_factory
        self._clock = clock

    def export(self, partner_id: str, key: CustomerKey) -> CustomerExport:
        """The partner's customer ``key`` names, with their orders (InvalidInput when there is no such
        partner or customer, in the words `customer erase` uses). Reads only."""
        with self._uow(read_only=True) as uow:
            uow.erasures.read_one_snapshot()
            customer = named_customer(uow, partner_id, key)
            orders = [
                ExportedOrder(order, uow.orders.events(order.id))
                for order_id in uow.erasures.orders_of(customer.id)
                if (order := uow.orders.get(order_id)) is not None
            ]
            return CustomerExport(self._clock(), customer, orders)


def _order(order: Order, history: list[OrderEvent]) -> dict[str, Any]:
    return {
        "id": order.id,
        "api": order.dialect,
        "operation": order.operation.value,
        # The number the partner reads in the APIs that show one (ORD-...), and the ids the partner gave.
        "reference": order.reference,
        "externalId": _external_id(order.request),
        "correlationId": order.correlation_id,
        "state": order.state.value,
        "createdAt": order.created_at.isoformat(),
        "updatedAt": _time(order.updated_at),
        "request": order.request,
        "result": _result(order.result),
        "history": [
            {"at": event.at.isoformat(), "status": event.to_state.value, "reason": event.reason} for event in history
        ],
    }


def _external_id(request: dict[str, Any]) -> str | None:
    # The TMF APIs keep {"businessId", "order": the body}, whose externalId is the partner's own id of the
    # order (migration 0025 indexes it there); the other APIs have none of their own.
    body = request.get("order")
    value = body.get("externalId") if isinstance(body, dict) else None
    return value if isinstance(value, str) else None


def _result(result: FulfilmentResult | None) -> dict[str, Any] | None:
    """What fulfilment made for the customer, as the order keeps it. An eSIM's activation code is left out:
    it is a secret that installs the profile, and the document may travel by e-mail; the ICCID names it."""
    if isinstance(result, EsimResult):
        return {"iccid": result.iccid, "subscriptionIds": list(result.subscription_ids)}
    if isinstance(result, LineResult):
        return {
            "businessUnit": result.business_unit_id,
            "msisdn": result.msisdn,
            "lineProducts": [product for _, product in result.line_products],
        }
    if isinstance(result, AccessResult):
        return {"access": result.access_ref, "services": [service for _, service in result.services]}
    return None


def _time(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()
