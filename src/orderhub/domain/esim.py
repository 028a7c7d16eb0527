"""eSIM ordering: the request, its validation rules, profiles and subscriptions."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from enum import StrEnum

from orderhub.domain.errors import InvalidInput
from orderhub.domain.identifiers import Iccid
from orderhub.domain.orders import Operation

MAX_ACTIVE_SUBSCRIPTIONS_PER_ICCID = 15
MAX_SUBSCRIPTIONS_PER_ORDER = MAX_ACTIVE_SUBSCRIPTIONS_PER_ICCID
# Partners' clocks drift; an activation date this little in the past still counts as "now".
ACTIVATION_CLOCK_SKEW = timedelta(minutes=5)
# Plans are sold for trips and renewals ahead, not for decades: a far date is almost always a typo.
MAX_ACTIVATION_AHEAD = timedelta(days=366)

_EMAIL = re.compile(r"^[^@\s\x00-\x1f\x7f]{1,64}@[^@\s\x00-\x1f\x7f]+\.[^@\s\x00-\x1f\x7f]{2,}$")
_COUNTRY = re.compile(r"^[A-Z]{2}$")


class DeviceType(StrEnum):
    IOT = "iot"
    IOS = "ios"
    ANDROID = "android"


DEVICE_TYPES_BY_OPERATION: dict[Operation, frozenset[DeviceType]] = {
    Operation.NEW_ESIM: frozenset({DeviceType.IOT, DeviceType.IOS, DeviceType.ANDROID}),
    Operation.TOPUP: frozenset({DeviceType.IOS, DeviceType.ANDROID}),
}


class ProfileState(StrEnum):
    """Life of an eSIM profile in inventory; ``released`` means handed to a customer's order."""

    AVAILABLE = "available"
    RESERVED = "reserved"
    RELEASED = "released"
    DOWNLOADED = "downloaded"
    INSTALLED = "installed"


class SubscriptionStatus(StrEnum):
    PENDING = "PENDING"
    ACTIVE = "ACTIVE"
    EXPIRED = "EXPIRED"


@dataclass(frozen=True)
class SubscriptionRequest:
    product_id: str
    price: Decimal | None = None
    currency: str | None = None
    activation_at: datetime | None = None


@dataclass(frozen=True)
class EsimOrderRequest:
    operation: Operation
    customer_email: str
    device_type: str
    subscriptions: tuple[SubscriptionRequest, ...]
    country_code: str | None = None
    country_of_residence: str | None = None
    iccid: str | None = None


@dataclass(frozen=True)
class Subscription:
    id: str
    iccid: str
    order_id: str
    product_id: str
    starts_at: datetime
    ends_at: datetime | None

    def status(self, now: datetime) -> SubscriptionStatus:
        # Derived from the dates rather than stored, so it can never go stale.
        if now < self.starts_at:
            return SubscriptionStatus.PENDING
        if self.ends_at is not None and now >= self.ends_at:
            return SubscriptionStatus.EXPIRED
        return SubscriptionStatus.ACTIVE


def subscription_period(
    activation_at: datetime | None, validity_days: int | None, now: datetime
) -> tuple[datetime, datetime | None]:
    starts_at = max(activation_at, now) if activation_at else now
    ends_at = starts_at + timedelta(days=validity_days) if validity_days else None
    return starts_at, ends_at


def validate_esim_order(request: EsimOrderRequest, *, now: datetime, supported_currencies: Iterable[str]) -> None:
    """Every rule of an eSIM order that needs no stored data. Raises ``InvalidInput`` naming the field."""
    currencies = frozenset(supported_currencies)
    if not _EMAIL.match(request.customer_email):
        raise InvalidInput("customer.email must be a valid email address", field="input.customer.email")
    if request.country_code is not None and not _COUNTRY.match(request.country_code):
        raise InvalidInput("countryCode must be an ISO 3166-1 alpha-2 code", field="input.countryCode")
    if request.country_of_residence is not None and not _COUNTRY.match(request.country_of_residence):
        raise InvalidInput(
            "customer.countryOfResidence must be an ISO 3166-1 alpha-2 code",
            field="input.customer.countryOfResidence",
        )
    allowed_devices = DEVICE_TYPES_BY_OPERATION[request.operation]
    if request.device_type not in allowed_devices:
        names = ", ".join(sorted(allowed_devices))
        raise InvalidInput(f"device.type must be one of {names} for {request.operation}", field="input.device.type")
    if not request.subscriptions:
        raise InvalidInput("subscriptions must hold at least one subscription", field="input.subscriptions")
    if len(request.subscriptions) > MAX_SUBSCRIPTIONS_PER_ORDER:
        raise InvalidInput(
            f"at most {MAX_SUBSCRIPTIONS_PER_ORDER} subscriptions per order", field="input.subscriptions"
        )
    for index, subscription in enumerate(request.subscriptions):
        _validate_subscription(subscription, f"input.subscriptions[{index}]", now, currencies)
    if request.operation is Operation.TOPUP:
        if not request.iccid:
            raise InvalidInput("esim.iccid is mandatory for a top-up", field="input.esim.iccid")
        try:
            Iccid.parse(request.iccid)
        except ValueError as exc:
            raise InvalidInput(f"esim.iccid is not an ICCID: {exc}", field="input.esim.iccid") from exc


def _validate_subscription(
    subscription: SubscriptionRequest, where: str, now: datetime, currencies: frozenset[str]
) -> None:
    if subscription.activation_at is not None and subscription.activation_at < now - ACTIVATION_CLOCK_SKEW:
        raise InvalidInput("activationDate can not be a date in the past", field=f"{where}.activationDate")
    if subscription.activation_at is not None and subscription.activation_at > now + MAX_ACTIVATION_AHEAD:
        raise InvalidInput(
            f"activationDate can be at most {MAX_ACTIVATION_AHEAD.days} days ahead", field=f"{where}.activationDate"
        )
    if subscription.price is not None and subscription.currency is None:
        raise InvalidInput("price must be sent together with currency", field=f"{where}.currency")
    if subscription.currency is not None and subscription.price is None:
        raise InvalidInput("currency must be sent together with price", field=f"{where}.price")
    if subscription.price is not None and subscription.price < 0:
        raise InvalidInput("price must not be negative", field=f"{where}.price")
    if subscription.currency is not None and subscription.currency not in currencies:
        supported = ", ".join(sorted(currencies)) or "none"
        raise InvalidInput(
            f"currency {subscription.currency} is not supported for this partner (supported: {supported})",
            field=f"{where}.currency",
        )
