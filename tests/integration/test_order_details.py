"""What `orderhub order show` reads (services.order_details), on a real SQLite file: what an order acts
on, named as the operator knows it; tests/integration/test_cli_setup.py runs the command."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from orderhub.bootstrap import Services, build_services
from orderhub.domain.catalog import Product, ProductKind
from orderhub.domain.lines import BusinessUnit
from orderhub.domain.orders import Operation, Order, OrderItem, Subject, SubjectKind
from orderhub.services.access_setup import AccessAdmin
from orderhub.services.line_setup import LineAdmin
from orderhub.services.order_details import OrderDetailsQuery
from orderhub.settings import Settings

pytestmark = pytest.mark.integration


@pytest.fixture
def services(tmp_path: Path) -> Iterator[Services]:
    built = build_services(Settings(database_url=f"sqlite:///{tmp_path / 'orders.db'}"))
    built.migrate()
    yield built
    built.close()


def test_an_orders_subject_is_named_as_the_other_commands_take_it(services: Services) -> None:
    lines = LineAdmin(services.uow_factory)
    lines.add_business_unit(BusinessUnit("GT", "Guatemala", "America/Guatemala", "[0-9]{8}", "8 digits"))
    line = lines.add_line("GT", "50210001")
    access = AccessAdmin(services.uow_factory).add_access("access-4711")
    services.partners.create_partner("shop", name="Shop", roles=["BUSINESS_CHANNEL"], currencies=["USD"])
    services.catalog.add_product(Product("GT-DATA-5GB", "5 GB of data", ProductKind.LINE_OFFERING))
    subjects = {
        "on-line": Subject(SubjectKind.LINE, line.id),
        "on-access": Subject(SubjectKind.ACCESS, access.id),
        "on-esim": Subject(SubjectKind.ESIM, "8988247000100003270"),
        "on-a-line-gone": Subject(SubjectKind.LINE, "no-such-line"),  # none is removed; were one, its id
    }
    for order_id, subject in subjects.items():
        order = Order.accept(now=datetime.now(UTC), id=order_id, partner_id="shop", dialect="tmf-productorder",
                             operation=Operation.LINE_PRODUCTS, customer_id=None, subject=subject,
                             items=[OrderItem(seq=1, product_id="GT-DATA-5GB")])  # fmt: skip
        services.database.write_now(lambda uow, order=order: uow.orders.add(order))

    query = OrderDetailsQuery(services.uow_factory)
    named = {order_id: query.find(order_id).subject for order_id in subjects}  # type: ignore[union-attr]
    assert named == {
        "on-line": "line GT 50210001",
        "on-access": "access access-4711",
        "on-esim": "esim 8988247000100003270",
        "on-a-line-gone": "line no-such-line",
    }
    assert query.find("ORD-20260101000000-0001") is None
