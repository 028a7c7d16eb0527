"""Network accesses of an open-access network and the services activated on them (ON-API orders)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from orderhub.domain.customers import CustomerDetails
from orderhub.domain.errors import BusinessRefusal
from orderhub.domain.orders import Operation, OrderItem

# ON-API's identifier format (access ids, product and offering ids).
ONAPI_ID = re.compile(r"^[-0-9a-zA-Z.]{1,36}\Z")
OFFERING_ATTRIBUTE = "offeringId"
MAX_SERVICES_PER_ORDER = 10


class AccessState(StrEnum):
    FREE = "free"
    ACTIVE = "active"  # at least one service runs on it
    BLOCKED = "blocked"  # the SP takes no new orders for it (e.g. under repair)


@dataclass(frozen=True)
class Access:
    id: str
    ref: str  # the access id communication operators use (ON-API coAccessId)
    state: AccessState


@dataclass(frozen=True)
class NetworkOffering:
    """A product of the SP's catalog and one of its offerings (e.g. fiber-internet at 250/250)."""

    product_id: str
    offering_id: str
    name: str
    product_name: str = ""


@dataclass(frozen=True)
class AccessService:
    id: str
    access_id: str
    order_id: str | None
    item_seq: int | None
    product_id: str
    offering_id: str
    started_at: datetime


@dataclass(frozen=True)
class ActivationRequest:
    """Services (product + offering) to activate on an access at ``requested_at`` (now if past)."""

    access_ref: str
    services: tuple[tuple[str, str], ...]
    requested_at: datetime
    customer: CustomerDetails | None = None
    operation: Operation = Operation.ACTIVATE_SERVICE


class ActivationRefused(BusinessRefusal):
    """A business refusal the communication operator shows its customer; ``reason`` says which."""

    def __init__(self, reason: RefusalReason, message: str) -> None:
        super().__init__(reason.value, message)
        self.reason = reason


class RefusalReason(StrEnum):
    OFFERING_NOT_AVAILABLE = "offering_not_available"
    ACCESS_NOT_FOUND = "access_not_found"
    ACCESS_BLOCKED = "access_blocked"
    ALREADY_ACTIVE = "already_active"
    ALREADY_ORDERED = "already_ordered"  # another open order activates it on the access


def check_activation(
    request: ActivationRequest,
    *,
    available: frozenset[tuple[str, str]],
    access: Access | None,
    active_products: frozenset[str],
    ordered_products: frozenset[str] = frozenset(),
) -> None:
    """The SP's rules: an offering this CO may order, on a known access that takes orders and does
    not run that product already, nor will through another open order (``ordered_products``)."""
    for product_id, offering_id in request.services:
        if (product_id, offering_id) not in available:
            raise ActivationRefused(
                RefusalReason.OFFERING_NOT_AVAILABLE, f"offering {product_id}/{offering_id} is not available to you"
            )
    if access is None:
        raise ActivationRefused(RefusalReason.ACCESS_NOT_FOUND, f"no access {request.access_ref}")
    if access.state is AccessState.BLOCKED:
        raise ActivationRefused(RefusalReason.ACCESS_BLOCKED, f"access {access.ref} takes no new orders")
    for product_id, _offering in request.services:
        if product_id in active_products:
            raise ActivationRefused(RefusalReason.ALREADY_ACTIVE, f"{product_id} is already active on {access.ref}")
        if product_id in ordered_products:
            raise ActivationRefused(
                RefusalReason.ALREADY_ORDERED, f"{product_id} is already ordered on {access.ref} by an open order"
            )


def offering_of(item: OrderItem) -> str:
    return item.attributes[OFFERING_ATTRIBUTE]
