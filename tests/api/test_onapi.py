"""onapi-order (seed 002) over real HTTP: the seed's example, validation, activation now and later
(also across a restart), business refusals, duplicates, auth, rate limits and the listings."""

from __future__ import annotations

import copy
import json
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from orderhub.dialects.onapi.errors import invalid_input_response
from orderhub.dialects.onapi.placing import order_status
from orderhub.domain.errors import InvalidInput
from orderhub.domain.order_states import OrderState
from orderhub.services.access_setup import AccessAdmin
from orderhub.services.demo import demo_credentials
from tests.api.support import RunningServer, running_server

ORDER = "/2.5/sp_spec/order/"
OPERATORS = demo_credentials()["onapi-order"]
ACME, FIBRA = OPERATORS[0], OPERATORS[1]
SEED_REQUEST = """{
  "coId": "Acme",
  "coAccessId": "8732c2f065e2490babce820e94b1011a",
  "operation": "ACTIVATE",
  "orderDateTime": "2021-05-03T20:31:15Z",
  "requestedDateTime": "2021-05-06T00:01:00Z",
  "products": [
    {
      "productId": "8732c2f065e2490babce820e94b1011a",
      "offeringId": "8732c2f065e2490babce820e94b1011a"
    }
  ],
  "customerDetails": {
    "identifiedCustomer": true,
    "personalIdentityNumber": "string",
    "customerFirstname": "string",
    "customerLastName": "string",
    "customerPhone": "string",
    "customerMobilePhone": "string",
    "customerEmail": "string",
    "invoiceDetails": {
      "streetName": "string",
      "streetNumber": "string",
      "streetLittera": "string",
      "postalCode": "string",
      "city": "string"
    }
  }
}"""


def auth(operator: dict[str, object]) -> tuple[str, str]:
    return str(operator["username"]), str(operator["password"])


def when(seconds: float) -> str:
    return (datetime.now(UTC) + timedelta(seconds=seconds)).strftime("%Y-%m-%dT%H:%M:%SZ")


def valid_body(access: str, *, requested: str | None = None, co: str = "Acme", **products: str) -> dict[str, Any]:
    body = json.loads(SEED_REQUEST)
    body.update(coId=co, coAccessId=access, requestedDateTime=requested or when(-60))
    if products:
        body["products"] = [{"productId": products["product"], "offeringId": products["offering"]}]
    body["customerDetails"].update(
        personalIdentityNumber="19121212-1212",
        customerFirstname="Anna",
        customerLastName="Berg",
        customerPhone="+46812345678",
        customerMobilePhone="+46701234567",
        customerEmail="anna@example.se",
    )
    body["customerDetails"]["invoiceDetails"].update(postalCode="12345", city="Stockholm", streetName="Storgatan")
    return body


def send(http: httpx.Client, body: Any, operator: dict[str, object] = ACME, **headers: str) -> httpx.Response:
    content = body if isinstance(body, str | bytes) else json.dumps(body)
    return http.post(
        ORDER, content=content, auth=auth(operator), headers={"Content-Type": "application/json", **headers}
    )


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    with running_server(tmp_path_factory.mktemp("onapi") / "orderhub.db", worker_poll_seconds=0.2) as running:
        yield running


@pytest.fixture
def http(server: RunningServer) -> Iterator[httpx.Client]:
    with server.client() as client:
        yield client


def test_the_seeds_example_verbatim_answers_the_seeds_error(http: httpx.Client) -> None:
    answer = send(http, SEED_REQUEST)
    assert answer.status_code == 400
    assert answer.json() == {
        "cause": "Bad customerDetails.personalIdentityNumber",
        "message": "Social security number is missing or incorrect.",
    }


def test_a_swedish_operator_gets_the_message_in_swedish(http: httpx.Client) -> None:
    answer = send(http, SEED_REQUEST.replace('"Acme"', '"Fibra"'), FIBRA)
    assert answer.status_code == 400
    assert answer.json() == {
        "cause": "Bad customerDetails.personalIdentityNumber",
        "message": "Personnumret saknas eller är felaktigt.",
    }


