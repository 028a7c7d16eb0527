"""Orders, cancellations, listeners and events as TMF622 v4 shows them (dates in UTC with Z)."""

from __future__ import annotations

import copy
from typing import Any

from orderhub.dialects.tmf_productorder.dates import read_date_time, utc
from orderhub.dialects.tmf_productorder.mapping import STATE
from orderhub.domain.changes import Cancellation, CancellationState, Listener
from orderhub.domain.order_states import EventKind, OrderState
from orderhub.domain.orders import ItemState, Order
from orderhub.domain.results import LineResult
from orderhub.services.hub import PendingEvent

DIALECT = "tmf622"
PREFIX = "/tmf-api/productOrderingManagement/v4"

# An item's state follows its order's: items are provisioned together, in one transaction.
_ITEM_STATE: dict[OrderState, str] = {
    OrderState.ACCEPTED: "acknowledged",
    OrderState.SCHEDULED: "pending",
    OrderState.HELD: "held",
    OrderState.IN_PROGRESS: "inProgress",
    OrderState.COMPLETED: "completed",
    OrderState.PARTIAL: "failed",
    OrderState.FAILED: "failed",
    OrderState.REJECTED: "rejected",
    OrderState.ASSESSING_CANCELLATION: "assessingCancellation",
    OrderState.PENDING_CANCELLATION: "pendingCancellation",
    OrderState.CANCELLED: "cancelled",
}
_ITEM_ENDED = {ItemState.DELIVERED: "completed", ItemState.FAILED: "failed"}
# TMF622's name of each kind of event in an order's history.
EVENT_TYPES = {
    EventKind.CREATED: "ProductOrderCreateEvent",
    EventKind.STATE_CHANGED: "ProductOrderStateChangeEvent",
    EventKind.CHANGED: "ProductOrderAttributeValueChangeEvent",
    EventKind.DELETED: "ProductOrderDeleteEvent",
    EventKind.CANCELLATION_REQUESTED: "CancelProductOrderCreateEvent",
    EventKind.CANCELLATION_DECIDED: "CancelProductOrderStateChangeEvent",
}
# TMF622 v4's other event types: a listener may choose them, and never gets one, since orderhub never asks
# a partner for information (accepted so an integration written for the whole standard can register).
NEVER_SENT_EVENT_TYPES = (
    "ProductOrderInformationRequiredEvent",
    "CancelProductOrderInformationRequiredEvent",
)
_CANCELLATION_STATE = {CancellationState.DONE: "done", CancellationState.REFUSED: "terminatedWithError"}


def _dates_in_utc(body: dict[str, Any]) -> None:
    """The date-times a partner sent, as every date is shown (UTC, milliseconds, ``Z``), however they
    were written: kept as sent, they came back in the sender's offset. The requested start date is the
    one asked for, also once it has passed or was removed (a merge-patch's null), not when it fell due."""
    for name in ("requestedStartDate", "requestedCompletionDate"):
        if name in body:
            body[name] = _in_utc(body[name])
    if isinstance(body.get("note"), list):
        body["note"] = [
            {**note, "date": _in_utc(note["date"])} if isinstance(note, dict) and "date" in note else note
            for note in body["note"]
        ]


def _in_utc(value: Any) -> Any:
    """``value`` in UTC if it is a date-time with its offset (what the API took), else as it is."""
    if not isinstance(value, str):
        return value
    try:
        moment = read_date_time(value)
    except ValueError:
        return value
    return value if moment.tzinfo is None else utc(moment)


def order_href(base_url: str, reference: str) -> str:
    return f"{base_url}{PREFIX}/productOrder/{reference}"


def order_resource(order: Order, base_url: str) -> dict[str, Any]:
    """The ProductOrder (an event's: the order as it was right after the event, ``Order.as_at``)."""
    shown = order.state
    echo = copy.deepcopy(order.request.get("order", {}))
    items = echo.pop("productOrderItem", [])
    result = order.result if isinstance(order.result, LineResult) else None
    for (seq, item), ordered in zip(enumerate(items, start=1), order.items, strict=False):
        # An item follows its order until the order ends; then it says how it itself ended.
        ended = shown.is_final and ordered.state is not None
        item["state"] = _ITEM_ENDED[ordered.state] if ended and ordered.state else _ITEM_STATE[shown]
        product = item.setdefault("product", {})
        item.setdefault("productOffering", product.get("productOffering", {}))
        product_id = result.product_of(seq) if result is not None and shown.is_final else None
        if product_id is not None:
            item["product"] = {"id": product_id, **product}
    assert order.reference is not None
    body: dict[str, Any] = {
        "id": order.reference,
        "href": order_href(base_url, order.reference),
        **{name: value for name, value in echo.items() if name != "relatedParty"},
        "orderDate": utc(order.created_at),
        "state": STATE[shown],
        "productOrderItem": items,
        "relatedParty": echo.get("relatedParty", []),
        "@type": "ProductOrder",
    }
    _dates_in_utc(body)
    if shown.is_final and order.updated_at is not None:
        body["completionDate"] = utc(order.updated_at)
    if shown is OrderState.CANCELLED and order.updated_at is not None:
        body["cancellationDate"] = utc(order.updated_at)
    if shown is OrderState.CANCELLED and order.failure_reason:
        body["cancellationReason"] = order.failure_reason
    if shown is OrderState.FAILED and order.failure_reason:
        body["description"] = order.failure_reason
    return body


def project(resource: dict[str, Any], fields: tuple[str, ...] | None) -> dict[str, Any]:
    """``fields=`` (TMF630): only the attributes asked for, and always what identifies the resource."""
    if fields is None:
        return resource
    keep = {"id", "href", *fields}
    return {name: value for name, value in resource.items() if name in keep}


def cancellation_resource(cancellation: Cancellation, order: Order, base_url: str) -> dict[str, Any]:
    assert order.reference is not None
    body: dict[str, Any] = {
        "id": cancellation.id,
        "href": f"{base_url}{PREFIX}/cancelProductOrder/{cancellation.id}",
        "state": _CANCELLATION_STATE[cancellation.state],
        "productOrder": {
            "id": order.reference,
            "href": order_href(base_url, order.reference),
            "@referredType": "ProductOrder",
        },
        "creationDate": utc(cancellation.created_at),
        "@type": "CancelProductOrder",
    }
    if cancellation.reason is not None:
        body["cancellationReason"] = cancellation.reason
    if cancellation.requested_for is not None:
        body["requestedCancellationDate"] = utc(cancellation.requested_for)
    if cancellation.effective_at is not None:
        body["effectiveCancellationDate"] = utc(cancellation.effective_at)
    if cancellation.refusal is not None:
        body["errorMessage"] = cancellation.refusal
    return body


def listener_resource(listener: Listener) -> dict[str, Any]:
    return {"id": listener.id, "callback": listener.callback, "query": listener.query}


def event_envelope(pending: PendingEvent, base_url: str) -> dict[str, Any]:
    """The TMF event: the order as it was right after the change the event records. An event that
    changes no state (a PATCH, the customer's data erased: domain.erasure) changed what the order shows.
    A cancellation request's events show the request as GET /cancelProductOrder/{id} does: decided when
    it is made, it is the same in both."""
    event = pending.event
    if pending.cancellation is not None:
        body = {"cancelProductOrder": cancellation_resource(pending.cancellation, pending.order, base_url)}
    else:
        body = {"productOrder": order_resource(pending.order, base_url)}
    return {
        "eventId": str(pending.event_id),
        "eventTime": utc(event.at),
        "eventType": EVENT_TYPES[event.kind],
        "event": body,
    }
