"""The operator's set-up of line and network orders (what `orderhub business-unit …`, `line add-product`
and `access add-product` call) on PostgreSQL: its statements, and the config version it moves. The CLI
flow itself, through real processes and then orders through a real server, runs on SQLite
(tests/integration/test_cli_setup.py): the commands only parse their options and call these."""

from __future__ import annotations

import pytest

from orderhub.bootstrap import build_services
from orderhub.domain.accesses import NetworkOffering
from orderhub.domain.catalog import Product, ProductKind
from orderhub.domain.errors import InvalidInput
from orderhub.domain.lines import BusinessUnit, Offering, PlanType
from orderhub.services.access_orders import AccessAdmin
from orderhub.services.line_orders import LineAdmin
from orderhub.settings import Settings


def test_business_units_their_offerings_and_network_products_are_kept_and_move_the_config_version(
    pg_url: str,
) -> None:
    services = build_services(Settings(database_url=pg_url))
    lines, network = LineAdmin(services.uow_factory), AccessAdmin(services.uow_factory)

    def version() -> int:
        with services.uow_factory(read_only=True) as uow:
            return uow.partners.config_version()

    before = version()
    lines.add_business_unit(BusinessUnit("GT", "Guatemala", "America/Guatemala", "[0-9]{8}", "8 digits"))
    assert services.catalog.add_product(Product("GT-PLAN-30D", "Plan, 30 days", ProductKind.LINE_OFFERING))
    lines.add_offering(Offering("GT", "GT-PLAN-30D", PlanType.PLAN, 30))
    updated = lines.update_business_unit("GT", timezone="Asia/Tokyo")
    assert updated.timezone == "Asia/Tokyo" and version() > before
    ((unit, offerings),) = [(u, o) for u, o in lines.business_units() if u.id == "GT"]
    assert (unit.timezone, offerings) == ("Asia/Tokyo", [Offering("GT", "GT-PLAN-30D", PlanType.PLAN, 30)])
    with pytest.raises(InvalidInput, match="GT sells GT-PLAN-30D as Plan already"):
        lines.add_offering(Offering("GT", "GT-PLAN-30D", PlanType.PLAN, 30))

    assert network.add_product("broadband", "Broadband", prices={})
    assert not network.add_product("broadband", "Broadband, renamed")  # updated, not created again
    network.add_offerings([NetworkOffering("broadband", "500-500", "500/500 Mbit/s")])
    assert ("broadband", "500-500") in {(o.product_id, o.offering_id) for o in network.offerings()}
    replaced = network.add_offering(NetworkOffering("broadband", "500-500", "500/500 Mbit/s, symmetric"))
    assert replaced is not None and replaced.name == "500/500 Mbit/s"  # renamed in place (ON CONFLICT)
    assert {o.offering_id: o.name for o in network.offerings() if o.product_id == "broadband"}["500-500"] == (
        "500/500 Mbit/s, symmetric"
    )
    services.partners.create_partner("shop-gt", name="Shop GT", roles=["BUSINESS_CHANNEL"], currencies=["USD"])
    before = version()
    services.partners.set_business_units("shop-gt", ["GT"])
    assert version() > before
    with pytest.raises(InvalidInput):
        network.add_product("GT-PLAN-30D", "a line product's id")  # another kind of product
    services.close()