def test_the_seeds_order_with_valid_data_is_activated_at_once(http: httpx.Client) -> None:
    body = json.loads(SEED_REQUEST)
    valid = valid_body(body["coAccessId"], requested=body["requestedDateTime"])
    answer = send(http, valid)
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"status": "ACTIVATED", "message": "The service is activated."}
    assert "Idempotent-Replayed" not in answer.headers
    # The same order again answers its state, and says it is a replay; it does not order twice.
    again = send(http, valid)
    assert again.json()["status"] == "ACTIVATED" and again.headers["Idempotent-Replayed"] == "true"


def test_an_order_for_later_is_received_and_activated_by_the_worker_then(
    server: RunningServer, http: httpx.Client
) -> None:
    body = valid_body("access-free-1", requested=when(2), product="fiber-internet", offering="1000-1000")
    first = send(http, body).json()
    assert first["status"] == "RECEIVED" and "UTC" in first["message"]
    deadline = time.monotonic() + 15
    while send(http, body).json()["status"] != "ACTIVATED" and time.monotonic() < deadline:
        time.sleep(0.2)
    assert send(http, body).json()["status"] == "ACTIVATED"
    with server.services.engine.connect() as connection:
        orders = connection.execute(
            sa.text(
                "SELECT count(*) FROM orders WHERE operation = 'ACTIVATE_SERVICE' AND CAST(request AS TEXT) LIKE :a"
            ),
            {"a": '%"access-free-1"%'},
        ).scalar_one()
    assert orders == 1


def test_a_received_order_survives_a_restart(tmp_path: Path) -> None:
    with running_server(tmp_path / "restart.db", worker_poll_seconds=0.2) as server, server.client() as http:
        # Dated once the server is up: on a busy machine a slow start made it due before it was placed.
        due = datetime.now(UTC) + timedelta(seconds=4)
        requested = due.strftime("%Y-%m-%dT%H:%M:%SZ")
        body = valid_body("access-free-2", requested=requested, product="iptv", offering="basic")
        assert send(http, body).json()["status"] == "RECEIVED"
    time.sleep(max(0.0, (due - datetime.now(UTC)).total_seconds()) + 0.5)  # due while nothing runs
    with running_server(tmp_path / "restart.db", worker_poll_seconds=0.2) as server, server.client() as http:
        deadline = time.monotonic() + 15
        while send(http, body).json()["status"] != "ACTIVATED" and time.monotonic() < deadline:
            time.sleep(0.2)
        assert send(http, body).json()["status"] == "ACTIVATED"


def test_an_order_due_now_not_activated_within_the_answers_budget_names_no_past_date(tmp_path: Path) -> None:
    # An API process whose worker does not keep up (here: none, as with serve --no-worker): an order
    # due now is answered RECEIVED when the budget runs out, and must not say it will be activated
    # at its requested time, which is gone (it said "...will be activated 2021-05-06 00:01 UTC.").
    settings = {"fulfil_inline": False, "final_answer_budget_seconds": 0.3}
    with running_server(tmp_path / "late.db", run_worker=False, **settings) as server, server.client() as http:
        seeds = valid_body("access-free-1", requested="2021-05-06T00:01:00Z", product="iptv", offering="basic")
        soon = {
            "status": "RECEIVED",
            "message": "The order is received. The service will be activated as soon as possible.",
        }
        assert send(http, seeds).json() == soon
        assert send(http, seeds).json() == soon  # the same order again, still waiting
        fibra = valid_body(
            "access-free-2", co="Fibra", requested=when(-60), product="fiber-internet", offering="250-250"
        )
        assert send(http, fibra, FIBRA).json() == {
            "status": "RECEIVED",
            "message": "Beställningen är mottagen. Tjänsten aktiveras så snart som möjligt.",
        }
        # The time asked for, to the second when it has seconds (cut to the minute it named a moment before).
        requested = (datetime.now(UTC) + timedelta(days=1)).replace(second=38, microsecond=0)
        later = valid_body(
            "access-free-3", requested=requested.strftime("%Y-%m-%dT%H:%M:%SZ"), product="iptv", offering="basic"
        )
        assert send(http, later).json() == {
            "status": "RECEIVED",
            "message": f"The order is received. The service will be activated {requested:%Y-%m-%d %H:%M}:38 UTC.",
        }
        # A worker comes along (here: the same services, run once): the orders due are activated.
        assert server.services.fulfilment.run_due("test-worker", 10) == 2
        assert send(http, seeds).json() == {"status": "ACTIVATED", "message": "The service is activated."}


