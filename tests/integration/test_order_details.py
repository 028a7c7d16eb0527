"""What `orderhub order show` reads (services.order_details), on a real SQLite file: what an order acts
on, named as the operator knows it, and the customer's identity data masked in the request it shows, as
on its customer line; tests/integration/test_cli_setup.py runs the command too."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from orderhub.bootstrap import Services, build_services
from orderhub.domain.catalog import Product, ProductKind
from orderhub.domain.customers import Customer
from orderhub.domain.lines import BusinessUnit
from orderhub.domain.orders import Operation, Order, OrderItem, Subject, SubjectKind
from orderhub.services.access_setup import AccessAdmin
from orderhub.services.line_setup import LineAdmin
from orderhub.services.order_details import OrderDetailsQuery
from orderhub.services.ports import UnitOfWork
from orderhub.settings import Settings
from tests.integration.erasure_orders import EMAIL, FIRST, LAST, MOBILE, PASSPORT, PHONE, place_orders
from tests.integration.support import OrderhubProcesses, db_rows, run_cli, sqlite_url

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


def test_an_order_its_partner_deleted_is_found_by_its_number_as_by_its_id(services: Services) -> None:
    """`order show ORD-...` said "no order" for an order deleted through TMF622 (its id still found it)."""
    services.partners.create_partner("shop", name="Shop", roles=["BUSINESS_CHANNEL"], currencies=["USD"])
    services.catalog.add_product(Product("GT-DATA-5GB", "5 GB of data", ProductKind.LINE_OFFERING))
    order = Order.accept(now=datetime.now(UTC), id="deleted-one", partner_id="shop", dialect="tmf622",
                         operation=Operation.LINE_PRODUCTS, customer_id=None, reference="ORD-20260101000000-0001",
                         items=[OrderItem(seq=1, product_id="GT-DATA-5GB")])  # fmt: skip
    order.start(datetime.now(UTC))
    order.fail("the line is barred", datetime.now(UTC))

    def add_then_delete(uow: UnitOfWork) -> None:
        uow.orders.add(order)
        order.delete(datetime.now(UTC))
        uow.orders.mark_deleted(order, datetime.now(UTC))

    services.database.write_now(add_then_delete)
    query = OrderDetailsQuery(services.uow_factory)
    by_number, by_id = query.find("ORD-20260101000000-0001"), query.find("deleted-one")
    assert by_number is not None and by_id is not None
    assert by_number.order.id == by_id.order.id == "deleted-one"
    assert by_number.events[-1].reason == "deleted by the partner"


# The person's identity numbers, e-mail and phones, in every spelling their orders gave them.
IDENTIFYING = (EMAIL.casefold(), PASSPORT.casefold(), "8507093477", "850709-3477", PHONE, MOBILE)


def test_order_show_masks_the_customers_identity_data_in_the_request_as_on_its_customer_line(
    tmp_path: Path, orderhub_procs: OrderhubProcesses
) -> None:
    db_path = tmp_path / "orderhub.db"
    server = orderhub_procs.serve(db_path)
    place_orders(server.base_url)  # by e-mail (esim-v1), by passport (TMF), by identity number (onapi-order)
    orders = db_rows(db_path, "SELECT id, dialect FROM orders WHERE customer_id IS NOT NULL ORDER BY dialect")
    assert {dialect for _, dialect in orders} == {"esim-v1", "onapi-order", "tmf622", "tmf-productorder"}, orders
    for order_id, dialect in orders:
        as_json = run_cli("order", "show", order_id, "--json", "--db", sqlite_url(db_path), cwd=tmp_path)
        as_text = run_cli("order", "show", order_id, "--db", sqlite_url(db_path), cwd=tmp_path)
        assert as_json.returncode == as_text.returncode == 0, as_json.stderr + as_text.stderr
        for output in (as_json.stdout, "".join(as_text.stdout.split())):  # the text as one line, wrapped or not
            held = [value for value in IDENTIFYING if value in output.casefold()]
            assert not held, (dialect, held, output)
        shown = json.loads(as_json.stdout)
        if dialect.startswith("tmf"):  # the Customer party's id is the passport, masked as on the customer line
            assert shown["customer"]["identity"] == "Passport *******91"
            (party,) = [p for p in shown["request"]["order"]["relatedParty"] if p["role"] == "Customer"]
            assert (party["id"], party["name"]) == ("*******91", f"{FIRST} {LAST}"), party
        if dialect == "onapi-order":
            details = shown["request"]["customerDetails"]
            assert details | {"invoiceDetails": None} == {
                "identifiedCustomer": True, "personalIdentityNumber": "***********77", "customerFirstname": FIRST,
                "customerLastName": LAST, "customerPhone": "**********33", "customerMobilePhone": "**********77",
                "customerEmail": "Z***@Example.org", "invoiceDetails": None,
            }  # fmt: skip


def test_order_show_prints_what_an_order_lacks_as_a_dash_and_its_customer_field_by_field(
    services: Services, tmp_path: Path
) -> None:
    """`order show` printed Python's forms: `reference: None`, `customer: {'id': ..., 'name': None}`."""
    services.partners.create_partner("shop", name="Shop", roles=["RESELLER"], currencies=["USD"])
    services.catalog.add_product(Product("esim-1gb", "1 GB", ProductKind.ESIM_DATA, data_mb=1024, validity_days=7))
    customer = Customer("cust-1", "shop", "jane@example.com", datetime.now(UTC))
    order = Order.accept(now=datetime.now(UTC), id="order-1", partner_id="shop", dialect="esim-v1",
                         operation=Operation.NEW_ESIM, customer_id="cust-1",
                         items=[OrderItem(seq=1, product_id="esim-1gb")])  # fmt: skip

    def add(uow: UnitOfWork) -> None:
        uow.partners.add_customer(customer)
        uow.orders.add(order)

    services.database.write_now(add)
    url = f"sqlite:///{tmp_path / 'orders.db'}"
    as_text = run_cli("order", "show", "order-1", "--db", url, cwd=tmp_path)
    assert as_text.returncode == 0, as_text.stderr
    lines = as_text.stdout.splitlines()
    assert "reference: -" in lines and "subject: -" in lines and "failure: -" in lines
    at = lines.index("customer:")
    assert lines[at + 1 : at + 5] == ["  id: cust-1", "  name: -", "  email: j***@example.com", "  identity: -"]
    assert not [line for line in lines if "None" in line or "{'" in line]
    as_json = json.loads(run_cli("order", "show", "order-1", "--json", "--db", url, cwd=tmp_path).stdout)
    assert (as_json["reference"], as_json["customer"]["name"]) == (None, None)  # JSON keeps its nulls


