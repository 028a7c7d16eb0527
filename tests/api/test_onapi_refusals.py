"""onapi-order over real HTTP: what an order must not get through to (a product twice, a product
already scheduled, text a database cannot hold, a reused Idempotency-Key), and the paths and forms
at the edge of the contract. Runs on SQLite and, with ORDERHUB_TEST_POSTGRES, on PostgreSQL."""

from __future__ import annotations

import copy
import json
import random
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from orderhub.domain.identifiers import luhn_check_digit
from orderhub.services.access_setup import AccessAdmin
from orderhub.services.idempotency import request_fingerprint
from tests.api.support import RunningServer, non_canonical_basic, running_server
from tests.api.test_onapi import ACME, FIBRA, ORDER, send, valid_body, when


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    with running_server(tmp_path_factory.mktemp("onapi-refusals") / "orderhub.db", worker_poll_seconds=0.2) as running:
        yield running


@pytest.fixture
def http(server: RunningServer) -> Iterator[httpx.Client]:
    with server.client() as client:
        yield client


@pytest.fixture
def access(server: RunningServer) -> str:
    """A free access of this test's own."""
    ref = f"access-{uuid.uuid4().hex[:12]}"
    AccessAdmin(server.services.uow_factory).add_access(ref)
    return ref


def new_pin() -> str:
    """A valid personal identity number no test used before: a customer orderhub does not know yet."""
    serial = f"{random.randrange(1000):03d}"
    payload = f"{random.randrange(1950, 2000)}0{random.randrange(1, 10)}1{random.randrange(10)}"
    return f"{payload}-{serial}{luhn_check_digit(payload[2:] + serial)}"


def services_on(server: RunningServer, ref: str) -> list[str]:
    """The products ever activated on the access ``ref``."""
    with server.services.uow_factory() as uow:
        found = uow.accesses.by_ref(ref)
        assert found is not None
        return [s.product_id for s in uow.accesses.services_of(found.id)]


@pytest.mark.parametrize("offerings", [("1000-1000", "1000-1000"), ("1000-1000", "250-250")])
@pytest.mark.parametrize("due", [-60, 86400])
def test_an_order_listing_a_product_twice_is_refused_and_activates_nothing(
    server: RunningServer, http: httpx.Client, access: str, offerings: tuple[str, str], due: int
) -> None:
    body = valid_body(access, requested=when(due))
    body["products"] = [{"productId": "fiber-internet", "offeringId": offering} for offering in offerings]
    answer = send(http, body)
    assert answer.status_code == 400, answer.text
    assert answer.json() == {
        "cause": "Bad products",
        "message": "An order may hold at most 10 services, each of them once.",
    }
    assert services_on(server, access) == []
    fibra = valid_body(access, requested=when(due), co="Fibra")
    fibra["products"] = [{"productId": "fiber-internet", "offeringId": "250-250"}] * 2
    swedish = send(http, fibra, FIBRA)
    assert swedish.status_code == 400
    assert swedish.json()["message"] == "En beställning får innehålla högst 10 tjänster, var och en bara en gång."


def test_a_product_already_scheduled_on_the_access_is_rejected_at_intake(
    server: RunningServer, http: httpx.Client, access: str
) -> None:
    first = valid_body(access, requested=when(86400), product="fiber-internet", offering="1000-1000")
    assert send(http, first).json()["status"] == "RECEIVED"
    later = valid_body(access, requested=when(2 * 86400), product="fiber-internet", offering="250-250")
    answer = send(http, later)
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"status": "REJECTED", "message": "The service is already ordered for this connection."}
    assert send(http, first).json()["status"] == "RECEIVED"  # the first order again: its own answer
    other = valid_body(access, requested=when(2 * 86400), product="iptv", offering="basic")
    assert send(http, other).json()["status"] == "RECEIVED"  # another product is fine


def test_two_orders_racing_for_one_product_on_an_access_are_not_both_received(http: httpx.Client, access: str) -> None:
    bodies = [
        valid_body(access, requested=when(86400 * days), product="fiber-internet", offering="1000-1000")
        for days in (1, 2, 3, 4)
    ]
    with ThreadPoolExecutor(len(bodies)) as pool:
        answers = list(pool.map(lambda body: send(http, body), bodies))
    assert all(answer.status_code == 200 for answer in answers), [a.text for a in answers]
    assert sorted(answer.json()["status"] for answer in answers) == ["RECEIVED", "REJECTED", "REJECTED", "REJECTED"]


