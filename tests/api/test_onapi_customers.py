"""onapi-order's customers: one per person of a CO, whichever spelling of the personal identity number
its orders send (kept and found by the canonical 12 digits). Runs on SQLite and, with
ORDERHUB_TEST_POSTGRES, on PostgreSQL."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import httpx
import pytest
import sqlalchemy as sa

from orderhub.domain.customers import PERSONAL_IDENTITY_NUMBER
from orderhub.services.access_orders import AccessAdmin
from tests.api.support import RunningServer, running_server
from tests.api.test_onapi import ACME, FIBRA, send, valid_body, when

# One person, born 12 December 1912 (114 years old: "+" in the short form), and another, born on the
# same day of 2012 (the short form with "-", or with no separator, is under 100).
BORN_1912 = ["19121212-1212", "191212121212", "121212+1212"]
BORN_2012 = ["121212-1212", "1212121212", "20121212-1212", "201212121212"]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    with running_server(tmp_path_factory.mktemp("onapi-customers") / "orderhub.db", worker_poll_seconds=0.2) as running:
        yield running


@pytest.fixture
def http(server: RunningServer) -> Iterator[httpx.Client]:
    with server.client() as client:
        yield client


def order_for(server: RunningServer, http: httpx.Client, number: str, co: str = "Acme") -> str:
    """The customer of an order for ``number``, on an access of its own: its id, as the store keeps it."""
    access = f"access-{uuid.uuid4().hex[:12]}"
    AccessAdmin(server.services.uow_factory).add_access(access)
    body = valid_body(access, requested=when(86400), co=co, product="fiber-internet", offering="250-250")
    body["customerDetails"]["personalIdentityNumber"] = number
    answer = send(http, body, FIBRA if co == "Fibra" else ACME)
    assert answer.status_code == 200 and answer.json()["status"] == "RECEIVED", answer.text
    with server.services.engine.connect() as connection:
        (customer_id,) = connection.execute(
            sa.text("SELECT customer_id FROM orders WHERE CAST(request AS TEXT) LIKE :ref"), {"ref": f'%"{access}"%'}
        ).one()
    assert customer_id is not None
    return str(customer_id)


def identity_of(server: RunningServer, customer_id: str) -> tuple[str, str]:
    with server.services.uow_factory(read_only=True) as uow:
        customer = uow.partners.get_customer(customer_id)
    assert customer is not None and customer.identity is not None
    return customer.identity.kind, customer.identity.number


def test_every_spelling_of_one_persons_number_is_one_customer_of_the_co(
    server: RunningServer, http: httpx.Client
) -> None:
    # Before: each spelling was a customer of its own (found by the number exactly as sent), and the
    # later orders did not find the earlier orders' customer.
    born_1912 = {order_for(server, http, number) for number in BORN_1912}
    born_2012 = {order_for(server, http, number) for number in BORN_2012}
    assert len(born_1912) == 1 and len(born_2012) == 1, (born_1912, born_2012)
    assert born_1912 != born_2012  # two people: the short form's sign tells the century
    assert identity_of(server, born_1912.pop()) == (PERSONAL_IDENTITY_NUMBER, "191212121212")
    assert identity_of(server, born_2012.pop()) == (PERSONAL_IDENTITY_NUMBER, "201212121212")
    # Another person is another customer; the same person ordered for by another CO is that CO's.
    another = order_for(server, http, "850101-1236")
    assert identity_of(server, another) == (PERSONAL_IDENTITY_NUMBER, "198501011236")
    fibras = {order_for(server, http, number, co="Fibra") for number in ("121212+1212", "19121212-1212")}
    assert len(fibras) == 1 and fibras.isdisjoint({another, *born_1912, *born_2012})
    with server.services.engine.connect() as connection:
        numbers = connection.execute(
            sa.text("SELECT identity_value FROM customers WHERE identity_type = :kind"),
            {"kind": PERSONAL_IDENTITY_NUMBER},
        ).scalars()
        assert sorted(numbers) == ["191212121212", "191212121212", "198501011236", "201212121212"]
