"""The eSIM operations' intake rules and their provisioning, against an in-memory unit of work."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from orderhub.domain.customers import Customer
from orderhub.domain.errors import CustomerMustExist, EmailAndIccidDoNotMatch, SubscriptionLimitReached
from orderhub.domain.esim import DeviceType, EsimOrderRequest, ProfileState, Subscription, SubscriptionRequest
from orderhub.domain.order_states import OrderState
from orderhub.domain.orders import Operation, Order, Subject, SubjectKind
from orderhub.fulfilment.provisioners import TopUpProvisioner
from orderhub.services.esim_orders import EsimIntake
from orderhub.services.provisioning import EsimReadings, NotProvisioned, Provisioned
from orderhub.services.records import StoredProfile
from tests.services.fakes import FakeOrders, FakeUnitOfWork
from tests.services.test_intakes import NOW, RESELLER, started

ICCID = "8935101000000000017"


def esim_world() -> FakeUnitOfWork:
    uow = FakeUnitOfWork()
    uow.partners.customers.append(Customer("cust-1", "reseller", "jane@example.com", NOW))
    uow.partners.customers.append(Customer("cust-2", "reseller", "joe@example.com", NOW))
    uow.profiles.profiles[ICCID] = StoredProfile(
        ICCID, "M-1", "smdp.example.com", ProfileState.RELEASED, "o", "cust-1", True
    )
    return uow


def top_up(email: str, count: int = 1) -> EsimOrderRequest:
    return EsimOrderRequest(
        operation=Operation.TOPUP,
        customer_email=email,
        device_type=DeviceType.IOS,
        subscriptions=(SubscriptionRequest("esim-1"),) * count,
        iccid=ICCID,
    )


def test_a_top_up_goes_to_the_customers_own_esim() -> None:
    new = EsimIntake().prepare(esim_world().as_port(), RESELLER, top_up("jane@example.com"), NOW)
    assert new.subject == Subject(SubjectKind.ESIM, ICCID)
    assert new.customer_id == "cust-1"


def test_a_top_up_needs_an_existing_customer() -> None:
    with pytest.raises(CustomerMustExist):
        EsimIntake().prepare(esim_world().as_port(), RESELLER, top_up("nobody@example.com"), NOW)


def test_a_top_up_of_someone_elses_esim_is_refused() -> None:
    with pytest.raises(EmailAndIccidDoNotMatch):
        EsimIntake().prepare(esim_world().as_port(), RESELLER, top_up("joe@example.com"), NOW)


def test_top_ups_in_flight_count_towards_the_limit() -> None:
    uow = esim_world()
    in_flight = Order.accept(
        now=NOW,
        id="o-2",
        partner_id="reseller",
        dialect="test",
        operation=Operation.TOPUP,
        customer_id="cust-1",
        items=EsimIntake().prepare(uow.as_port(), RESELLER, top_up("jane@example.com", 15), NOW).items,
        subject=Subject(SubjectKind.ESIM, ICCID),
    )
    uow.orders = FakeOrders([in_flight])
    assert in_flight.state is OrderState.ACCEPTED
    with pytest.raises(SubscriptionLimitReached, match="0 active, 15 more"):
        EsimIntake().prepare(uow.as_port(), RESELLER, top_up("jane@example.com"), NOW)


def test_a_top_up_that_would_exceed_the_limit_by_fulfilment_time_fails_with_the_reason() -> None:
    uow = esim_world()
    order = Order.accept(
        now=NOW,
        id="o-late",
        partner_id="reseller",
        dialect="test",
        operation=Operation.TOPUP,
        customer_id="cust-1",
        items=EsimIntake().prepare(uow.as_port(), RESELLER, top_up("jane@example.com", 3), NOW).items,
        subject=Subject(SubjectKind.ESIM, ICCID),
    )
    # Meanwhile 13 subscriptions became active on the eSIM (another order, scheduled earlier).
    uow.subscriptions.subscriptions += [
        Subscription(f"s{n}", ICCID, "o-other", "esim-1", NOW - timedelta(days=1), NOW + timedelta(days=30))
        for n in range(13)
    ]
    order.start(NOW)
    outcome = TopUpProvisioner().provision(uow.as_port(), order, NOW)
    assert isinstance(outcome, NotProvisioned)
    assert "at most 15 active subscriptions (13 active, 3 more ordered)" in outcome.reason


def test_a_top_up_fulfilled_where_it_is_accepted_takes_validity_from_the_principal_not_the_catalog() -> None:
    caller = replace(RESELLER, product_validity_days={"esim-1": 7})
    made = []
    for hand_over in (False, True):
        uow = esim_world()
        uow.catalog.validity["esim-1"] = 7
        new = EsimIntake().prepare(uow.as_port(), caller, top_up("jane@example.com", 2), NOW)
        assert new.readings == EsimReadings({"esim-1": 7})
        readings = new.readings if hand_over else None
        order = started(new, Operation.TOPUP, "reseller")
        outcome = TopUpProvisioner().provision(uow.as_port(), order, NOW, first_run=True, readings=readings)
        assert isinstance(outcome, Provisioned)
        assert uow.catalog.reads == (0 if hand_over else 1)
        made.append(sorted((s.product_id, s.starts_at, s.ends_at) for s in uow.subscriptions.subscriptions))
    assert made[0] == made[1]
    assert [ends - starts for _, starts, ends in made[1]] == [timedelta(days=7)] * 2


def test_an_esim_order_whose_product_the_principal_holds_no_validity_for_hands_nothing_on() -> None:
    # A principal made without it (by hand, as here): the provisioner then reads the catalog itself.
    new = EsimIntake().prepare(esim_world().as_port(), RESELLER, top_up("jane@example.com"), NOW)
    assert new.readings is None
