"""Translation between esim-v1 wire shapes and the domain."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from orderhub.domain.catalog import Product
from orderhub.domain.errors import InvalidInput
from orderhub.domain.esim import EsimOrderRequest, ProfileState, SubscriptionRequest
from orderhub.domain.identifiers import ActivationCode
from orderhub.domain.order_states import OrderState
from orderhub.domain.orders import Operation
from orderhub.domain.results import EsimResult
from orderhub.observability import correlation_id
from orderhub.services.inventory import SimView
from orderhub.services.order_commands import OrderView, PlaceOrder

from .wire import OrderRequest, Subscription

DIALECT = "esim-v1"
# RFC 9745 Deprecation header: the deprecated spellings have been deprecated since 2024-01-01.
DEPRECATION_DATE = "@1704067200"

STATUS: dict[OrderState, str] = {
    OrderState.ACCEPTED: "FULFILLING",
    OrderState.SCHEDULED: "FULFILLING",
    OrderState.IN_PROGRESS: "FULFILLING",
    OrderState.HELD: "FULFILLING",
    OrderState.COMPLETED: "COMPLETED",
    OrderState.FAILED: "FAILED",
    OrderState.PARTIAL: "FAILED",
    OrderState.ASSESSING_CANCELLATION: "FULFILLING",
    OrderState.PENDING_CANCELLATION: "FULFILLING",
    # esim-v1 refuses at intake with a 4xx, and has no cancellation; shown as FAILED should one appear.
    OrderState.REJECTED: "FAILED",
    OrderState.CANCELLED: "FAILED",
}

SIM_STATUS = {
    ProfileState.RELEASED: "Released",
    ProfileState.DOWNLOADED: "Downloaded",
    ProfileState.INSTALLED: "Installed",
}

OPERATIONS = {"NEW_ESIM": Operation.NEW_ESIM, "TOPUP": Operation.TOPUP, "TOPUP_ACTIVATION": Operation.TOPUP}


def _utc(moment: datetime | None, index: int) -> datetime | None:
    if moment is None:
        return None
    # A date without an offset is read as UTC, like the API's own examples ("...Z").
    try:
        return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    except OverflowError:  # year 1 at +14:00, year 9999 at -14:00: no such moment in UTC
        raise InvalidInput(
            "is out of the range of dates", field=f"input.subscriptions[{index}].activationDate"
        ) from None


def _product_id(subscription: Subscription, index: int) -> str:
    given = {
        name: value
        for name, value in (
            ("product_id", subscription.product_id),
            ("allowanceId", subscription.allowanceId),
            ("id", subscription.id),
        )
        if value
    }
    if not given:
        raise InvalidInput("product_id is required", field=f"input.subscriptions[{index}].product_id")
    if len(set(given.values())) > 1:
        raise InvalidInput(
            f"{', '.join(given)} name different products; send only product_id",
            field=f"input.subscriptions[{index}].product_id",
        )
    return next(iter(given.values()))


def deprecations(body: object) -> list[str]:
    """The deprecated spellings the partner used, read from the body as sent (so also when another
    field is refused): each one sent, and not null, counts, whatever else the request carries."""
    data = body.get("input") if isinstance(body, dict) else None
    if not isinstance(data, dict):
        return []
    used: list[str] = []
    if data.get("operationType") == "TOPUP_ACTIVATION":
        used.append("operationType=TOPUP_ACTIVATION")
    subscriptions = data.get("subscriptions")
    if isinstance(subscriptions, list) and any(
        isinstance(s, dict) and s.get("allowanceId") is not None for s in subscriptions
    ):
        used.append("subscriptions.allowanceId")
    return used


def deprecation_headers(used: list[str]) -> dict[str, str]:
    """RFC 9745 ``Deprecation`` and the spellings in ``X-Deprecated-Fields``; none if none was used."""
    return {"Deprecation": DEPRECATION_DATE, "X-Deprecated-Fields": ", ".join(used)} if used else {}


def to_domain(wire: OrderRequest) -> EsimOrderRequest:
    """The domain request (``deprecations`` says which deprecated spellings it came in)."""
    data = wire.input
    subscriptions = tuple(
        SubscriptionRequest(
            product_id=_product_id(s, index),
            price=s.price,
            currency=s.currency,
            activation_at=_utc(s.activationDate, index),
        )
        for index, s in enumerate(data.subscriptions)
    )
    return EsimOrderRequest(
        operation=OPERATIONS[data.operationType],
        customer_email=data.customer.email.strip(),
        device_type=data.device.type,
        subscriptions=subscriptions,
        country_code=data.countryCode,
        country_of_residence=data.customer.countryOfResidence,
        iccid=data.esim.iccid if data.esim else None,  # without its surrounding spaces (wire.Esim)
    )


def place_command(request: EsimOrderRequest, body: dict[str, Any], idempotency_key: str | None) -> PlaceOrder[Any]:
    return PlaceOrder(
        request=request,
        raw_request=body,
        dialect=DIALECT,
        idempotency_keys=(idempotency_key,) if idempotency_key is not None else (),
        correlation_id=correlation_id.get(),
    )


def output_resource(result: EsimResult) -> dict[str, Any]:
    """The order's ``output``: the eSIM, its activation code (a new eSIM only) and its subscriptions."""
    output: dict[str, Any] = {"iccid": result.iccid}
    if result.matching_id is not None:
        output["matchingId"] = result.matching_id
    output["smdpUrl"] = result.smdp_address
    if result.matching_id is not None:
        output["lpa_url"] = ActivationCode(result.smdp_address, result.matching_id).lpa_string
    if result.subscription_ids:
        output["subscription_id"] = result.subscription_ids[0]
    if len(result.subscription_ids) > 1:
        output["subscription_ids"] = list(result.subscription_ids)
    return output