def change(edit: Any) -> dict[str, Any]:
    body = valid_body("access-free-3", requested=when(86400 * 30), product="fiber-internet", offering="250-250")
    edit(body)
    return body


def customer(**values: Any) -> Any:
    return lambda body: body["customerDetails"].update(values)


def invoice(**values: Any) -> Any:
    return lambda body: body["customerDetails"]["invoiceDetails"].update(values)


# The specification's headings, each a field of the order body: what a 400's cause names ("Bad <heading>").
SPEC_HEADINGS = (
    "coId", "coAccessId", "operation", "orderDateTime", "requestedDateTime", "products", "products.productId",
    "products.offeringId", "customerDetails", "customerDetails.identifiedCustomer",
    "customerDetails.personalIdentityNumber", "customerDetails.customerFirstname", "customerDetails.customerLastName",
    "customerDetails.customerPhone", "customerDetails.customerMobilePhone", "customerDetails.customerEmail",
    "customerDetails.invoiceDetails", "customerDetails.streetName", "customerDetails.streetNumber",
    "customerDetails.streetLittera", "customerDetails.postalCode", "customerDetails.city",
)  # fmt: skip
INPUT_ERRORS = [
    (change(lambda b: b.update(coId="Acme!")), "Bad coId"),
    (change(lambda b: b.update(coAccessId="not an id!")), "Bad coAccessId"),
    (change(lambda b: b.update(coAccessId="x" * 37)), "Bad coAccessId"),
    (change(lambda b: b.update(operation="DEACTIVATE")), "Bad operation"),
    (change(lambda b: b.update(orderDateTime="yesterday")), "Bad orderDateTime"),
    (change(lambda b: b.update(requestedDateTime="2026-12-01T10:00:00+02:00")), "Bad requestedDateTime"),
    (change(lambda b: b.update(products=[])), "Bad products"),
    (change(lambda b: b.update(products=["fiber-internet"])), "Bad products"),
    (change(lambda b: b["products"][0].update(productId="bad id")), "Bad products.productId"),
    (change(lambda b: b["products"][0].pop("offeringId")), "Bad products.offeringId"),
    (change(lambda b: b.pop("customerDetails")), "Bad customerDetails"),
    (change(customer(identifiedCustomer="yes")), "Bad customerDetails.identifiedCustomer"),
    (change(customer(personalIdentityNumber="19121212-1213")), "Bad customerDetails.personalIdentityNumber"),
    (change(customer(personalIdentityNumber="19990230-1234")), "Bad customerDetails.personalIdentityNumber"),
    (change(customer(personalIdentityNumber="1212121213")), "Bad customerDetails.personalIdentityNumber"),
    (change(customer(customerFirstname="")), "Bad customerDetails.customerFirstname"),
    (change(customer(customerLastName="x" * 256)), "Bad customerDetails.customerLastName"),
    (change(customer(customerPhone="0812345678")), "Bad customerDetails.customerPhone"),
    (change(customer(customerMobilePhone="+46 70 123")), "Bad customerDetails.customerMobilePhone"),
    (change(customer(customerEmail="anna@")), "Bad customerDetails.customerEmail"),
    (change(customer(invoiceDetails="Storgatan 1, 12345 Stockholm")), "Bad customerDetails.invoiceDetails"),
    (change(lambda b: b["customerDetails"]["invoiceDetails"].pop("streetName")), "Bad customerDetails.streetName"),
    (change(invoice(streetNumber="1" * 256)), "Bad customerDetails.streetNumber"),
    (change(invoice(streetLittera="B" * 256)), "Bad customerDetails.streetLittera"),
    (change(invoice(postalCode="01234")), "Bad customerDetails.postalCode"),
    (change(lambda b: b["customerDetails"]["invoiceDetails"].pop("city")), "Bad customerDetails.city"),
    (change(lambda b: b.update(requestedDateTime=when(86400 * 3653 + 600))), "Bad requestedDateTime"),
    (b"{not json", "Bad request body"),
]


