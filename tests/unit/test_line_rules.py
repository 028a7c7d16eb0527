"""The rules of orders on mobile lines (domain.lines), without a store."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from orderhub.domain.errors import DomainError, InvalidInput, LineNotFound, NoActivePlan, OfferingNotAvailable
from orderhub.domain.lines import (
    BusinessUnit,
    Line,
    LineItemRequest,
    LineOrderRequest,
    PlanType,
    check_line_order,
    provisioning_order,
    validate_line_order,
)
from orderhub.domain.orders import OrderItem

NOW = datetime(2026, 11, 24, tzinfo=UTC)
CR = BusinessUnit("CR", "Costa Rica", "America/Costa_Rica", "[0-9]{8}", "8 digits")
LINE = Line("line-1", "CR", "69877689")
OFFERINGS = frozenset({("OFFER-DP-001", PlanType.PLAN), ("OFFER-DP-001", PlanType.DATA_PLAN)})


def order(*items: tuple[str, PlanType], msisdn: str = "69877689", action: str = "add") -> LineOrderRequest:
    return LineOrderRequest("CR", msisdn, tuple(LineItemRequest(o, p, action) for o, p in items))


def check(request: LineOrderRequest, *, line: Line | None = LINE, has_active_plan: bool = True) -> None:
    check_line_order(request, line=line, offerings=OFFERINGS, has_active_plan=has_active_plan)


@pytest.mark.parametrize("msisdn", ["6987768", "698776890", "6987768a", "+50669877689", ""])
def test_an_msisdn_must_have_the_business_units_format(msisdn: str) -> None:
    with pytest.raises(InvalidInput) as excinfo:
        validate_line_order(order(("OFFER-DP-001", PlanType.PLAN), msisdn=msisdn), CR, NOW)
    assert excinfo.value.field == "subject.msisdn"


def test_a_well_formed_order_passes_validation() -> None:
    validate_line_order(order(("OFFER-DP-001", PlanType.PLAN)), CR, NOW)


def test_an_order_needs_items_and_not_too_many() -> None:
    with pytest.raises(InvalidInput, match="at least one"):
        validate_line_order(order(), CR, NOW)
    with pytest.raises(InvalidInput, match="at most 15"):
        validate_line_order(order(*[("OFFER-DP-001", PlanType.DATA_PLAN)] * 16), CR, NOW)


def test_only_add_is_supported() -> None:
    with pytest.raises(InvalidInput) as excinfo:
        validate_line_order(order(("OFFER-DP-001", PlanType.PLAN), action="delete"), CR, NOW)
    assert excinfo.value.field == "items[0].action"


def test_an_offering_must_be_sold_as_that_plan_type() -> None:
    check(order(("OFFER-DP-001", PlanType.DATA_PLAN)))
    with pytest.raises(OfferingNotAvailable) as excinfo:
        check(order(("OFFER-DP-001", PlanType.ADDON)))
    assert excinfo.value.field == "items[0].offering_id"
    with pytest.raises(OfferingNotAvailable):
        check(order(("OFFER-NOPE", PlanType.PLAN)))


def test_the_line_must_exist_in_the_business_unit() -> None:
    with pytest.raises(LineNotFound):
        check(order(("OFFER-DP-001", PlanType.PLAN)), line=None)


def test_a_data_plan_needs_an_active_plan() -> None:
    with pytest.raises(NoActivePlan, match="DataPlan needs an active Plan"):
        check(order(("OFFER-DP-001", PlanType.DATA_PLAN)), has_active_plan=False)


def test_a_plan_in_the_same_order_carries_the_data_plan() -> None:
    check(order(("OFFER-DP-001", PlanType.PLAN), ("OFFER-DP-001", PlanType.DATA_PLAN)), has_active_plan=False)


def test_a_plan_needs_no_plan_before_it() -> None:
    check(order(("OFFER-DP-001", PlanType.PLAN)), has_active_plan=False)


def test_rule_errors_are_domain_errors_with_neutral_paths() -> None:
    with pytest.raises(DomainError) as excinfo:
        check(order(("OFFER-DP-001", PlanType.DATA_PLAN)), has_active_plan=False)
    assert excinfo.value.field == "subject.msisdn"


def test_a_requested_date_more_than_ten_years_ahead_is_refused() -> None:
    def at(ahead: timedelta) -> LineOrderRequest:
        return LineOrderRequest("CR", "69877689", (LineItemRequest("OFFER-DP-001", PlanType.PLAN),), NOW + ahead)

    validate_line_order(at(timedelta(days=400)), CR, NOW)
    validate_line_order(at(timedelta(days=3653)), CR, NOW)
    with pytest.raises(InvalidInput, match="at most 3653 days ahead") as excinfo:
        validate_line_order(at(timedelta(days=3653, seconds=1)), CR, NOW)
    assert excinfo.value.field == "requested_at"


def test_plans_are_provisioned_first_and_otherwise_as_listed() -> None:
    kinds = [PlanType.ADDON, PlanType.PLAN, PlanType.DATA_PLAN, PlanType.PLAN]
    items = [OrderItem(seq, f"P{seq}", attributes={"planType": kind.value}) for seq, kind in enumerate(kinds, 1)]
    assert [item.seq for item in provisioning_order(items)] == [2, 4, 1, 3]
