"""Mobile lines of a business unit and the plans, data plans and add-ons ordered on them."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfoNotFoundError

from orderhub.domain.catalog import MAX_VALIDITY_DAYS
from orderhub.domain.customers import CustomerDetails
from orderhub.domain.errors import InvalidInput, LineNotFound, NoActivePlan, OfferingNotAvailable
from orderhub.domain.msisdn_patterns import nested_repetition
from orderhub.domain.order_states import MAX_DATE_AHEAD
from orderhub.domain.orders import Operation, OrderItem
from orderhub.domain.zones import zone

MAX_ITEMS_PER_LINE_ORDER = 15
SUPPORTED_ACTIONS = frozenset({"add"})
# The order item attribute that holds an item's plan type.
PLAN_TYPE_ATTRIBUTE = "planType"


class PlanType(StrEnum):
    """What an offering does to a line: a base plan, or something that rides on one."""

    PLAN = "Plan"
    DATA_PLAN = "DataPlan"
    ADDON = "Addon"

    @classmethod
    def read(cls, text: str) -> PlanType | None:
        """The plan type a partner or operator wrote, in any case (seed 001's table writes "Dataplan"
        where its example sends "DataPlan"); None for what is none of them."""
        return _PLAN_TYPES_BY_LOWER.get(text.lower())

    @property
    def needs_base_plan(self) -> bool:
        return self is not PlanType.PLAN

    @property
    def with_article(self) -> str:
        return f"an {self}" if self is PlanType.ADDON else f"a {self}"


_PLAN_TYPES_BY_LOWER = {plan.value.lower(): plan for plan in PlanType}


@dataclass(frozen=True)
class BusinessUnit:
    """An operator's country business (e.g. CR, Costa Rica): its own lines, catalog and local time."""

    id: str
    name: str
    timezone: str
    msisdn_pattern: str
    msisdn_hint: str

    def msisdn_valid(self, msisdn: str) -> bool:
        # Bounded first: the match backtracks, and a partner chooses the number (domain.msisdn_patterns).
        return len(msisdn) <= MAX_MSISDN_LENGTH and re.fullmatch(self.msisdn_pattern, msisdn) is not None

    def problems(self, *, pattern_changed: bool = True) -> list[str]:
        """What keeps this unit out of the store (empty when it is fine), one short sentence each.
        ``pattern_changed=False``: a unit set up before patterns were judged keeps its own while its
        other fields change (it is still refused as no regular expression, which it cannot be)."""
        problems = []
        if not _UNIT_ID.match(self.id):
            problems.append(f"id {self.id!r} must be 1-16 characters of A-Z, a-z, 0-9, '_', '-'")
        for label, text in (("name", self.name), ("MSISDN hint", self.msisdn_hint)):
            if not text.strip() or len(text) > 200 or any(ord(c) < 32 or ord(c) == 127 for c in text):
                problems.append(f"{label} must be 1-200 characters without control characters")
        if not timezone_valid(self.timezone):
            problems.append(f"timezone {self.timezone!r} is not an IANA time zone (e.g. America/Costa_Rica)")
        try:
            matches_nothing = re.fullmatch(self.msisdn_pattern, "") is not None
        except re.error as exc:
            problems.append(f"MSISDN pattern {self.msisdn_pattern!r} is not a regular expression ({exc})")
        else:
            if matches_nothing or len(self.msisdn_pattern) > 200:
                problems.append("MSISDN pattern must be at most 200 characters and not match an empty number")
            elif pattern_changed and (nested := nested_repetition(self.msisdn_pattern)):
                problems.append(
                    f"MSISDN pattern repeats {nested!r}, a group that itself varies in length or holds"
                    " alternatives: refusing a number could take minutes; write it without nesting (e.g. [0-9]{8})"
                )
        return problems


_UNIT_ID = re.compile(r"^[A-Za-z0-9_-]{1,16}\Z")
# The longest MSISDN the store keeps (E.164 numbers have at most 15 digits).
MAX_MSISDN_LENGTH = 20