@pytest.mark.parametrize(("body", "cause"), INPUT_ERRORS)
def test_each_input_error_names_its_field_and_gives_a_customer_message(
    http: httpx.Client, body: Any, cause: str
) -> None:
    answer = send(http, body)
    assert answer.status_code == 400, answer.text
    assert answer.json()["cause"] == cause
    assert answer.json()["message"]


def test_the_causes_name_each_field_as_the_specifications_headings_do() -> None:
    # Every heading has its case above, and no cause names a field another way (products[0].productId,
    # customerDetails.invoiceDetails.postalCode): a CO's integration built from the specification
    # matches these names.
    assert {cause for _body, cause in INPUT_ERRORS} == {f"Bad {heading}" for heading in SPEC_HEADINGS} | {
        "Bad request body"
    }


def test_a_domain_field_the_specification_does_not_name_is_no_cause() -> None:
    # The intake raises InvalidInput for products and requested_at only (mapped above); any other
    # domain field name must not reach a CO as if it were a field of the order.
    answer = invalid_input_response(InvalidInput("no such partner", field="partner"), "sv")
    assert json.loads(answer.body) == {
        "cause": "Bad request",
        "message": "Beställningen är felaktig; kontakta din leverantör.",
    }


@pytest.mark.parametrize("number", ["19121212-1212", "121212-1212", "191212121212", "121212+1212", "1212121212"])
def test_identity_numbers_in_each_documented_form_are_accepted(
    server: RunningServer, http: httpx.Client, number: str
) -> None:
    body = change(customer(personalIdentityNumber=number))
    # An access of its own: a second open order for the product on one access would be REJECTED.
    body["coAccessId"] = f"access-{uuid.uuid4().hex[:12]}"
    AccessAdmin(server.services.uow_factory).add_access(body["coAccessId"])
    assert send(http, body).json()["status"] in ("RECEIVED", "ACTIVATED")


def test_an_unidentified_customer_needs_no_identity_number(http: httpx.Client) -> None:
    body = change(customer(identifiedCustomer=False, personalIdentityNumber=None))
    body["coAccessId"] = "access-free-4"
    assert send(http, body).json()["status"] == "RECEIVED"


@pytest.mark.parametrize(
    ("access", "product", "offering", "operator", "message"),
    [
        ("access-free-5", "iptv", "basic", FIBRA, "Den valda tjänsten finns inte"),  # not Fibra's to order
        ("access-free-5", "fiber-internet", "9999-9999", ACME, "not available"),
        ("no-such-access", "fiber-internet", "1000-1000", ACME, "could not be found"),
        ("access-blocked-1", "fiber-internet", "1000-1000", ACME, "cannot be placed"),
        ("access-active-1", "fiber-internet", "1000-1000", ACME, "already active"),
    ],
)
def test_business_refusals_are_rejected_with_a_presentable_message(
    http: httpx.Client, access: str, product: str, offering: str, operator: dict[str, object], message: str
) -> None:
    body = valid_body(access, co=str(operator["co_id"]), product=product, offering=offering)
    answer = send(http, body, operator)
    assert answer.status_code == 200, answer.text
    assert answer.json()["status"] == "REJECTED" and message in answer.json()["message"]


def test_another_operators_co_id_is_forbidden_and_credentials_are_required(http: httpx.Client) -> None:
    answer = send(http, valid_body("access-free-6", co="Fibra"))
    assert answer.status_code == 403 and set(answer.json()) == {"cause"}
    anonymous = http.post(ORDER, json=valid_body("access-free-6"))
    assert anonymous.status_code == 401 and anonymous.headers["WWW-Authenticate"].startswith("Basic")
    wrong = http.post(ORDER, json=valid_body("access-free-6"), auth=("demo-co-acme", "wrong-password"))
    assert wrong.status_code == 401 and set(wrong.json()) == {"cause"}
    channel = http.post(ORDER, json=valid_body("access-free-6"), auth=("demo-channel-1", "demo-channel-1-secret"))
    assert channel.status_code == 403


