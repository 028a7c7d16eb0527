"""Demo data: partners with known credentials, a small catalog and a generated eSIM inventory.

Demo secrets are public by design (the README prints them); never load demo data in production.
"""

from __future__ import annotations

from decimal import Decimal

from orderhub.domain.catalog import Product
from orderhub.domain.identifiers import Iccid, generate_matching_id
from orderhub.services.catalog import CatalogService
from orderhub.services.inventory import InventoryService, ProfileRow
from orderhub.services.partners import PartnerAdmin
from orderhub.services.ports import UnitOfWorkFactory

DEMO_SMDP_ADDRESS = "smdp.demo.orderhub.dev"
# The seed example orders product a3u3z000000PZBhAAO; it has to be in the demo catalog.
DEMO_PRODUCTS = [
    Product(
        id="a3u3z000000PZBhAAO",
        name="Europe 5 GB / 30 days",
        description="5 GB of data in 40 European countries, valid 30 days",
        data_mb=5 * 1024,
        validity_days=30,
        footprint=("PT", "ES", "FR", "DE", "IT", "GB", "NL", "BE", "IE", "AT"),
        prices={"USD": Decimal("10"), "EUR": Decimal("9.50"), "GBP": Decimal("8.20")},
    ),
    Product(
        id="esim-world-1gb-7d",
        name="World 1 GB / 7 days",
        description="1 GB of data in 120 countries, valid 7 days",
        data_mb=1024,
        validity_days=7,
        footprint=("US", "CA", "MX", "BR", "PT", "ES", "FR", "JP", "AU", "ZA"),
        prices={"USD": Decimal("7.99"), "EUR": Decimal("7.49")},
    ),
    Product(
        id="esim-us-10gb-30d",
        name="USA 10 GB / 30 days",
        description="10 GB of data in the United States, valid 30 days",
        data_mb=10 * 1024,
        validity_days=30,
        footprint=("US",),
        prices={"USD": Decimal("19.00"), "GBP": Decimal("15.50")},
    ),
    Product(
        id="esim-pt-unlimited-1d",
        name="Portugal unlimited / 1 day",
        description="Unlimited data in Portugal for 24 hours",
        data_mb=None,
        validity_days=1,
        footprint=("PT",),
        prices={"EUR": Decimal("4.00")},
    ),
]

# (partner id, name, roles, currencies, products, manager, client_id, client_secret)
DEMO_PARTNERS = [
    ("demo-account-manager", "Demo Account Manager", ["ACCOUNT_MANAGER"], ["USD", "EUR", "GBP"],
     [p.id for p in DEMO_PRODUCTS], None, "demo-account-manager", "demo-account-manager-secret"),
    ("demo-reseller-1", "Demo Reseller One", ["RESELLER"], ["USD", "EUR"],
     ["a3u3z000000PZBhAAO", "esim-world-1gb-7d", "esim-pt-unlimited-1d"], "demo-account-manager",
     "demo-reseller-1", "demo-reseller-1-secret"),
    ("demo-reseller-2", "Demo Reseller Two", ["RESELLER"], ["USD", "GBP"],
     ["a3u3z000000PZBhAAO", "esim-us-10gb-30d"], "demo-account-manager",
     "demo-reseller-2", "demo-reseller-2-secret"),
]  # fmt: skip


def demo_credentials() -> dict[str, list[dict[str, object]]]:
    return {
        "esim-v1": [
            {"partner": pid, "client_id": cid, "client_secret": secret, "roles": roles}
            for pid, _name, roles, _cur, _prod, _mgr, cid, secret in DEMO_PARTNERS
        ]
    }


def load_demo_data(uow_factory: UnitOfWorkFactory, *, inventory_size: int = 2000) -> bool:
    """Load the demo data unless it is there already. True when it was loaded now."""
    with uow_factory(read_only=True) as uow:
        if uow.partners.get(DEMO_PARTNERS[0][0]) is not None:
            return False
    CatalogService(uow_factory).import_products(enumerate(DEMO_PRODUCTS, start=1))
    admin = PartnerAdmin(uow_factory)
    for pid, name, roles, currencies, products, manager, client_id, secret in DEMO_PARTNERS:
        admin.create_partner(
            pid, name=name, roles=roles, currencies=currencies, product_ids=products, manager_id=manager
        )
        admin.issue_credential(pid, client_id=client_id, client_secret=secret)
    rows = (
        ProfileRow(
            line,
            Iccid.generate(country_code="35", issuer="1").value,
            generate_matching_id(),
            DEMO_SMDP_ADDRESS,
        )
        for line in range(1, inventory_size + 1)
    )
    InventoryService(uow_factory).import_profiles(rows, batch="demo")
    return True
