"""What the operator's set-up refuses, and how it says so (the messages `orderhub business-unit …`,
`line …` and `access …` print in one line; tests/integration/test_cli_setup.py runs the commands), on a
real SQLite file through the admin services the commands call."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import replace
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from orderhub.bootstrap import Services, build_services
from orderhub.domain.accesses import NetworkOffering
from orderhub.domain.catalog import Product, ProductKind
from orderhub.domain.errors import DomainError
from orderhub.domain.lines import BusinessUnit, Offering, PlanType
from orderhub.services.access_setup import AccessAdmin
from orderhub.services.line_setup import LineAdmin
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
