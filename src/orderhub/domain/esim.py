"""eSIM ordering: the request, its validation rules, profiles and subscriptions."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from enum import StrEnum

from orderhub.domain.countries import country_code_valid
from orderhub.domain.customers import email_valid
from orderhub.domain.errors import (
    CustomerMustExist,
    EmailAndIccidDoNotMatch,
    InvalidInput,
    ProductNotFound,
    SubscriptionLimitReached,
)
from orderhub.domain.identifiers import Iccid
from orderhub.domain.order_states import MAX_DATE_AHEAD
from orderhub.domain.orders import Operation

MAX_ACTIVE_SUBSCRIPTIONS_PER_ICCID = 15
MAX_SUBSCRIPTIONS_PER_ORDER = MAX_ACTIVE_SUBSCRIPTIONS_PER_ICCID
# Partners' clocks drift; an activation date this little in the past still counts as "now".
ACTIVATION_CLOCK_SKEW = timedelta(minutes=5)


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


# A released profile's life as the SM-DP+ reports it, in order: its download, then its installation.
_REPORTED_PROGRESS = (ProfileState.RELEASED, ProfileState.DOWNLOADED, ProfileState.INSTALLED)


def profile_report_problem(current: ProfileState, reported: ProfileState) -> str | None:
    """Why a profile in ``current`` cannot be recorded as ``reported``, or None (the same state again
    is a repeated notification, and fine)."""
    if current not in _REPORTED_PROGRESS:
        return "the profile has not been released to a customer yet"
    if reported not in _REPORTED_PROGRESS:
        # A profile handed to a customer is theirs for good: back in stock it would be offered again,
        # refused by the assignment ledger, and fail every order that drew it.
        return f"a released profile cannot become {reported.value} again; it belongs to a customer"
    if _REPORTED_PROGRESS.index(reported) < _REPORTED_PROGRESS.index(current):
        # A late or replayed notification must not undo a later one: the partner would see an
        # installed eSIM go back to downloaded.
        return f"the profile is already {current.value}; it goes released, downloaded, installed, never back"
    return None


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
    """Every rule of an eSIM order that needs no stored data. Raises ``InvalidInput`` naming the field
    by its neutral path (``customer.email``, ``items[0].price``, ``subject.iccid``...); each dialect
    renders that path in its own spelling."""
    currencies = frozenset(supported_currencies)
    if not email_valid(request.customer_email):
        raise InvalidInput("must be a valid email address", field="customer.email")
    if request.country_code is not None and not country_code_valid(request.country_code):
        raise InvalidInput("must be an ISO 3166-1 alpha-2 code", field="country_code")
    if request.country_of_residence is not None and not country_code_valid(request.country_of_residence):
        raise InvalidInput("must be an ISO 3166-1 alpha-2 code", field="customer.country_of_residence")
    allowed_devices = DEVICE_TYPES_BY_OPERATION[request.operation]
    if request.device_type not in allowed_devices:
        names = ", ".join(sorted(allowed_devices))
        raise InvalidInput(f"must be one of {names} for {request.operation}", field="device.type")
    if not request.subscriptions:
        raise InvalidInput("must hold at least one subscription", field="items")
    if len(request.subscriptions) > MAX_SUBSCRIPTIONS_PER_ORDER:
        raise InvalidInput(f"at most {MAX_SUBSCRIPTIONS_PER_ORDER} subscriptions per order", field="items")
    for index, subscription in enumerate(request.subscriptions):
        _validate_subscription(subscription, f"items[{index}]", now, currencies)
    if request.operation is Operation.TOPUP:
        if not request.iccid:
            raise InvalidInput("the eSIM's ICCID is mandatory for a top-up", field="subject.iccid")
        try:
            Iccid.reference(request.iccid)
        except ValueError as exc:
            raise InvalidInput(f"is not an ICCID: {exc}", field="subject.iccid") from exc


def _validate_subscription(
    subscription: SubscriptionRequest, where: str, now: datetime, currencies: frozenset[str]
) -> None:
    if subscription.activation_at is not None and subscription.activation_at < now - ACTIVATION_CLOCK_SKEW:
        raise InvalidInput("can not be a date in the past", field=f"{where}.activation_at")
    if subscription.activation_at is not None and subscription.activation_at > now + MAX_DATE_AHEAD:
        raise InvalidInput(f"can be at most {MAX_DATE_AHEAD.days} days ahead", field=f"{where}.activation_at")
    if subscription.price is not None and subscription.currency is None:
        raise InvalidInput("a price must be sent together with its currency", field=f"{where}.currency")
    if subscription.currency is not None and subscription.price is None:
        raise InvalidInput("a currency must be sent together with a price", field=f"{where}.price")
    if subscription.price is not None and subscription.price < 0:
        raise InvalidInput("must not be negative", field=f"{where}.price")
    if subscription.currency is not None and subscription.currency not in currencies:
        supported = ", ".join(sorted(currencies)) or "none"
        raise InvalidInput(
            f"{subscription.currency} is not supported for this partner (supported: {supported})",
            field=f"{where}.currency",
        )


def check_products_sold(
    request: EsimOrderRequest, partner_products: frozenset[str], other_kinds: frozenset[str] = frozenset()
) -> None:
    """Every subscription names an eSIM data product of the partner's catalog. ``other_kinds``: those of
    its products that are line offerings or network products, which an eSIM profile does not fulfil."""
    for index, subscription in enumerate(request.subscriptions):
        if subscription.product_id not in partner_products:
            raise ProductNotFound(
                f"product {subscription.product_id} is not in your product catalog",
                field=f"items[{index}].product_id",
            )
        if subscription.product_id in other_kinds:
            raise ProductNotFound(
                f"product {subscription.product_id} is not an eSIM data product", field=f"items[{index}].product_id"
            )


def check_topup(
    request: EsimOrderRequest,
    *,
    customer_found: bool,
    profile_owned_by_customer: bool,
    active_subscriptions: int,
    pending_subscriptions: int,
) -> None:
    """A top-up goes to an existing customer's own eSIM, within the subscription limit (subscriptions of
    top-ups still in flight count: they become active once fulfilled)."""
    if not customer_found:
        raise CustomerMustExist(f"no customer with email {request.customer_email}", field="customer.email")
    if not profile_owned_by_customer:
        raise EmailAndIccidDoNotMatch("the eSIM does not belong to the customer with this email", field="subject.iccid")
    if active_subscriptions + pending_subscriptions + len(request.subscriptions) > MAX_ACTIVE_SUBSCRIPTIONS_PER_ICCID:
        raise SubscriptionLimitReached(
            f"an eSIM holds at most {MAX_ACTIVE_SUBSCRIPTIONS_PER_ICCID} active subscriptions "
            f"({active_subscriptions} active, {pending_subscriptions} more from top-ups in progress)",
            field="subject.iccid",
        )