def test_order_show_prints_the_correlation_id_as_the_logs_show_it(services: Services, tmp_path: Path) -> None:
    """An operator with a partner's X-Correlation-ID finds it on the order (it was not shown at all)."""
    services.partners.create_partner("shop", name="Shop", roles=["BUSINESS_CHANNEL"], currencies=["USD"])
    services.catalog.add_product(Product("GT-DATA-5GB", "5 GB of data", ProductKind.LINE_OFFERING))
    given = {"with-uuid": "1f0c7c52-8d0e-4d71-9c55-2a4f3e0d9b11", "with-email": "crm-anna.berg@example.se"}
    for order_id, cid in given.items():
        order = Order.accept(now=datetime.now(UTC), id=order_id, partner_id="shop", dialect="tmf622",
                             operation=Operation.LINE_PRODUCTS, customer_id=None, correlation_id=cid,
                             items=[OrderItem(seq=1, product_id="GT-DATA-5GB")])  # fmt: skip
        services.database.write_now(lambda uow, order=order: uow.orders.add(order))
    url = services.settings.database_url

    shown = {
        order_id: (
            run_cli("order", "show", order_id, "--db", url, cwd=tmp_path).stdout.splitlines(),
            json.loads(run_cli("order", "show", order_id, "--json", "--db", url, cwd=tmp_path).stdout),
        )
        for order_id in given
    }
    text, as_json = shown["with-uuid"]
    assert "correlation_id: 1f0c7c52-8d0e-4d71-9c55-2a4f3e0d9b11" in text
    assert as_json["correlation_id"] == "1f0c7c52-8d0e-4d71-9c55-2a4f3e0d9b11"
    text, as_json = shown["with-email"]
    assert "correlation_id: c***@example.se" in text  # masked as the request it sent is
    assert as_json["correlation_id"] == "c***@example.se"
    assert "anna.berg" not in "\n".join(text) + json.dumps(as_json)