def test_a_new_customer_with_two_names_of_the_longest_allowed_is_stored(http: httpx.Client, access: str) -> None:
    body = valid_body(access, requested=when(86400))
    body["customerDetails"].update(
        customerFirstname="F" * 255, customerLastName="L" * 255, personalIdentityNumber=new_pin()
    )
    answer = send(http, body)
    assert answer.status_code == 200, answer.text
    assert answer.json()["status"] == "RECEIVED"


STRING_FIELDS = [
    ("coId",),
    ("coAccessId",),
    ("operation",),
    ("orderDateTime",),
    ("requestedDateTime",),
    ("products", 0, "productId"),
    ("products", 0, "offeringId"),
    *[
        ("customerDetails", name)
        for name in (
            "personalIdentityNumber",
            "customerFirstname",
            "customerLastName",
            "customerPhone",
            "customerMobilePhone",
            "customerEmail",
        )
    ],
    *[
        ("customerDetails", "invoiceDetails", name)
        for name in ("streetName", "streetNumber", "streetLittera", "postalCode", "city")
    ],
]


def _path(field: tuple[str | int, ...]) -> str:
    """The field as the specification's headings name it: no index, invoice fields under customerDetails."""
    return ".".join(str(p) for p in field if not isinstance(p, int) and p != "invoiceDetails")


@pytest.mark.parametrize("control", ["\u0000", "\u001f", "\n"])
@pytest.mark.parametrize("field", STRING_FIELDS, ids=_path)
def test_a_control_character_in_any_text_field_answers_that_fields_400(
    http: httpx.Client, access: str, field: tuple[str | int, ...], control: str
) -> None:
    body = valid_body(access, requested=when(86400))
    parent: Any = body
    for step in field[:-1]:
        parent = parent[step]
    parent[field[-1]] += control
    answer = send(http, body)
    assert answer.status_code == 400, answer.text
    expected = "Bad " + _path(field)
    assert answer.json()["cause"] == expected and answer.json()["message"]


NOT_ALLOWED = ("contains a character that is not allowed.", "innehåller ett tecken som inte är tillåtet.")
TOO_LONG = ("is longer than 255 characters.", "är längre än 255 tecken.")
NAME, ADDRESS = ("The name", "Namnet"), ("The invoice address", "Fakturaadressen")
EMAIL, PHONE = ("The e-mail address", "E-postadressen"), ("The phone number", "Telefonnumret")


@pytest.mark.parametrize(
    ("field", "value", "subject", "fault"),
    [
        pytest.param(("customerDetails", "customerFirstname"), "A\u0000B", NAME, NOT_ALLOWED, id="name, NUL"),
        pytest.param(("customerDetails", "customerLastName"), "B" * 256, NAME, TOO_LONG, id="name, long"),
        pytest.param(("customerDetails", "invoiceDetails", "streetName"), "Gatan\t1", ADDRESS, NOT_ALLOWED, id="tab"),
        pytest.param(("customerDetails", "invoiceDetails", "streetNumber"), "1" * 256, ADDRESS, TOO_LONG, id="long"),
        pytest.param(("customerDetails", "invoiceDetails", "city"), "Lund\u007f", ADDRESS, NOT_ALLOWED, id="DEL"),
        pytest.param(("customerDetails", "customerEmail"), "a\n@example.se", EMAIL, NOT_ALLOWED, id="e-mail"),
        pytest.param(("customerDetails", "customerMobilePhone"), "+4670123\u001f", PHONE, NOT_ALLOWED, id="phone"),
    ],
)
def test_a_text_fields_400_says_what_is_wrong_with_it_in_the_cos_language(
    http: httpx.Client,
    access: str,
    field: tuple[str, ...],
    value: str,
    subject: tuple[str, str],
    fault: tuple[str, str],
) -> None:
    # A name holding a NUL was "missing or too long", a street holding a tab "incomplete": the end
    # customer could not tell what to correct.
    for operator, language in ((ACME, 0), (FIBRA, 1)):
        body = valid_body(access, requested=when(86400), co=str(operator["co_id"]))
        parent: Any = body
        for step in field[:-1]:
            parent = parent[step]
        parent[field[-1]] = value
        answer = send(http, body, operator)
        assert answer.status_code == 400, answer.text
        assert answer.json() == {"cause": "Bad " + _path(field), "message": f"{subject[language]} {fault[language]}"}