def timezone_valid(name: str) -> bool:
    """An IANA time zone name this system knows (as the business unit's orders are dated in it)."""
    if not name or name != name.strip() or name.startswith("/") or ".." in name:
        return False
    try:
        zone(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        return False
    return True


@dataclass(frozen=True)
class Line:
    id: str
    business_unit_id: str
    msisdn: str


@dataclass(frozen=True)
class Offering:
    """An offering a business unit sells as a given plan type (one offering id may be sold as several)."""

    business_unit_id: str
    product_id: str
    plan_type: PlanType
    validity_days: int | None = None

    def problems(self) -> list[str]:
        if self.validity_days is not None and not 0 < self.validity_days <= MAX_VALIDITY_DAYS:
            return [f"validity days must be 1 to {MAX_VALIDITY_DAYS} (or left out: no end)"]
        return []


@dataclass(frozen=True)
class LineProduct:
    """A plan, data plan or add-on running on a line; a replaced plan ends when its successor starts."""

    id: str
    line_id: str
    order_id: str | None
    item_seq: int | None
    product_id: str
    plan_type: PlanType
    starts_at: datetime
    ends_at: datetime | None

    def active(self, now: datetime) -> bool:
        return self.starts_at <= now and (self.ends_at is None or now < self.ends_at)

    @staticmethod
    def period(now: datetime, validity_days: int | None) -> tuple[datetime, datetime | None]:
        return now, (now + timedelta(days=validity_days) if validity_days else None)


@dataclass(frozen=True)
class LineItemRequest:
    offering_id: str
    plan_type: PlanType
    action: str = "add"


@dataclass(frozen=True)
class LineOrderRequest:
    """Offerings to start on one line (``msisdn``) of a business unit."""

    business_unit_id: str
    msisdn: str
    items: tuple[LineItemRequest, ...]
    # When the partner wants it done; None or a past moment means now.
    requested_at: datetime | None = None
    # The end customer, when the partner names one (TMF: the related party with role Customer).
    customer: CustomerDetails | None = None
    operation: Operation = Operation.LINE_PRODUCTS


def validate_line_order(request: LineOrderRequest, unit: BusinessUnit, now: datetime) -> None:
    """The rules that need no stored data. Field paths are neutral (``subject.msisdn``, ``items[0]...``)."""
    identity = request.customer.identity if request.customer else None
    if identity is not None and not 0 < len(identity.number) <= 64:
        raise InvalidInput("must be 1 to 64 characters (the customer's identification)", field="customer.identity")
    if identity is not None and not 0 < len(identity.kind) <= 64:
        raise InvalidInput("must be 1 to 64 characters (the identification's type)", field="customer.identity_type")
    if request.requested_at is not None and request.requested_at > now + MAX_DATE_AHEAD:
        raise InvalidInput(f"can be at most {MAX_DATE_AHEAD.days} days ahead", field="requested_at")
    if not request.items:
        raise InvalidInput("must hold at least one item", field="items")
    if len(request.items) > MAX_ITEMS_PER_LINE_ORDER:
        raise InvalidInput(f"must hold at most {MAX_ITEMS_PER_LINE_ORDER} items", field="items")
    if not unit.msisdn_valid(request.msisdn):
        raise InvalidInput(f"is not an MSISDN of business unit {unit.id} ({unit.msisdn_hint})", field="subject.msisdn")
    for index, item in enumerate(request.items):
        if item.action not in SUPPORTED_ACTIONS:
            raise InvalidInput(
                f"{item.action!r} is not supported; supported: {', '.join(sorted(SUPPORTED_ACTIONS))}",
                field=f"items[{index}].action",
            )


def check_line_order(
    request: LineOrderRequest,
    *,
    line: Line | None,
    offerings: frozenset[tuple[str, PlanType]],
    has_active_plan: bool,
) -> None:
    """The rules on stored data: the offering is sold for that plan type, the line exists, and data
    plans and add-ons ride on a base plan (one already active, or one started by this same order)."""
    for index, item in enumerate(request.items):
        if (item.offering_id, item.plan_type) not in offerings:
            raise OfferingNotAvailable(
                f"offering {item.offering_id} is not available as {item.plan_type} in business unit "
                f"{request.business_unit_id}",
                field=f"items[{index}].offering_id",
            )
    if line is None:
        raise LineNotFound(
            f"MSISDN {request.msisdn} is not a line of business unit {request.business_unit_id}",
            field="subject.msisdn",
        )
    orders_plan = any(item.plan_type is PlanType.PLAN for item in request.items)
    if not has_active_plan and not orders_plan:
        needing = next(item for item in request.items if item.plan_type.needs_base_plan)
        raise NoActivePlan(
            f"{needing.plan_type.with_article} needs an active Plan on MSISDN {request.msisdn}; order a Plan first",
            field="subject.msisdn",
        )


def plan_type_of(item: OrderItem) -> PlanType:
    return PlanType(item.attributes[PLAN_TYPE_ATTRIBUTE])


def provisioning_order(items: Iterable[OrderItem]) -> list[OrderItem]:
    """The items in the order they are provisioned: Plans first, so a DataPlan or Addon listed before
    the Plan of the same order rides on it; otherwise as listed (the last of two Plans is the one left)."""
    return sorted(items, key=lambda item: plan_type_of(item).needs_base_plan)
