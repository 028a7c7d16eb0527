"""What the operator's set-up refuses, and how it says so (the messages `orderhub business-unit …`,
`line …` and `access …` print in one line; tests/integration/test_cli_setup.py runs the commands), on a
real SQLite file through the admin services the commands call."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from orderhub.bootstrap import Services, build_services
from orderhub.domain.accesses import ActivationRefused, ActivationRequest, NetworkOffering, RefusalReason
from orderhub.domain.catalog import Product, ProductKind
from orderhub.domain.errors import DomainError, OfferingNotAvailable
from orderhub.domain.lines import BusinessUnit, LineItemRequest, LineOrderRequest, Offering, PlanType
from orderhub.domain.order_states import OrderState
from orderhub.fulfilment.provisioners import default_provisioners
from orderhub.services.access_setup import AccessAdmin
from orderhub.services.auth import principal_of
from orderhub.services.fulfilment import FulfilmentService
from orderhub.services.line_setup import LineAdmin
from orderhub.services.order_commands import PlaceOrder
from orderhub.settings import Settings

pytestmark = pytest.mark.integration


@pytest.fixture
def services(tmp_path: Path) -> Iterator[Services]:
    built = build_services(Settings(database_url=f"sqlite:///{tmp_path / 'setup.db'}"))
    built.migrate()
    yield built
    built.close()


def refused(action: Callable[[], Any], message: str) -> None:
    with pytest.raises(DomainError) as caught:
        action()
    assert message in caught.value.message, caught.value.message


def test_each_setup_mistake_is_refused_with_what_is_wrong(services: Services) -> None:
    lines, network = LineAdmin(services.uow_factory), AccessAdmin(services.uow_factory)
    costa_rica = BusinessUnit("CR", "Costa Rica", "America/Costa_Rica", "[0-9]{8}", "8 digits")

    refused(lambda: lines.add_line("CR", "69870001"), "business unit CR not found (orderhub business-unit add)")
    refused(lambda: lines.add_business_unit(BusinessUnit("CR", "Costa Rica", "America/Costa_Rica", "[0-9]*", "")),
            "not match an empty number")  # fmt: skip
    # A pattern whose match could backtrack for minutes on a partner's number is refused, naming the group.
    refused(lambda: lines.add_business_unit(BusinessUnit("CR", "Costa Rica", "America/Costa_Rica", "(a+)+$", "")),
            "MSISDN pattern repeats '(a+)+', a group that itself varies in length")  # fmt: skip
    # A unit stored before patterns were judged keeps its pattern while its other fields change.
    with services.uow_factory() as uow:
        uow.lines.add_business_unit(
            BusinessUnit("GT", "Guatemala", "America/Guatemala", "(1|1)+", "digits"), datetime.now(UTC)
        )
        uow.commit()
    assert lines.update_business_unit("GT", name="Guatemala City").msisdn_pattern == "(1|1)+"
    refused(lambda: lines.update_business_unit("GT", msisdn_pattern="(2|2)+"), "MSISDN pattern repeats '(2|2)+'")
    lines.add_business_unit(costa_rica)
    refused(lambda: lines.add_business_unit(costa_rica), "business unit CR exists already")
    refused(lambda: lines.update_business_unit("CR", timezone="Mars/Olympus"), "is not an IANA time zone")
    offering = Offering("CR", "OFFER-DP-001", PlanType.PLAN, 30)
    refused(lambda: lines.add_offering(offering), "no product OFFER-DP-001")
    services.catalog.add_product(Product("OFFER-DP-001", "Prepaid bundle", ProductKind.LINE_OFFERING))
    assert lines.add_offering(offering) is None  # new
    refused(lambda: lines.add_offering(replace(offering, validity_days=0)), "validity days must be 1 to")
    # Sold so again: the validity is corrected in place (it was refused as sold already), what it
    # replaced given back; the config version moves only when something changed.
    before = config_version(services)
    assert lines.add_offering(replace(offering, validity_days=60)) == offering
    assert config_version(services) > before
    before = config_version(services)
    assert lines.add_offering(replace(offering, validity_days=60)) == replace(offering, validity_days=60)
    assert config_version(services) == before
    assert lines.add_offering(replace(offering, validity_days=None)) == replace(offering, validity_days=60)
    # Another plan type is another way to sell it, next to the first (the plan type is not corrected).
    assert lines.add_offering(replace(offering, plan_type=PlanType.ADDON, validity_days=7)) is None
    assert [(o.plan_type, o.validity_days) for u, offered in lines.business_units() for o in offered] == [
        (PlanType.ADDON, 7), (PlanType.PLAN, None)
    ]  # fmt: skip
    # A new unit's list of offerings (the demo's) still may not name one twice.
    panama = replace(costa_rica, id="PA")
    refused(lambda: lines.add_business_unit(panama, [replace(offering, business_unit_id="PA")] * 2),
            "PA sells OFFER-DP-001 as Plan already")  # fmt: skip
    refused(lambda: lines.add_line("CR", "6987000"), "6987000 is not an MSISDN of CR (8 digits)")

    def offer(product: str, name: str = "500/500 Mbit/s") -> Callable[[], NetworkOffering | None]:
        return lambda: network.add_offering(NetworkOffering(product, "500-500", name))

    refused(offer("fiber-internet"), "no product fiber-internet: create it first (orderhub access add-product")
    refused(offer("OFFER-DP-001"), "product OFFER-DP-001 is a line_offering product, not a network service")
    refused(lambda: network.add_product("fiber_internet", "x"), "product id 'fiber_internet' must be")
    network.add_product("fiber-internet", "Fiber internet")
    assert offer("fiber-internet")() is None  # new
    refused(offer("fiber-internet", name=" "), "name must be 1-200 characters")
    # Added again: renamed in place (as add_product updates a product), what it replaced given back.
    replaced = offer("fiber-internet", name="500/500 Mbit/s, symmetric")()
    assert replaced is not None and replaced.name == "500/500 Mbit/s"
    assert [(o.offering_id, o.name) for o in network.offerings()] == [("500-500", "500/500 Mbit/s, symmetric")]
    # The demo's catalog is loaded in one go, into a database without it: there, one that exists is a mistake.
    refused(lambda: network.add_offerings([NetworkOffering("fiber-internet", "500-500", "x")]),
            "offering fiber-internet/500-500 exists already")  # fmt: skip
    refused(lambda: services.catalog.add_product(Product("fiber-internet", "x", ProductKind.LINE_OFFERING)),
            "product fiber-internet exists already as a network_service product, not a line_offering one")  # fmt: skip


def config_version(services: Services) -> int:
    with services.uow_factory(read_only=True) as uow:
        return uow.partners.config_version()


def test_a_business_channels_units_are_replaced_and_running_servers_read_them_again(services: Services) -> None:
    lines, partners = LineAdmin(services.uow_factory), services.partners
    for unit_id, zone in (("GT", "America/Guatemala"), ("CR", "America/Costa_Rica")):
        lines.add_business_unit(BusinessUnit(unit_id, unit_id, zone, "[0-9]{8}", "8 digits"))
    partners.create_partner("shop-gt", name="Shop", roles=["BUSINESS_CHANNEL"], currencies=["USD"],
                            business_unit_ids=["GT"])  # fmt: skip
    partners.create_partner("nordnet", name="NordNet", roles=["COMMUNICATION_OPERATOR"], currencies=["SEK"])

    def units_of(partner_id: str) -> frozenset[str]:
        partner = next(e.partner for e in partners.list_partners() if e.partner.id == partner_id)
        return partner.business_unit_ids

    before = config_version(services)
    partners.set_business_units("shop-gt", ["CR"])
    assert units_of("shop-gt") == {"CR"}  # the set is replaced, not added to
    assert config_version(services) > before  # servers drop the partner they cached

    refused(lambda: partners.set_business_units("shop-gt", ["CR", "NI", "HN"]), "unknown business units: HN, NI")
    refused(lambda: partners.set_business_units("nobody", ["GT"]), "no partner nobody")
    refused(lambda: partners.set_business_units("nordnet", ["GT"]), "partner nordnet is not a BUSINESS_CHANNEL")
    assert units_of("shop-gt") == {"CR"} and not units_of("nordnet")  # a refusal changes nothing
    # Its sibling set-products named a product that is not there in a traceback, from the database.
    refused(lambda: partners.set_products("shop-gt", ["no-such-product"]), "unknown products: no-such-product")
    # At create too (it was accepted without a word, the units granting nothing), and nothing is created.
    refused(lambda: partners.create_partner("acme", name="Acme", roles=["RESELLER"], currencies=["USD"],
                                            business_unit_ids=["GT"]),
            "partner acme is not a BUSINESS_CHANNEL: only business channels order for business units")  # fmt: skip
    assert [e.partner.id for e in partners.list_partners()] == ["nordnet", "shop-gt"]


def test_a_communication_operators_offerings_name_each_unknown_one_and_are_listed_with_it(services: Services) -> None:
    network, partners = AccessAdmin(services.uow_factory), services.partners
    network.add_product("broadband", "Broadband")
    network.add_offering(NetworkOffering("broadband", "500-500", "500/500 Mbit/s"))
    network.add_offering(NetworkOffering("broadband", "1000-1000", "1000/1000 Mbit/s"))
    partners.create_partner("nordnet", name="NordNet", roles=["COMMUNICATION_OPERATOR"], currencies=["SEK"])
    partners.create_partner("shop", name="Shop", roles=["BUSINESS_CHANNEL"], currencies=["USD"])
    network.allow("nordnet", [("broadband", "500-500")])

    # Every unknown pair named (it said "unknown offering", none named, from the database's foreign key).
    refused(lambda: network.allow("nordnet", [("broadband", "1000-1000"), ("tv", "basic"), ("broadband", "10-10")]),
            "unknown offerings: broadband/10-10, tv/basic")  # fmt: skip
    refused(lambda: network.allow("nobody", [("broadband", "500-500")]), "no partner nobody")
    # onapi-order answers any other role 403: offerings granted to it were a mix-up, kept without a word.
    refused(lambda: network.allow("shop", [("broadband", "500-500")]),
            "partner shop is not a COMMUNICATION_OPERATOR: only communication operators order on accesses")  # fmt: skip

    # The list shows what each may order, as set (a refusal changed nothing).
    listed = {e.partner.id: e.offerings for e in partners.list_partners()}
    assert listed == {"nordnet": [("broadband", "500-500")], "shop": []}
    network.allow("nordnet", [("broadband", "1000-1000"), ("broadband", "500-500")])
    assert {e.partner.id: e.offerings for e in partners.list_partners()}["nordnet"] == [
        ("broadband", "1000-1000"), ("broadband", "500-500")
    ]  # fmt: skip


def test_a_partner_is_changed_in_place_checked_as_at_create(services: Services) -> None:
    partners = services.partners
    services.catalog.add_product(Product("esim-eu-5gb", "5 GB Europe", ProductKind.ESIM_DATA,
                                         prices={"USD": Decimal("9"), "SEK": Decimal("99")}))  # fmt: skip
    partners.create_partner("acme", name="Acme", roles=["RESELLER"], currencies=["USD"], product_ids=["esim-eu-5gb"])
    partners.create_partner("am-1", name="AM", roles=["ACCOUNT_MANAGER"], currencies=["USD"])
    partners.create_partner("nordnet", name="NordNet", roles=["COMMUNICATION_OPERATOR"], currencies=["SEK"])
    partners.create_partner("fibra", name="Fibra", roles=["COMMUNICATION_OPERATOR"], currencies=["SEK"],
                            co_id="Fibra")  # fmt: skip

    # The currencies given replace the set; each added one in which its products have no price is named.
    before = config_version(services)
    change = partners.update_partner("acme", currencies=["eur", "usd"], name="Acme Travel", manager_id="am-1")
    assert (change.before.currencies, change.after.currencies) == ({"USD"}, {"EUR", "USD"})
    assert (change.after.name, change.after.manager_id, change.unpriced) == ("Acme Travel", "am-1",
                                                                              {"EUR": ["esim-eu-5gb"]})  # fmt: skip
    assert config_version(services) > before  # servers load the partner again at its next request
    assert partners.update_partner("acme", currencies=["SEK"]).unpriced == {}  # priced in SEK: nothing to say
    # A CO created without its coId (onapi-order answers it 403) is given one, and a language.
    change = partners.update_partner("nordnet", co_id="NordNet", language="sv")
    assert (change.after.co_id, change.after.language) == ("NordNet", "sv")
    before = config_version(services)
    unchanged = partners.update_partner("nordnet", co_id="NordNet")  # its own coId is not "taken"
    assert unchanged.before == unchanged.after and config_version(services) == before

    # Each refusal as create says it (the checks are create's), and nothing changes.
    refused(lambda: partners.update_partner("nobody", name="x"), "no partner nobody")
    refused(lambda: partners.update_partner("acme", currencies=["EURO", "usd"]), "not ISO 4217 currency codes: EURO")
    refused(lambda: partners.update_partner("acme", name=" "), "name must be 1-200 characters")
    refused(lambda: partners.update_partner("acme", language="de"), "language must be one of en, sv")
    refused(lambda: partners.update_partner("fibra", co_id="NordNet"), "co id NordNet belongs to another partner")
    refused(lambda: partners.update_partner("nordnet", co_id="Nord Net"), "co id must be 1-36 characters")
    refused(lambda: partners.update_partner("acme", co_id="Acme"),
            "partner acme is not a COMMUNICATION_OPERATOR: only communication operators have a co id")  # fmt: skip
    refused(lambda: partners.update_partner("acme", manager_id="nordnet"), "nordnet is not an ACCOUNT_MANAGER partner")
    refused(lambda: partners.update_partner("am-1", manager_id="am-1"), "partner am-1 cannot be its own manager")
    listed = {e.partner.id: e.partner for e in partners.list_partners()}
    assert (listed["acme"].name, listed["acme"].currencies, listed["acme"].co_id) == ("Acme Travel", {"SEK"}, None)
    assert (listed["fibra"].co_id, listed["nordnet"].co_id, listed["am-1"].manager_id) == ("Fibra", "NordNet", None)
    # At create too: a coId was stored for any role, and kept from the CO it belongs to.
    refused(lambda: partners.create_partner("shop", name="Shop", roles=["RESELLER"], currencies=["USD"], co_id="Shop"),
            "partner shop is not a COMMUNICATION_OPERATOR")  # fmt: skip


def place(services: Services, partner_id: str, request: LineOrderRequest | ActivationRequest) -> str:
    """An order placed as its API places it (fulfilled at intake when due now); its id."""
    with services.uow_factory(read_only=True) as uow:
        caller = principal_of(uow, partner_id)
    command = PlaceOrder(request, {}, "tmf-productorder" if isinstance(request, LineOrderRequest) else "onapi-order")
    return asyncio.run(services.ordering.place(caller, command)).order_id


def test_a_withdrawn_offering_is_refused_to_new_orders_and_fails_in_orders_accepted_before_it(
    services: Services,
) -> None:
    lines, network, partners = LineAdmin(services.uow_factory), AccessAdmin(services.uow_factory), services.partners
    lines.add_business_unit(BusinessUnit("GT", "Guatemala", "America/Guatemala", "[0-9]{8}", "8 digits"))
    for product in ("GT-PLAN-30D", "GT-DATA-5GB"):
        services.catalog.add_product(Product(product, product, ProductKind.LINE_OFFERING))
    lines.add_offering(Offering("GT", "GT-PLAN-30D", PlanType.PLAN, 30))
    data_plan = Offering("GT", "GT-DATA-5GB", PlanType.DATA_PLAN, 7)
    lines.add_offering(data_plan)
    lines.add_offering(Offering("GT", "GT-DATA-5GB", PlanType.ADDON, 30))  # sold on as an Addon
    lines.add_line("GT", "50210001", plan="GT-PLAN-30D")
    partners.create_partner("shop-gt", name="Shop", roles=["BUSINESS_CHANNEL"], currencies=["USD"],
                            business_unit_ids=["GT"])  # fmt: skip
    network.add_product("broadband", "Broadband")
    for speed in ("500-500", "1000-1000"):
        network.add_offering(NetworkOffering("broadband", speed, speed))
    for access in ("access-4711", "access-4712", "access-4713"):
        network.add_access(access)
    for co in ("nordnet", "fibra"):
        partners.create_partner(co, name=co, roles=["COMMUNICATION_OPERATOR"], currencies=["SEK"], co_id=co)
    network.allow("nordnet", [("broadband", "500-500"), ("broadband", "1000-1000")])
    network.allow("fibra", [("broadband", "1000-1000")])

    def data_plan_order(*plan_types: PlanType, at: datetime | None = None) -> LineOrderRequest:
        items = tuple(LineItemRequest("GT-DATA-5GB", plan_type) for plan_type in plan_types)
        return LineOrderRequest("GT", "50210001", items, requested_at=at)

    def gigabit(access: str, at: datetime) -> ActivationRequest:
        return ActivationRequest(access, (("broadband", "1000-1000"),), at)

    # Before the withdrawal: an order of each runs at once, another waits for its date.
    now = datetime.now(UTC)
    later = now + timedelta(hours=1)
    place(services, "shop-gt", data_plan_order(PlanType.DATA_PLAN))
    place(services, "nordnet", gigabit("access-4711", now))
    scheduled_line = place(services, "shop-gt", data_plan_order(PlanType.DATA_PLAN, PlanType.ADDON, at=later))
    scheduled_access = place(services, "nordnet", gigabit("access-4712", later))

    before = config_version(services)
    removal = lines.remove_offering("GT", "GT-DATA-5GB", PlanType.DATA_PLAN)
    assert (removal.removed, removal.still_sold_as, removal.open_orders) == (data_plan, (PlanType.ADDON,),
                                                                               [scheduled_line])  # fmt: skip
    withdrawn = network.remove_offering("broadband", "1000-1000")
    assert (withdrawn.disallowed, withdrawn.open_orders) == (["fibra", "nordnet"], [scheduled_access])
    assert config_version(services) > before
    # The grants went with it (their foreign key would have refused the removal): none dangles.
    assert {e.partner.id: e.offerings for e in partners.list_partners() if e.offerings} == {
        "nordnet": [("broadband", "500-500")]
    }

    # New orders for them are refused as for an offering never sold.
    with pytest.raises(OfferingNotAvailable):
        place(services, "shop-gt", data_plan_order(PlanType.DATA_PLAN))
    with pytest.raises(ActivationRefused) as refusal:
        place(services, "nordnet", gigabit("access-4713", now))
    assert refusal.value.reason is RefusalReason.OFFERING_NOT_AVAILABLE
    # Removed again: nothing to remove, said so; a name that is no product is a mistake.
    assert lines.remove_offering("GT", "GT-DATA-5GB", PlanType.DATA_PLAN).removed is None
    assert network.remove_offering("broadband", "1000-1000").removed is None
    refused(lambda: lines.remove_offering("GT", "GT-DAT-5GB", PlanType.DATA_PLAN), "no product GT-DAT-5GB")
    refused(lambda: lines.remove_offering("XX", "GT-DATA-5GB", PlanType.DATA_PLAN), "business unit XX not found")
    refused(lambda: network.remove_offering("tv", "basic"), "no product tv")

    # When due, the orders accepted before fail what was withdrawn, with the reason; the rest is delivered.
    worker = FulfilmentService(services.database, default_provisioners(), clock=lambda: later + timedelta(seconds=1))
    assert worker.run_due("w", 10) == 2
    with services.uow_factory(read_only=True) as uow:
        line_order, access_order = uow.orders.get(scheduled_line), uow.orders.get(scheduled_access)
        assert line_order is not None and access_order is not None
        assert (line_order.state, line_order.failure_reason) == (
            OrderState.PARTIAL, "item 1: offering GT-DATA-5GB is no longer sold as DataPlan"
        )  # fmt: skip
        assert (access_order.state, access_order.failure_reason) == (
            OrderState.FAILED, "item 1: offering broadband/1000-1000 is no longer sold"
        )  # fmt: skip
        # What ran before the withdrawal runs on: the data plan on the line, the service on the access.
        running = uow.accesses.by_ref("access-4711")
        assert running is not None and uow.accesses.active_products(running.id) == {"broadband"}
    view = services.lines.line("GT", "50210001")
    assert view is not None
    assert sorted((p.plan_type.value, p.active(view.now)) for p in view.products) == [
        ("Addon", False), ("DataPlan", True), ("Plan", True)
    ]  # fmt: skip

    # Sold again, the offering is granted to no one until set-offerings says so.
    network.add_offering(NetworkOffering("broadband", "1000-1000", "1000/1000 Mbit/s"))
    assert [e.offerings for e in partners.list_partners() if e.partner.id == "fibra"] == [[]]