def test_a_missing_name_or_street_keeps_its_own_message(http: httpx.Client, access: str) -> None:
    body = valid_body(access, requested=when(86400))
    body["customerDetails"]["customerFirstname"] = "  "
    assert send(http, body).json()["message"] == "The name is missing or too long."
    body = valid_body(access, requested=when(86400))
    del body["customerDetails"]["invoiceDetails"]["streetName"]
    assert send(http, body).json()["message"] == "The invoice address is incomplete."


def test_an_optional_field_left_blank_is_taken_as_left_out(http: httpx.Client, access: str) -> None:
    # As "" was: blanks were "Bad customerDetails.streetNumber" (and a phone's or e-mail's 400) instead.
    body = valid_body(access, requested=when(86400))
    body["customerDetails"].update(customerPhone="  ", customerMobilePhone=" ", customerEmail="   ")
    body["customerDetails"]["invoiceDetails"].update(streetNumber="  ", streetLittera=" ")
    answer = send(http, body)
    assert answer.status_code == 200, answer.text
    assert answer.json()["status"] == "RECEIVED"


def test_a_nul_in_a_field_orderhub_does_not_read_is_kept_harmlessly(http: httpx.Client, access: str) -> None:
    body = valid_body(access, requested=when(86400))
    body["note"] = "a\u0000b"
    body["customerDetails"]["extra"] = {"x": "\u0000"}
    answer = send(http, body)
    assert answer.status_code == 200, answer.text


ALREADY_ORDERED = "The service is already ordered for this connection."


def orders_on(server: RunningServer, ref: str) -> int:
    """How many orders were stored for the access ``ref``."""
    with server.services.engine.connect() as connection:
        return int(
            connection.execute(
                sa.text("SELECT count(*) FROM orders WHERE CAST(request AS TEXT) LIKE :ref"), {"ref": f'%"{ref}"%'}
            ).scalar_one()
        )


def another_customer(body: dict[str, Any], **details: Any) -> dict[str, Any]:
    other = copy.deepcopy(body)
    other["orderDateTime"] = when(0)
    other["customerDetails"].update(details)
    return other


@pytest.mark.parametrize(
    "other",
    [
        {"personalIdentityNumber": "121212-1212", "customerFirstname": "Bo", "customerEmail": "bo@example.se"},
        {"identifiedCustomer": False, "personalIdentityNumber": None, "customerFirstname": "Cecilia"},
        {"customerFirstname": "Annie"},  # the same identity number, another name
        {"invoiceDetails": {"streetName": "Lillgatan", "postalCode": "54321", "city": "Lund"}},
    ],
    ids=["another person", "an unidentified person", "another name", "another invoice address"],
)
def test_another_customers_order_with_the_first_ones_access_products_and_date_is_not_its_replay(
    server: RunningServer, http: httpx.Client, access: str, other: dict[str, Any]
) -> None:
    # The review's case: the second customer used to be answered RECEIVED and dropped (the natural key
    # left customerDetails out). Now it is a new order, refused as the product is ordered already.
    body = valid_body(access, requested="2027-01-01T00:00:00Z", product="iptv", offering="basic")
    assert send(http, body).json()["status"] == "RECEIVED"
    answer = send(http, another_customer(body, **other))
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"status": "REJECTED", "message": ALREADY_ORDERED}
    assert orders_on(server, access) == 1
    # Fibra's customer hears it in Swedish (its own access: Fibra may order fiber-internet/250-250 only).
    swedish = valid_body(f"{access}-sv", requested="2027-01-01T00:00:00Z", co="Fibra")
    swedish["products"] = [{"productId": "fiber-internet", "offeringId": "250-250"}]
    AccessAdmin(server.services.uow_factory).add_access(swedish["coAccessId"])
    assert send(http, swedish, FIBRA).json()["status"] == "RECEIVED"
    assert send(http, another_customer(swedish, **other), FIBRA).json() == {
        "status": "REJECTED",
        "message": "Tjänsten är redan beställd till den här anslutningen.",
    }


