"""Demo data: partners with known credentials, a small catalog and a generated eSIM inventory.

Demo secrets are public by design (the README prints them); never load demo data in production.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from functools import partial
from typing import Any, cast

from orderhub.domain.accesses import NetworkOffering
from orderhub.domain.catalog import Product, ProductKind
from orderhub.domain.customers import Customer
from orderhub.domain.errors import DomainError
from orderhub.domain.identifiers import Iccid, generate_matching_id, luhn_valid, new_id
from orderhub.domain.lines import BusinessUnit, Offering, PlanType
from orderhub.services.access_setup import AccessAdmin
from orderhub.services.catalog import CatalogService
from orderhub.services.clock import utc_now
from orderhub.services.inventory import InventoryService, ProfileRow
from orderhub.services.line_setup import LineAdmin
from orderhub.services.partners import PartnerAdmin
from orderhub.services.ports import UnitOfWork, UnitOfWorkFactory

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


# The seed's top-up example tops up the eSIM 123456789 of john@doe.com: demo-reseller-1 holds both, the
# eSIM handed to its customer before orderhub kept the inventory (no order made it, and its ICCID is
# no number an inventory import takes: only the seed's reference to it).
SEED_CUSTOMER = ("demo-reseller-1", "john@doe.com", "US")
SEED_ICCID = "123456789"

# Business units, what they sell and their lines (tmf-productorder). The seed's examples order
# OFFER-DP-001 as Plan, DataPlan and Addon on CR line 69877689, which therefore holds an active Plan.
DEMO_LINE_OFFERINGS = [
    Product(id="OFFER-DP-001", name="Prepaid bundle", kind=ProductKind.LINE_OFFERING,
            description="Sold as a base plan, a data plan or an add-on", prices={"USD": Decimal("10")}),
    Product(id="OFFER-PLAN-002", name="Prepaid plan 2", kind=ProductKind.LINE_OFFERING,
            description="A base plan", prices={"USD": Decimal("15")}),
    Product(id="OFFER-ADDON-003", name="Roaming add-on", kind=ProductKind.LINE_OFFERING,
            description="An add-on", prices={"USD": Decimal("5")}),
]  # fmt: skip
_EIGHT_DIGITS = ("[0-9]{8}", "8 digits")
DEMO_BUSINESS_UNITS = [
    (BusinessUnit("CR", "Costa Rica", "America/Costa_Rica", *_EIGHT_DIGITS),
     [("OFFER-DP-001", PlanType.PLAN, 30), ("OFFER-DP-001", PlanType.DATA_PLAN, 7),
      ("OFFER-DP-001", PlanType.ADDON, 30), ("OFFER-PLAN-002", PlanType.PLAN, 30),
      ("OFFER-ADDON-003", PlanType.ADDON, 30)],
     {"69877689": "OFFER-DP-001", "69877690": "OFFER-PLAN-002", "69877691": None, "69877692": None,
      "69877693": None, "69877694": None, "69877695": None}),
    (BusinessUnit("PA", "Panama", "America/Panama", *_EIGHT_DIGITS),
     [("OFFER-DP-001", PlanType.PLAN, 30), ("OFFER-DP-001", PlanType.DATA_PLAN, 7),
      ("OFFER-DP-001", PlanType.ADDON, 30)],
     {"61234567": "OFFER-DP-001", "61234568": None}),
]  # fmt: skip
# (partner id, name, business units, client_id, client_secret)
DEMO_CHANNELS = [
    ("demo-channel-1", "Demo Sales Channel One", ["CR"], "demo-channel-1", "demo-channel-1-secret"),
    ("demo-channel-2", "Demo Sales Channel Two", ["CR", "PA"], "demo-channel-2", "demo-channel-2-secret"),
]


# The SP's network catalog (onapi-order): products with offerings, the COs and what each may order,
# and accesses in each state. The seed's example orders its product/offering id pair on its access.
SEED_ONAPI_ID = "8732c2f065e2490babce820e94b1011a"
DEMO_NETWORK_PRODUCTS = [
    Product(id="fiber-internet", name="Fiber internet", kind=ProductKind.NETWORK_SERVICE,
            description="Internet access over fibre", prices={"SEK": Decimal("399")}),
    Product(id="iptv", name="IPTV", kind=ProductKind.NETWORK_SERVICE, description="Television over IP",
            prices={"SEK": Decimal("199")}),
    Product(id=SEED_ONAPI_ID, name="Seed example service", kind=ProductKind.NETWORK_SERVICE,
            description="The product of the ON-API example", prices={"SEK": Decimal("299")}),
]  # fmt: skip
DEMO_NETWORK_OFFERINGS = [
    NetworkOffering("fiber-internet", "1000-1000", "1000/1000 Mbit/s"),
    NetworkOffering("fiber-internet", "250-250", "250/250 Mbit/s"),
    NetworkOffering("iptv", "basic", "Basic channel package"),
    NetworkOffering(SEED_ONAPI_ID, SEED_ONAPI_ID, "Seed example offering"),
]
# (partner id, name, co_id, language, offerings it may order, username, password)
DEMO_OPERATORS = [
    ("demo-co-acme", "Acme Communications", "Acme", "en",
     [(o.product_id, o.offering_id) for o in DEMO_NETWORK_OFFERINGS], "demo-co-acme", "demo-co-acme-secret"),
    ("demo-co-fibra", "Fibra Kommunikation", "Fibra", "sv", [("fiber-internet", "250-250")],
     "demo-co-fibra", "demo-co-fibra-secret"),
]  # fmt: skip
DEMO_ACCESSES = [
    (SEED_ONAPI_ID, False, []),
    *[(f"access-free-{n}", False, []) for n in range(1, 10)],
    ("access-active-1", False, [("fiber-internet", "250-250")]),
    ("access-blocked-1", True, []),
]


def demo_credentials() -> dict[str, list[dict[str, object]]]:
    return {
        "esim-v1": [
            {"partner": pid, "client_id": cid, "client_secret": secret, "roles": roles}
            for pid, _name, roles, _cur, _prod, _mgr, cid, secret in DEMO_PARTNERS
        ],
        "tmf-productorder": [
            {"partner": pid, "client_id": cid, "client_secret": secret, "business_ids": units}
            for pid, _name, units, cid, secret in DEMO_CHANNELS
        ],
        "onapi-order": [
            {"partner": pid, "co_id": co_id, "username": user, "password": password}
            for pid, _name, co_id, _lang, _offerings, user, password in DEMO_OPERATORS
        ],
    }


class DemoRefused(Exception):
    """The demo data cannot go into this database; nothing of it was written."""


DEMO_PARTNER_IDS = frozenset(p[0] for p in [*DEMO_PARTNERS, *DEMO_CHANNELS, *DEMO_OPERATORS])


def load_demo_data(uow_factory: UnitOfWorkFactory, *, inventory_size: int = 2000) -> bool:
    """Load the demo data unless it is there already. True when some of it was loaded now (a database
    from an older release gains the parts added since).

    Its secrets are public, so it goes only into a database that holds no partners but the demo's own
    (a fresh one, or one with the demo already); otherwise ``DemoRefused``. All of it is written in one
    transaction: a conflict met on the way raises ``DemoRefused`` and leaves nothing behind.
    """
    with uow_factory() as uow:
        parts: list[tuple[object, Callable[[UnitOfWorkFactory], None]]] = [
            (uow.partners.get(DEMO_PARTNERS[0][0]), partial(_load_esim_demo, inventory_size=inventory_size)),
            (uow.profiles.get(SEED_ICCID), _load_seed_esim),
            (uow.lines.business_unit(DEMO_BUSINESS_UNITS[0][0].id), _load_line_demo),
            (uow.accesses.by_ref(SEED_ONAPI_ID), _load_access_demo),
        ]
        missing = [load for there, load in parts if there is None]
        if not missing:
            return False
        others = [pid for pid in uow.partners.list_ids() if pid not in DEMO_PARTNER_IDS]
        if others:
            named = ", ".join(others[:5]) + (f" and {len(others) - 5} more" if len(others) > 5 else "")
            raise DemoRefused(
                f"refusing to load demo data: this database holds partners other than the demo's ({named});"
                " demo secrets are public, load the demo only into a database of its own (nothing was written)"
            )
        within = _OneTransaction(uow)
        try:
            for load in missing:
                load(within)
        except DomainError as exc:
            raise DemoRefused(f"cannot load demo data: {exc} (nothing was written)") from exc
        uow.commit()
    return True


class _OneTransaction:
    """A unit-of-work factory whose every unit is the one open unit of work, its commits left to the
    owner: the demo is written all at once or not at all."""

    def __init__(self, uow: UnitOfWork) -> None:
        self._uow = uow

    def __call__(self, *, read_only: bool = False) -> UnitOfWork:
        return cast(UnitOfWork, self)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._uow, name)

    def __enter__(self) -> UnitOfWork:
        return cast(UnitOfWork, self)

    def __exit__(self, *exc_info: object) -> None:
        return None

    def commit(self) -> None:
        return None


def _load_access_demo(uow_factory: UnitOfWorkFactory) -> None:
    CatalogService(uow_factory).import_products(enumerate(DEMO_NETWORK_PRODUCTS, start=1))
    accesses = AccessAdmin(uow_factory)
    accesses.add_offerings(DEMO_NETWORK_OFFERINGS)
    admin = PartnerAdmin(uow_factory)
    for pid, name, co_id, language, offerings, username, password in DEMO_OPERATORS:
        admin.create_partner(
            pid, name=name, roles=["COMMUNICATION_OPERATOR"], currencies=["SEK"], co_id=co_id, language=language
        )
        admin.issue_credential(pid, client_id=username, client_secret=password)
        accesses.allow(pid, offerings)
    for ref, blocked, active in DEMO_ACCESSES:
        accesses.add_access(ref, blocked=blocked, active=active)


def _load_line_demo(uow_factory: UnitOfWorkFactory) -> None:
    CatalogService(uow_factory).import_products(enumerate(DEMO_LINE_OFFERINGS, start=1))
    lines = LineAdmin(uow_factory)
    for unit, offerings, numbers in DEMO_BUSINESS_UNITS:
        lines.add_business_unit(
            unit, [Offering(unit.id, product, plan_type, days) for product, plan_type, days in offerings]
        )
        for msisdn, plan in numbers.items():
            lines.add_line(unit.id, msisdn, plan=plan)
    admin = PartnerAdmin(uow_factory)
    for pid, name, units, client_id, secret in DEMO_CHANNELS:
        admin.create_partner(pid, name=name, roles=["BUSINESS_CHANNEL"], currencies=["USD"], business_unit_ids=units)
        admin.issue_credential(pid, client_id=client_id, client_secret=secret)


def _load_esim_demo(uow_factory: UnitOfWorkFactory, inventory_size: int) -> None:
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


def _load_seed_esim(uow_factory: UnitOfWorkFactory) -> None:
    partner_id, email, country = SEED_CUSTOMER
    now = utc_now()
    profile = {
        "iccid": SEED_ICCID,
        "matching_id": generate_matching_id(),
        "smdp_address": DEMO_SMDP_ADDRESS,
        "luhn_ok": luhn_valid(SEED_ICCID),
        "batch": "demo-seed",
    }
    with uow_factory() as uow:
        # The customer the seed's NEW_ESIM example creates, or finds when it ran before.
        customer_id = uow.partners.add_customer(
            Customer(id=new_id(), partner_id=partner_id, email=email, country_of_residence=country, created_at=now)
        )
        uow.profiles.add_released(profile, customer_id, now)
        uow.commit()
