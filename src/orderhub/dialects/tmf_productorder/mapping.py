"""Orders as this API shows them: the seed's response shape, dates in the business unit's local time."""

from __future__ import annotations

import copy
from datetime import datetime
from typing import Any

from orderhub.domain.order_states import OrderState
from orderhub.domain.orders import Order
from orderhub.domain.results import LineResult
from orderhub.domain.zones import zone

DIALECT = "tmf-productorder"
DEFAULT_CATEGORY = "esimPrepaid"

# TMF622 order states; SCHEDULED is TMF's "pending" (accepted, waiting for its time).
STATE: dict[OrderState, str] = {
    OrderState.ACCEPTED: "acknowledged",
    OrderState.SCHEDULED: "pending",
    OrderState.HELD: "held",
    OrderState.IN_PROGRESS: "inProgress",
    OrderState.COMPLETED: "completed",
    OrderState.PARTIAL: "partial",
    OrderState.FAILED: "failed",
    OrderState.REJECTED: "rejected",
    OrderState.ASSESSING_CANCELLATION: "assessingCancellation",
    OrderState.PENDING_CANCELLATION: "pendingCancellation",
    OrderState.CANCELLED: "cancelled",
}

_DESCRIPTION: dict[OrderState, str] = {
    OrderState.ACCEPTED: "Order received; provisioning has not finished yet",
    OrderState.SCHEDULED: "Order received; provisioning is scheduled",
    OrderState.HELD: "Order held",
    OrderState.IN_PROGRESS: "Provisioning in progress",
    OrderState.COMPLETED: "Product provisioned successfully",
    OrderState.PARTIAL: "Some products could not be provisioned",
    OrderState.REJECTED: "Order rejected",
    OrderState.ASSESSING_CANCELLATION: "Cancellation requested",
    OrderState.PENDING_CANCELLATION: "Cancellation in progress",
    OrderState.CANCELLED: "Order cancelled",
}


def stored_request(business_unit_id: str, echo: dict[str, Any]) -> dict[str, Any]:
    """What the order keeps of the request: the body as echoed, and the business unit of the path."""
    return {"businessId": business_unit_id, "order": echo}


def business_unit_of(order: Order) -> str | None:
    value = order.request.get("businessId")
    return value if isinstance(value, str) else None


def local_time(moment: datetime, timezone: str) -> str:
    """``2026-11-24T02:15:00.123-06:00``: milliseconds and the business unit's offset, as in the seed.
    The zone was read when the unit was (services.line_orders.LineService): an answer given after the
    order's commit needs no file."""
    return moment.astimezone(zone(timezone)).isoformat(timespec="milliseconds")


def order_resource(order: Order, timezone: str) -> dict[str, Any]:
    echo = copy.deepcopy(order.request["order"])
    for seq, item in enumerate(echo["productOrderItem"], start=1):
        item.pop("productOffering", None)  # TMF622's place for it; this API's is the product's
        product = item["product"]
        # As the API's own response example: the items echo only the MSISDN characteristic.
        product["productCharacteristic"] = [c for c in product["productCharacteristic"] if c.get("name") == "MSISDN"]
        # A delivered item's product is now a product instance on the line: its id lets support find it.
        product_id = order.result.product_of(seq) if isinstance(order.result, LineResult) else None
        if product_id is not None:
            item["product"] = {"id": product_id, **product}
    body: dict[str, Any] = {
        "id": order.reference,
        # Required here; an order placed through TMF622 may have none: the seed's default then.
        "category": echo.get("category", DEFAULT_CATEGORY),
        "orderDate": local_time(order.created_at, timezone),
        "state": STATE[order.state],
        "description": order.failure_reason if order.state is OrderState.FAILED else _DESCRIPTION[order.state],
        "productOrderItem": echo["productOrderItem"],
    }
    if "relatedParty" in echo:
        body["relatedParty"] = echo["relatedParty"]
    if echo.get("requestedStartDate") is not None:  # as sent: what the order waited (or waits) for
        body["requestedStartDate"] = echo["requestedStartDate"]
    return body