@pytest.mark.parametrize("due", [-60, 86400])
def test_a_true_retry_answers_the_first_orders_state_even_with_a_new_order_date_time(
    server: RunningServer, http: httpx.Client, access: str, due: int
) -> None:
    body = valid_body(access, requested=when(due), product="fiber-internet", offering="1000-1000")
    first = send(http, body).json()
    assert first["status"] == ("ACTIVATED" if due < 0 else "RECEIVED")
    assert send(http, body).json() == first  # byte for byte the same body
    restamped = copy.deepcopy(body)
    restamped["orderDateTime"] = when(0)
    # A retry may carry a new orderDateTime, and the customer's fields in another key order.
    restamped["customerDetails"] = dict(reversed(list(restamped["customerDetails"].items())))
    assert send(http, restamped).json() == first
    assert orders_on(server, access) == 1
    # Another customer's: the product is active (due now) or ordered (later) on the access already.
    refused = send(http, another_customer(body, customerFirstname="Annie")).json()
    expected = "The service is already active on this connection." if due < 0 else ALREADY_ORDERED
    assert refused == {"status": "REJECTED", "message": expected}
    assert orders_on(server, access) == 1


def test_an_idempotency_key_reused_with_another_body_conflicts_even_when_the_natural_key_matches(
    http: httpx.Client, access: str
) -> None:
    body = valid_body(access, requested=when(86400))
    key = str(uuid.uuid4())
    assert send(http, body, **{"Idempotency-Key": key}).json()["status"] == "RECEIVED"
    assert send(http, body, **{"Idempotency-Key": key}).json()["status"] == "RECEIVED"  # a retry
    other = copy.deepcopy(body)
    other["customerDetails"]["customerEmail"] = "someone.else@example.se"
    conflict = send(http, other, **{"Idempotency-Key": key})
    assert conflict.status_code == 409, conflict.text
    assert set(conflict.json()) == {"cause"}
    # Without the key: another customer's order for the product the first one orders, not a retry of it.
    assert send(http, other).json() == {"status": "REJECTED", "message": ALREADY_ORDERED}
    assert send(http, body).json()["status"] == "RECEIVED"  # the first order again, without its key


@pytest.mark.parametrize("due", [-60, 86400])
def test_a_retry_with_its_idempotency_key_may_stamp_order_date_time_anew(
    server: RunningServer, http: httpx.Client, access: str, due: int
) -> None:
    # As without a key (README): the key's fingerprint covered orderDateTime, so such a retry was 409.
    body = valid_body(access, requested=when(due), product="fiber-internet", offering="1000-1000")
    key = {"Idempotency-Key": str(uuid.uuid4())}
    first = send(http, body, **key)
    assert first.json()["status"] == ("ACTIVATED" if due < 0 else "RECEIVED")
    restamped = copy.deepcopy(body)
    restamped["orderDateTime"] = when(0)
    retried = send(http, restamped, **key)
    assert retried.status_code == 200, retried.text
    assert retried.json() == first.json() and retried.headers["Idempotent-Replayed"] == "true"
    assert orders_on(server, access) == 1
    # Anything else differing is another request under the key, the customer's fields as the rest.
    for change in ({"note": "a member orderhub does not read"}, {"coAccessId": f"{access}-2"}):
        other = {**restamped, **change}
        assert send(http, other, **key).status_code == 409, change
    street = copy.deepcopy(restamped)
    street["customerDetails"]["invoiceDetails"]["streetNumber"] = "2"
    assert send(http, street, **key).status_code == 409


def test_a_key_stored_before_it_left_order_date_time_out_still_answers_its_first_order(
    server: RunningServer, http: httpx.Client, access: str
) -> None:
    # Its use, as the release before 2026-12-07 stored it: the fingerprint of the whole body.
    body = valid_body(access, requested=when(86400))
    key = str(uuid.uuid4())
    assert send(http, body, **{"Idempotency-Key": key}).json()["status"] == "RECEIVED"
    with server.services.engine.begin() as connection:
        stored = connection.execute(
            sa.text("UPDATE idempotency_keys SET request_hash = :hash WHERE key = :key"),
            {"hash": request_fingerprint(body), "key": key},
        )
        assert stored.rowcount == 1
    again = send(http, body, **{"Idempotency-Key": key})
    assert again.status_code == 200, again.text
    assert again.json()["status"] == "RECEIVED" and again.headers["Idempotent-Replayed"] == "true"
    other = copy.deepcopy(body)
    other["customerDetails"]["customerEmail"] = "someone.else@example.se"
    assert send(http, other, **{"Idempotency-Key": key}).status_code == 409