def order_resource(view: OrderView) -> dict[str, Any]:
    """The order as ``OrderResource`` renders it with ``exclude_none`` (built directly: this is the
    hottest read, and validating our own output again would double its cost)."""
    order = view.order
    body: dict[str, Any] = {
        "id": order.id,
        "externalId": order.id,
        "status": STATUS[order.state],
        "input": order.request.get("input", {}),
    }
    if order.state is OrderState.COMPLETED and isinstance(order.result, EsimResult):
        body["output"] = output_resource(order.result)
    if order.failure_reason:
        body["failureReason"] = order.failure_reason
    body["createdAt"] = order.created_at
    body["updatedAt"] = order.updated_at or order.created_at
    body["history"] = [
        {"at": event.at, "status": event.to_state.value, "reason": event.reason}
        if event.reason is not None
        else {"at": event.at, "status": event.to_state.value}
        for event in view.events
        if event.cancellation_id is None  # a cancellation request's notes (TMF622's events) are not states
    ]
    return body


def product_resource(product: Product) -> dict[str, Any]:
    return {
        "id": product.id,
        "name": product.name,
        "description": product.description,
        "dataAllowanceMb": product.data_mb,
        "validityDays": product.validity_days,
        "footprint": list(product.footprint),
        "prices": [{"price": amount, "currency": currency} for currency, amount in sorted(product.prices.items())],
    }


def subscription_resources(view: SimView) -> list[dict[str, Any]]:
    return [
        {
            "id": s.id,
            "productId": s.product_id,
            "orderId": s.order_id,
            "status": s.status(view.now).value,
            "startDate": s.starts_at,
            "endDate": s.ends_at,
        }
        for s in view.subscriptions
    ]


def sim_resource(view: SimView) -> dict[str, Any]:
    return {
        "iccid": view.iccid,
        "status": SIM_STATUS.get(view.state, "Released"),
        "smdpUrl": view.smdp_address,
        "subscriptions": subscription_resources(view),
    }