def test_the_path_without_the_trailing_slash_and_idempotency_keys(http: httpx.Client) -> None:
    body = valid_body("access-free-7", requested=when(86400), product="fiber-internet", offering="250-250")
    key = str(uuid.uuid4())
    first = http.post(ORDER.rstrip("/"), json=body, auth=auth(ACME), headers={"Idempotency-Key": key})
    assert first.json()["status"] == "RECEIVED"
    retried = http.post(ORDER, json=body, auth=auth(ACME), headers={"Idempotency-Key": key})
    assert retried.json() == first.json() and retried.headers["Idempotent-Replayed"] == "true"
    other = copy.deepcopy(body)
    other["requestedDateTime"] = when(2 * 86400)
    conflict = http.post(ORDER, json=other, auth=auth(ACME), headers={"Idempotency-Key": key})
    assert conflict.status_code == 409 and set(conflict.json()) == {"cause"}


def test_a_co_over_its_rate_limit_gets_429_with_retry_after(tmp_path: Path) -> None:
    with running_server(tmp_path / "rate.db") as server, server.client() as http:
        server.services.partners.set_rate_limit(str(ACME["partner"]), 3)
        answers = [http.get("/2.5/sp_spec/products/", auth=auth(ACME)) for _ in range(4)]
        assert [a.status_code for a in answers] == [200, 200, 200, 429]
        assert int(answers[-1].headers["Retry-After"]) >= 1 and set(answers[-1].json()) == {"cause"}
        assert http.get("/2.5/sp_spec/products/", auth=auth(FIBRA)).status_code == 200  # its own budget


def test_unknown_paths_under_2_5_are_not_implemented(http: httpx.Client) -> None:
    answer = http.get("/2.5/sp_spec/unknown/")
    assert answer.status_code == 501 and set(answer.json()) == {"cause"}


def test_the_endpoint_list_and_each_operators_products(http: httpx.Client) -> None:
    endpoints = http.get("/2.5/").json()
    assert {"name", "endpoint", "version", "documentation"} <= set(endpoints[0])
    assert ORDER in [e["endpoint"] for e in endpoints]
    acme = http.get("/2.5/sp_spec/products/", auth=auth(ACME)).json()
    assert sorted(p["productId"] for p in acme) == sorted(
        ["fiber-internet", "iptv", "8732c2f065e2490babce820e94b1011a"]
    )
    assert sum(len(p["offerings"]) for p in acme) == 4
    fibra = http.get("/2.5/sp_spec/products", auth=auth(FIBRA)).json()
    assert fibra == [
        {
            "productId": "fiber-internet",
            "name": "Fiber internet",
            "offerings": [{"offeringId": "250-250", "name": "250/250 Mbit/s"}],
        }
    ]


def test_the_endpoint_lists_documentation_links_never_follow_the_host_header(
    http: httpx.Client, tmp_path: Path
) -> None:
    # They were built from the Host header the client sent: a list that linked to http://evil.example.
    listed = http.get("/2.5/", headers={"Host": "evil.example"})
    assert listed.status_code == 200
    assert {entry["documentation"] for entry in listed.json()} == {"/2.5/docs"}  # relative, without a public URL
    public = "https://orders.example.com/api/"
    with running_server(tmp_path / "public.db", public_url=public) as server, server.client() as client:
        answer = client.get("/2.5/", headers={"Host": "evil.example"})
    assert {entry["documentation"] for entry in answer.json()} == {"https://orders.example.com/api/2.5/docs"}


def test_a_received_order_names_its_time_to_the_minute_or_to_the_second_as_it_was_asked() -> None:
    now = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)
    for due, shown in [
        (datetime(2026, 12, 7, 17, 27, tzinfo=UTC), "2026-12-07 17:27 UTC"),
        (datetime(2026, 12, 7, 17, 27, 38, 270000, tzinfo=UTC), "2026-12-07 17:27:38 UTC"),
        (
            datetime(2026, 12, 7, 18, 27, 38, tzinfo=UTC).astimezone(timezone(timedelta(hours=1))),
            "2026-12-07 18:27:38 UTC",
        ),
    ]:
        answer = order_status(OrderState.SCHEDULED, due, "en", now)
        assert answer == {
            "status": "RECEIVED",
            "message": f"The order is received. The service will be activated {shown}.",
        }
