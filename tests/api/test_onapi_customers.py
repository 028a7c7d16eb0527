"""onapi-order's customers: one per person of a CO, whichever spelling of the personal identity number
its orders send (kept and found by the canonical 12 digits), also for customers stored before
(migration 0014). Runs on SQLite and, with ORDERHUB_TEST_POSTGRES, on PostgreSQL."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa

from orderhub.bootstrap import build_services
from orderhub.domain.customers import PERSONAL_IDENTITY_NUMBER, Identity, personal_identity
from orderhub.services.access_setup import AccessAdmin
from orderhub.settings import Settings
from orderhub.store import migrate
from orderhub.store.tables import customers, orders, partners
from tests.api.support import RunningServer, running_server
from tests.api.test_onapi import ACME, FIBRA, send, valid_body, when
from tests.databases import database_url

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


# (customer, partner, dialect of its order, stored number, stored on, number after the migration)
STORED_BEFORE = [
    ("c1", "co", "onapi-order", "19121212-1212", date(2026, 1, 1), "191212121212"),
    # The same person, younger record: the canonical number is c1's now; c2 keeps its spelling (and
    # its orders), and is no longer found.
    ("c2", "co", "onapi-order", "121212+1212", date(2026, 1, 2), "121212+1212"),
    # Stored in the canonical form already (a younger record): the older spelling stays.
    ("c3", "co", "onapi-order", "1212121212", date(2026, 1, 3), "1212121212"),
    ("c4", "co", "onapi-order", "201212121212", date(2026, 1, 4), "201212121212"),
    ("c5", "co", "onapi-order", "850101-1236", date(2026, 1, 5), "198501011236"),
    # 1 December in the short form, stored on 24 November 2026: a birth a century ago then (validation
    # read it so that day), whenever the migration runs.
    ("c6", "co", "onapi-order", "2612011235", date(2026, 11, 24), "192612011235"),
    ("c7", "co", "onapi-order", "19121212-1213", date(2026, 1, 7), "19121212-1213"),  # no valid number
    ("c8", "other-co", "onapi-order", "121212+1212", date(2026, 1, 8), "191212121212"),  # another CO's
    # A TMF partner's identification type of the same name: kept as the partner spells it.
    ("c9", "tmf", "tmf-productorder", "121212-1212", date(2026, 1, 9), "121212-1212"),
]


def test_migrating_keeps_stored_onapi_customers_by_their_canonical_number(tmp_path: Path) -> None:
    built = build_services(Settings(database_url=database_url(tmp_path / "before-0014.db")))
    migrate.upgrade(built.engine, "0013")
    stamp = datetime(2026, 1, 1, tzinfo=UTC)
    with built.engine.begin() as connection:
        for partner in ("co", "other-co", "tmf"):
            connection.execute(
                sa.insert(partners).values(id=partner, name=partner, roles=[], currencies=[], created_at=stamp)
            )
        for customer_id, partner, dialect, number, stored_on, _after in STORED_BEFORE:
            at = datetime.combine(stored_on, datetime.min.time(), UTC).replace(hour=10)
            connection.execute(
                sa.insert(customers).values(
                    id=customer_id,
                    partner_id=partner,
                    created_at=at,
                    identity_type=PERSONAL_IDENTITY_NUMBER,
                    identity_value=number,
                )
            )
            connection.execute(
                sa.insert(orders).values(
                    id=f"order-{customer_id}",
                    partner_id=partner,
                    dialect=dialect,
                    operation="ACTIVATE_SERVICE",
                    state="scheduled",
                    customer_id=customer_id,
                    request={},
                    output={},
                    created_at=at,
                    updated_at=at,
                )
            )
    try:
        built.migrate()
        with built.engine.connect() as connection:
            stored = dict(connection.execute(sa.select(customers.c.id, customers.c.identity_value)).all())
            kept_by = dict(connection.execute(sa.select(orders.c.id, orders.c.customer_id)).all())
        assert stored == {customer_id: after for customer_id, *_, after in STORED_BEFORE}
        assert kept_by == {f"order-{customer_id}": customer_id for customer_id, *_ in STORED_BEFORE}
        # The next order for each of them finds them, whatever the spelling it sends.
        today = date(2026, 12, 6)
        with built.uow_factory(read_only=True) as uow:

            def found(partner: str, number: str) -> str | None:
                identity = personal_identity(number, today)
                assert identity is not None
                customer = uow.partners.find_customer_by_identity([partner], identity)
                return customer.id if customer else None

            assert {n: found("co", n) for n in BORN_1912} == dict.fromkeys(BORN_1912, "c1")
            assert {n: found("co", n) for n in BORN_2012} == dict.fromkeys(BORN_2012, "c4")
            assert found("co", "198501011236") == "c5" and found("other-co", "19121212-1212") == "c8"
            assert found("co", "19261201-1235") == "c6"
            assert found("tmf", "121212-1212") is None  # TMF's customer is found as TMF spells it
            tmf = uow.partners.find_customer_by_identity(["tmf"], Identity(PERSONAL_IDENTITY_NUMBER, "121212-1212"))
            assert tmf is not None and tmf.id == "c9"
        assert migrate.schema_state(built.engine).status == "current"
    finally:
        built.close()
