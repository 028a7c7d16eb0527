"""Line orders' intake rules and provisioning, against an in-memory unit of work (and the callers and
the started order the other intake tests share)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from orderhub.domain.errors import (
    AccessDenied,
    BusinessUnitNotFound,
    NoActivePlan,
)
from orderhub.domain.lines import BusinessUnit, Line, LineItemRequest, LineOrderRequest, LineProduct, Offering, PlanType
from orderhub.domain.order_states import OrderState
from orderhub.domain.orders import ItemState, Operation, Order, Subject, SubjectKind
from orderhub.domain.partners import Partner, Principal, Role
from orderhub.domain.results import LineResult
from orderhub.fulfilment.provisioners import LineProductsProvisioner
from orderhub.services.line_orders import LineIntake
from orderhub.services.order_commands import NewOrder
from orderhub.services.provisioning import NotProvisioned, Provisioned
from tests.services.fakes import FakeUnitOfWork

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
CR = BusinessUnit("CR", "Costa Rica", "America/Costa_Rica", "[0-9]{8}", "8 digits")


def principal(partner_id: str, roles: set[Role], business_units: frozenset[str] = frozenset()) -> Principal:
    partner = Partner(
        id=partner_id,
        name=partner_id,
        roles=frozenset(roles),
        currencies=frozenset({"USD"}),
        product_ids=frozenset({"esim-1"}),
        business_unit_ids=frozenset(business_units),
    )
    return Principal(partner, frozenset({partner_id}))


CHANNEL = principal("channel", {Role.BUSINESS_CHANNEL}, frozenset({"CR"}))
RESELLER = principal("reseller", {Role.RESELLER})


def line_world(*, with_plan: bool) -> FakeUnitOfWork:
    uow = FakeUnitOfWork()
    uow.lines.units["CR"] = CR
    uow.lines.offering_list += [
        Offering("CR", "OFFER-DP-001", PlanType.PLAN, 30),
        Offering("CR", "OFFER-DP-001", PlanType.DATA_PLAN, 7),
    ]
    uow.lines.lines["line-1"] = Line("line-1", "CR", "69877689")
    uow.partners.partners["channel"] = CHANNEL.partner
    if with_plan:
        uow.lines.products["plan-0"] = LineProduct(
            "plan-0",
            "line-1",
            None,
            None,
            "OFFER-DP-001",
            PlanType.PLAN,
            NOW - timedelta(days=1),
            NOW + timedelta(days=29),
        )
    return uow


def line_order(*plan_types: PlanType, unit: str = "CR") -> LineOrderRequest:
    return LineOrderRequest(unit, "69877689", tuple(LineItemRequest("OFFER-DP-001", p) for p in plan_types))


def test_a_line_order_acts_on_the_line_with_one_item_per_offering() -> None:
    uow = line_world(with_plan=True)
    new = LineIntake().prepare(uow.as_port(), CHANNEL, line_order(PlanType.DATA_PLAN), NOW)
    assert new.subject == Subject(SubjectKind.LINE, "line-1")
    assert [(i.seq, i.product_id, i.attributes) for i in new.items] == [(1, "OFFER-DP-001", {"planType": "DataPlan"})]


def test_a_line_order_in_an_unknown_business_unit_is_not_found() -> None:
    with pytest.raises(BusinessUnitNotFound):
        LineIntake().prepare(line_world(with_plan=True).as_port(), CHANNEL, line_order(PlanType.PLAN, unit="XX"), NOW)


@pytest.mark.parametrize("caller", [RESELLER, principal("other-channel", {Role.BUSINESS_CHANNEL}, frozenset({"PA"}))])
def test_only_channels_enabled_for_the_business_unit_order_there(caller: Principal) -> None:
    with pytest.raises(AccessDenied):
        LineIntake().prepare(line_world(with_plan=True).as_port(), caller, line_order(PlanType.PLAN), NOW)


def test_a_data_plan_on_a_line_without_plan_is_refused() -> None:
    with pytest.raises(NoActivePlan):
        LineIntake().prepare(line_world(with_plan=False).as_port(), CHANNEL, line_order(PlanType.DATA_PLAN), NOW)


def started(new: NewOrder, operation: Operation, partner_id: str) -> Order:
    """The order an intake's decision makes, accepted and started as fulfilment starts it."""
    order = Order.accept(
        now=NOW,
        id="order-1",
        partner_id=partner_id,
        dialect="test",
        operation=operation,
        customer_id=new.customer_id,
        items=new.items,
        subject=new.subject,
    )
    order.start(NOW)
    return order


def placed(uow: FakeUnitOfWork, *plan_types: PlanType) -> Order:
    new = LineIntake().prepare(uow.as_port(), CHANNEL, line_order(*plan_types), NOW)
    return started(new, Operation.LINE_PRODUCTS, "channel")


def test_a_plan_replaces_the_base_plan_and_the_old_one_ends_now() -> None:
    uow = line_world(with_plan=True)
    order = placed(uow, PlanType.PLAN)
    outcome = LineProductsProvisioner().provision(uow.as_port(), order, NOW)
    assert isinstance(outcome, Provisioned)
    assert isinstance(outcome.result, LineResult)
    ((_seq, new_plan_id),) = outcome.result.line_products
    assert uow.lines.products["plan-0"].ends_at == NOW
    assert uow.lines.active_plan("line-1", NOW + timedelta(seconds=1)) == uow.lines.products[new_plan_id]
    assert uow.lines.products[new_plan_id].ends_at == NOW + timedelta(days=30)