def test_an_idempotency_key_too_long_names_the_header_with_a_message(http: httpx.Client, access: str) -> None:
    body = valid_body(access, requested=when(86400))
    answer = send(http, body, **{"Idempotency-Key": "k" * 256})
    assert answer.status_code == 400
    assert answer.json() == {
        "cause": "Bad Idempotency-Key",
        "message": "The order is incorrect; please contact your provider.",
    }
    fibra = send(http, valid_body(access, requested=when(86400), co="Fibra"), FIBRA, **{"Idempotency-Key": "k" * 256})
    assert fibra.json() == {
        "cause": "Bad Idempotency-Key",
        "message": "Beställningen är felaktig; kontakta din leverantör.",
    }
    assert send(http, body, **{"Idempotency-Key": "k" * 255}).json()["status"] == "RECEIVED"


@pytest.mark.parametrize(
    ("method", "path", "status", "allow"),
    [
        ("POST", "/2.5/sp_spec/order//", 501, None),
        ("POST", "/2.5/sp_spec/order///", 501, None),
        ("GET", "/2.5/sp_spec/products//", 501, None),
        ("POST", "/2.5//", 501, None),
        ("GET", "/2.5/sp_spec/order/", 405, "POST"),
        ("GET", "/2.5/sp_spec/order", 405, "POST"),
        ("POST", "/2.5/sp_spec/products/", 405, "GET, HEAD"),
        # The root without its slash, as every other path; the documents as every other GET path.
        ("POST", "/2.5", 405, "GET, HEAD"),
        ("POST", "/2.5/openapi.json", 405, "GET, HEAD"),
        ("PUT", "/2.5/docs", 405, "GET, HEAD"),
        ("POST", "/2.5/openapi.json/", 501, None),
    ],
)
def test_paths_not_served_answer_501_and_served_ones_405_for_another_method(
    http: httpx.Client, method: str, path: str, status: int, allow: str | None
) -> None:
    answer = http.request(method, path, auth=("demo-co-acme", "demo-co-acme-secret"))
    assert answer.status_code == status, answer.text
    assert set(answer.json()) == {"cause"}
    assert answer.headers.get("Allow") == allow


@pytest.mark.parametrize("method", ["GET", "HEAD"])
def test_the_endpoint_list_is_served_without_its_trailing_slash_as_every_onapi_path(
    http: httpx.Client, method: str
) -> None:
    # /2.5 alone answered 404 {"cause": "Not Found"}. Served, not redirected: no Location from the Host.
    bare = http.request(method, "/2.5", headers={"Host": "evil.example"})
    assert bare.status_code == 200, bare.text
    assert "location" not in bare.headers
    assert bare.content == http.request(method, "/2.5/").content


@pytest.mark.parametrize(
    "spell",
    [
        str.lower,
        lambda text: text.replace("Z", "z"),
        lambda text: text.replace("T", "t"),
        # UTC spelled as an offset; "-00:00" is RFC 3339's UTC from a sender that does not know its own.
        lambda text: text.replace("Z", "+00:00"),
        lambda text: text.replace("Z", "-00:00"),
    ],
)
def test_rfc_3339_utc_dates_may_be_spelled_each_way_rfc_3339_allows(
    http: httpx.Client, access: str, spell: Any
) -> None:
    requested = when(86400)
    body = valid_body(access, requested=spell(requested))
    body["orderDateTime"] = spell(body["orderDateTime"])
    answer = send(http, body)
    assert answer.status_code == 200, answer.text
    assert answer.json()["status"] == "RECEIVED"
    assert send(http, valid_body(access, requested=requested)).json()["status"] == "RECEIVED"  # the same order


