"""Service activations on network accesses: intake rules and provisioning, in memory."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from orderhub.domain.accesses import (
    Access,
    AccessService,
    AccessState,
    ActivationRefused,
    ActivationRequest,
    NetworkOffering,
    RefusalReason,
)
from orderhub.domain.customers import CustomerDetails, Identity
from orderhub.domain.errors import AccessDenied, InvalidInput
from orderhub.domain.order_states import OrderState
from orderhub.domain.orders import ItemState, Operation, Order, Subject, SubjectKind
from orderhub.domain.partners import Partner, Principal, Role
from orderhub.domain.results import AccessResult
from orderhub.fulfilment.provisioners import ServiceActivationProvisioner
from orderhub.services.access_orders import AccessIntake
from orderhub.services.provisioning import Provisioned
from tests.services.fakes import FakeUnitOfWork

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
CO = Principal(
    Partner("co", "CO", frozenset({Role.COMMUNICATION_OPERATOR}), frozenset({"SEK"}), co_id="Acme"), frozenset({"co"})
)
PIN = Identity("personalIdentityNumber", "19121212-1212")


def network() -> FakeUnitOfWork:
    uow = FakeUnitOfWork()
    uow.accesses.offerings["co"] = [
        NetworkOffering("fiber", "1000", "1000 Mbit/s"),
        NetworkOffering("iptv", "basic", "Basic"),
    ]
    uow.accesses.accesses |= {
        "a-free": Access("a-free", "free-1", AccessState.FREE),
        "a-blocked": Access("a-blocked", "blocked-1", AccessState.BLOCKED),
        "a-active": Access("a-active", "active-1", AccessState.ACTIVE),
    }
    uow.accesses.services.append(AccessService("s0", "a-active", None, None, "fiber", "1000", NOW))
    return uow


def activation(ref: str = "free-1", *services: tuple[str, str], at: datetime = NOW) -> ActivationRequest:
    return ActivationRequest(ref, services or (("fiber", "1000"),), at, CustomerDetails(PIN, name="Anna Berg"))


def test_an_activation_acts_on_the_access_when_requested_for_the_customer() -> None:
    uow = network()
    later = NOW + timedelta(days=2)
    new = AccessIntake().prepare(uow.as_port(), CO, activation(at=later), NOW)
    assert new.subject == Subject(SubjectKind.ACCESS, "a-free")
    assert new.due_at == later
    assert [(i.product_id, i.attributes) for i in new.items] == [("fiber", {"offeringId": "1000"})]
    (customer,) = uow.partners.customers
    assert customer.identity == PIN and customer.email is None and new.customer_id == customer.id
    again = AccessIntake().prepare(uow.as_port(), CO, activation(at=later), NOW)
    assert again.customer_id == customer.id  # known by the identity number from then on


@pytest.mark.parametrize(
    ("request_", "reason"),
    [
        (activation("free-1", ("fiber", "250")), RefusalReason.OFFERING_NOT_AVAILABLE),
        (activation("nowhere"), RefusalReason.ACCESS_NOT_FOUND),
        (activation("blocked-1"), RefusalReason.ACCESS_BLOCKED),
        (activation("active-1"), RefusalReason.ALREADY_ACTIVE),
    ],
)
def test_business_refusals(request_: ActivationRequest, reason: RefusalReason) -> None:
    with pytest.raises(ActivationRefused) as refused:
        AccessIntake().prepare(network().as_port(), CO, request_, NOW)
    assert refused.value.reason is reason


def test_a_different_product_on_an_active_access_is_fine() -> None:
    AccessIntake().prepare(network().as_port(), CO, activation("active-1", ("iptv", "basic")), NOW)


def test_only_communication_operators_activate() -> None:
    channel = Principal(Partner("ch", "Ch", frozenset({Role.BUSINESS_CHANNEL}), frozenset()), frozenset({"ch"}))
    with pytest.raises(AccessDenied):
        AccessIntake().validate(channel, activation(), NOW)


def accepted(uow: FakeUnitOfWork, request: ActivationRequest) -> Order:
    new = AccessIntake().prepare(uow.as_port(), CO, request, NOW)
    order = Order.accept(
        now=NOW,
        id="o1",
        partner_id="co",
        dialect="test",
        operation=Operation.ACTIVATE_SERVICE,
        customer_id=new.customer_id,
        items=new.items,
        subject=new.subject,
    )
    order.start(NOW)
    return order


def test_provisioning_activates_the_services_once() -> None:
    uow = network()
    order = accepted(uow, activation("free-1", ("fiber", "1000"), ("iptv", "basic")))
    outcome = ServiceActivationProvisioner().provision(uow.as_port(), order, NOW)
    assert isinstance(outcome, Provisioned) and not outcome.failed_items
    assert isinstance(outcome.result, AccessResult) and len(outcome.result.services) == 2
    assert uow.accesses.accesses["a-free"].state is AccessState.ACTIVE
    assert ServiceActivationProvisioner().provision(uow.as_port(), order, NOW) == outcome
    assert len(uow.accesses.services_of_order("o1")) == 2


def test_an_access_blocked_before_its_date_gets_nothing() -> None:
    uow = network()
    order = accepted(uow, activation("free-1"))
    uow.accesses.set_state("a-free", AccessState.BLOCKED, NOW)
    outcome = ServiceActivationProvisioner().provision(uow.as_port(), order, NOW)
    assert isinstance(outcome, Provisioned)
    order.finish(outcome.result, outcome.failed_items, NOW)
    assert order.state is OrderState.FAILED
    assert order.items[0].state is ItemState.FAILED


class CountingAccesses:
    """The fake accesses, counting the lock, the active products and the offerings a provisioner asks for."""

    def __init__(self, accesses: object) -> None:
        self._accesses = accesses
        self.calls: list[str] = []

    def __getattr__(self, name: str) -> object:
        if name in ("locked", "active_products", "offerings_for", "all_offerings"):
            self.calls.append(name)
        return getattr(self._accesses, name)


def _fulfilled_at_intake(uow: FakeUnitOfWork, *, hand_over: bool) -> tuple[object, list[str]]:
    request = activation("free-1", ("fiber", "1000"), ("iptv", "basic"))
    new = AccessIntake().prepare(uow.as_port(), CO, request, NOW)
    order = accepted(uow, request)
    counting = CountingAccesses(uow.accesses)
    uow.accesses = counting  # type: ignore[assignment]
    readings = new.readings if hand_over else None
    outcome = ServiceActivationProvisioner().provision(uow.as_port(), order, NOW, first_run=True, readings=readings)
    return outcome, counting.calls


def test_an_activation_fulfilled_where_it_is_accepted_uses_what_the_intake_read_under_the_lock() -> None:
    plain, plain_calls = _fulfilled_at_intake(network(), hand_over=False)
    handed, handed_calls = _fulfilled_at_intake(network(), hand_over=True)
    # Not handed over, the CO's offerings are read again (the order's own transaction may be a later one);
    # the offerings sold only when one of them is no longer the CO's, to say why.
    assert plain_calls == ["locked", "active_products", "offerings_for"] and handed_calls == []
    assert isinstance(plain, Provisioned) and isinstance(handed, Provisioned)
    assert not handed.failed_items
    assert isinstance(handed.result, AccessResult) and isinstance(plain.result, AccessResult)
    assert [seq for seq, _ in handed.result.services] == [seq for seq, _ in plain.result.services] == [1, 2]


def test_an_access_blocked_after_the_intake_read_it_gets_nothing_even_with_the_readings() -> None:
    uow = network()
    request = activation("free-1")
    new = AccessIntake().prepare(uow.as_port(), CO, request, NOW)
    order = accepted(uow, request)
    uow.accesses.set_state("a-free", AccessState.BLOCKED, NOW)  # between the intake's read and its lock
    outcome = ServiceActivationProvisioner().provision(uow.as_port(), order, NOW, first_run=True, readings=new.readings)
    assert isinstance(outcome, Provisioned) and outcome.failed_items == {1: "access free-1 is blocked"}


@pytest.mark.parametrize("services", [(("fiber", "1000"), ("fiber", "1000")), (("fiber", "1000"), ("fiber", "250"))])
def test_a_product_listed_twice_is_invalid_input(services: tuple[tuple[str, str], ...]) -> None:
    with pytest.raises(InvalidInput) as invalid:
        AccessIntake().validate(CO, activation("free-1", *services), NOW)
    assert invalid.value.field == "products"


def test_an_order_one_of_whose_products_cannot_be_activated_activates_none() -> None:
    # iptv got active through another order before this one's date: nothing of it is delivered, so
    # that REJECTED (failed) never stands for an order part of which runs.
    uow = network()
    order = accepted(uow, activation("free-1", ("fiber", "1000"), ("iptv", "basic")))
    uow.accesses.add_service(AccessService("s1", "a-free", "other", 1, "iptv", "basic", NOW), NOW)
    outcome = ServiceActivationProvisioner().provision(uow.as_port(), order, NOW)
    assert isinstance(outcome, Provisioned)
    order.finish(outcome.result, outcome.failed_items, NOW)
    assert order.state is OrderState.FAILED
    assert [item.state for item in order.items] == [ItemState.FAILED, ItemState.FAILED]
    assert uow.accesses.services_of_order("o1") == []
    assert uow.accesses.accesses["a-free"].state is AccessState.FREE


@pytest.mark.parametrize(
    ("still_sold", "reason"),
    [(True, "offering fiber/1000 is no longer allowed to co"), (False, "offering fiber/1000 is no longer sold")],
)
def test_an_offering_taken_from_the_co_before_its_date_activates_nothing(still_sold: bool, reason: str) -> None:
    # partner set-offerings took fiber/1000 from the CO after the order was accepted (still sold: another
    # CO may order it), or access remove-offering withdrew it: each is named, the order activates nothing.
    uow = network()
    order = accepted(uow, activation("free-1", ("fiber", "1000"), ("iptv", "basic"), at=NOW + timedelta(days=1)))
    uow.accesses.offerings["co"] = [NetworkOffering("iptv", "basic", "Basic")]
    if still_sold:
        uow.accesses.offerings["other-co"] = [NetworkOffering("fiber", "1000", "1000 Mbit/s")]
    outcome = ServiceActivationProvisioner().provision(uow.as_port(), order, NOW + timedelta(days=1))
    assert isinstance(outcome, Provisioned)
    assert outcome.failed_items == {1: reason, 2: "not activated: another service of the order could not be"}
    assert uow.accesses.services_of_order("o1") == []


def test_a_product_another_open_order_schedules_on_the_access_is_refused() -> None:
    uow = network()
    uow.accesses.ordered["a-free"] = {"fiber"}  # an open order activates it at its own date
    with pytest.raises(ActivationRefused) as refused:
        AccessIntake().prepare(uow.as_port(), CO, activation("free-1", at=NOW + timedelta(days=3)), NOW)
    assert refused.value.reason is RefusalReason.ALREADY_ORDERED
    AccessIntake().prepare(uow.as_port(), CO, activation("free-1", ("iptv", "basic")), NOW)  # another product