def test_provisioning_a_line_order_again_makes_nothing_twice() -> None:
    uow = line_world(with_plan=True)
    order = placed(uow, PlanType.DATA_PLAN)
    first = LineProductsProvisioner().provision(uow.as_port(), order, NOW)
    again = LineProductsProvisioner().provision(uow.as_port(), order, NOW)
    assert first == again
    assert len(uow.lines.products) == 2


def test_a_data_plan_whose_plan_ended_before_provisioning_is_not_delivered() -> None:
    uow = line_world(with_plan=True)
    order = placed(uow, PlanType.DATA_PLAN)
    outcome = LineProductsProvisioner().provision(uow.as_port(), order, NOW + timedelta(days=30))
    assert isinstance(outcome, Provisioned)
    assert outcome.failed_items == {1: "no active Plan on MSISDN 69877689"}
    order.finish(outcome.result, outcome.failed_items, NOW)
    assert order.state is OrderState.FAILED


def test_an_order_whose_items_end_differently_is_partial() -> None:
    uow = line_world(with_plan=True)
    # Accepted; by provisioning time the DataPlan is no longer sold: the Plan item is delivered, the
    # DataPlan before it is not.
    order = placed(uow, PlanType.DATA_PLAN, PlanType.PLAN)
    uow.lines.offering_list[:] = [o for o in uow.lines.offering_list if o.plan_type is PlanType.PLAN]
    outcome = LineProductsProvisioner().provision(uow.as_port(), order, NOW + timedelta(days=30))
    assert isinstance(outcome, Provisioned)
    order.finish(outcome.result, outcome.failed_items, NOW + timedelta(days=30))
    assert order.state is OrderState.PARTIAL
    assert [(i.seq, i.state) for i in order.items] == [(1, ItemState.FAILED), (2, ItemState.DELIVERED)]
    assert order.failure_reason == "item 1: offering OFFER-DP-001 is no longer sold as DataPlan"


def test_an_order_of_a_channel_taken_off_the_business_unit_before_provisioning_is_not_delivered() -> None:
    uow = line_world(with_plan=True)
    order = placed(uow, PlanType.DATA_PLAN)
    # partner set-business-units moved the channel from CR to PA after the order was accepted.
    uow.partners.partners["channel"] = replace(CHANNEL.partner, business_unit_ids=frozenset({"PA"}))
    outcome = LineProductsProvisioner().provision(uow.as_port(), order, NOW + timedelta(days=1))
    assert outcome == NotProvisioned("channel is no longer enabled for business unit CR")
    assert uow.lines.products_of_order(order.id) == []


def test_a_data_plan_listed_before_the_plan_of_its_order_rides_on_that_plan() -> None:
    uow = line_world(with_plan=True)
    # Accepted on the running plan; by provisioning time that plan has ended: the order's own Plan,
    # provisioned first, carries the DataPlan listed before it.
    order = placed(uow, PlanType.DATA_PLAN, PlanType.PLAN)
    outcome = LineProductsProvisioner().provision(uow.as_port(), order, NOW + timedelta(days=30))
    assert isinstance(outcome, Provisioned) and isinstance(outcome.result, LineResult)
    assert outcome.failed_items == {}
    assert [seq for seq, _product in outcome.result.line_products] == [1, 2]
    kinds = [uow.lines.products[product].plan_type for _seq, product in outcome.result.line_products]
    assert kinds == [PlanType.DATA_PLAN, PlanType.PLAN]


class CountingLines:
    """The fake lines (or partners), counting the reads and locks a provisioner asks of them."""

    def __init__(self, lines: object, calls: list[str] | None = None) -> None:
        self._lines = lines
        self.calls: list[str] = [] if calls is None else calls

    def __getattr__(self, name: str) -> object:
        if name in ("get_line", "lock", "offerings", "active_plan", "business_units_of"):
            self.calls.append(name)
        return getattr(self._lines, name)


@pytest.mark.parametrize("plan_type", [PlanType.PLAN, PlanType.DATA_PLAN])
def test_a_line_order_fulfilled_where_it_is_accepted_is_not_read_again_and_ends_the_same(plan_type: PlanType) -> None:
    results = []
    for hand_over in (False, True):
        uow = line_world(with_plan=True)
        new = LineIntake().prepare(uow.as_port(), CHANNEL, line_order(plan_type), NOW)
        order = placed(uow, plan_type)
        counting = CountingLines(uow.lines)
        uow.lines = counting  # type: ignore[assignment]
        uow.partners = CountingLines(uow.partners, counting.calls)  # type: ignore[assignment]
        readings = new.readings if hand_over else None
        outcome = LineProductsProvisioner().provision(uow.as_port(), order, NOW, first_run=True, readings=readings)
        assert isinstance(outcome, Provisioned) and not outcome.failed_items
        # The intake read the line under its lock, its offerings and its plan in the same transaction, and
        # checked the channel's business units there too.
        read_again = ["get_line", "lock", "business_units_of", "offerings", "active_plan"]
        assert counting.calls == ([] if hand_over else read_again)
        made = sorted((p.product_id, p.plan_type, p.starts_at, p.ends_at) for p in counting._lines.products.values())  # type: ignore[attr-defined]
        results.append(made)
    assert results[0] == results[1]


def test_readings_of_another_line_are_not_used() -> None:
    uow = line_world(with_plan=True)
    new = LineIntake().prepare(uow.as_port(), CHANNEL, line_order(PlanType.DATA_PLAN), NOW)
    assert new.readings is not None
    other = replace(new.readings, line=Line("line-2", "CR", "69870000"))
    order = placed(uow, PlanType.DATA_PLAN)
    counting = CountingLines(uow.lines)
    uow.lines = counting  # type: ignore[assignment]
    LineProductsProvisioner().provision(uow.as_port(), order, NOW, first_run=True, readings=other)
    assert counting.calls == ["get_line", "lock", "offerings", "active_plan"]