@pytest.mark.parametrize("authorization", [None, "Basic !!!", "Basic " + "a" * 10, "Bearer x"])
def test_every_401_has_one_shape_and_one_challenge(http: httpx.Client, authorization: str | None) -> None:
    headers = {"Content-Type": "application/json"} | ({"Authorization": authorization} if authorization else {})
    answer = http.post(ORDER, content=json.dumps(valid_body("access-free-1")), headers=headers)
    assert answer.status_code == 401, answer.text
    assert answer.json()["cause"] in ("Authentication required", "Bad credentials"), answer.text
    assert answer.headers["www-authenticate"] == 'Basic realm="onapi", charset="UTF-8"'


NON_CANONICAL = non_canonical_basic(str(ACME["username"]), str(ACME["password"]))


@pytest.mark.parametrize("authorization", NON_CANONICAL.values(), ids=NON_CANONICAL)
@pytest.mark.parametrize("path", [ORDER, "/2.5/sp_spec/products/"])
def test_basic_credentials_in_any_but_canonical_base64_are_bad_credentials(
    http: httpx.Client, authorization: str, path: str
) -> None:
    """The framework's decoder dropped what is not base64 and took any padding: each of these signed in."""
    headers = {"Content-Type": "application/json", "Authorization": authorization}
    if path == ORDER:
        answer = http.post(path, content=json.dumps(valid_body("access-free-1")), headers=headers)
    else:
        answer = http.get(path, headers=headers)
    assert (answer.status_code, answer.json()) == (401, {"cause": "Bad credentials"}), answer.text
    assert answer.headers["www-authenticate"] == 'Basic realm="onapi", charset="UTF-8"'


UNREADABLE = {
    "not json": b"{",
    "empty": b"",
    "NaN": b'{"coId": NaN}',
    "a lone surrogate": b'{"coId": "\\ud800"}',
    "nested past the bound": b'{"coId": ' + b"[" * 70 + b"]" * 70 + b"}",
}


@pytest.mark.parametrize("body", UNREADABLE.values(), ids=UNREADABLE.keys())
@pytest.mark.parametrize("path", [ORDER, ORDER.rstrip("/")])
def test_an_unreadable_body_is_told_in_the_cos_language(http: httpx.Client, body: bytes, path: str) -> None:
    # The body guard refused these before the caller was known: in English to a Swedish CO.
    headers = {"Content-Type": "application/json"}
    swedish = http.post(path, content=body, headers=headers, auth=("demo-co-fibra", "demo-co-fibra-secret"))
    assert swedish.status_code == 400, swedish.text
    assert swedish.json() == {"cause": "Bad request body", "message": "Beställningen kunde inte läsas."}
    english = http.post(path, content=body, headers=headers, auth=("demo-co-acme", "demo-co-acme-secret"))
    assert english.json() == {"cause": "Bad request body", "message": "The order could not be read."}


@pytest.mark.parametrize("body", UNREADABLE.values(), ids=UNREADABLE.keys())
@pytest.mark.parametrize("credentials", [None, ("demo-co-acme", "wrong-secret")], ids=["none", "wrong"])
def test_a_caller_without_valid_credentials_is_401_whatever_its_body(
    http: httpx.Client, body: bytes, credentials: tuple[str, str] | None
) -> None:
    # Authenticate, then validate (README): a bad body answered 400 before the credentials were read.
    answer = http.post(ORDER, content=body, headers={"Content-Type": "application/json"}, auth=credentials)
    assert answer.status_code == 401, answer.text
    assert answer.headers["www-authenticate"] == 'Basic realm="onapi", charset="UTF-8"'
    assert set(answer.json()) == {"cause"}


def test_only_the_bodys_size_and_media_type_are_refused_before_the_sign_in(http: httpx.Client) -> None:
    too_large = http.post(ORDER, content=b"{" * 100_000, headers={"Content-Type": "application/json"})
    assert too_large.status_code == 413, too_large.text
    not_json = http.post(ORDER, content=b"{", headers={"Content-Type": "text/plain"})
    assert not_json.status_code == 415, not_json.text


@pytest.mark.parametrize("method", ["OPTIONS", "PUT", "DELETE"])
def test_every_405_says_method_not_allowed_alike(http: httpx.Client, method: str) -> None:
    answer = http.request(method, ORDER)
    assert answer.status_code == 405, answer.text
    assert answer.json() == {"cause": "Method not allowed"}
    assert answer.headers["allow"] == "POST"
