"""Bodies both TMF dialects (tmf-productorder and TMF622) read the same way, over real HTTP: what each
refuses with a 400 in the TMF error shape, and orders whose answer must not depend on how they are written."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from orderhub.services.demo import demo_credentials
from tests.api.support import RunningServer, get_token, running_server

VENDOR = "/emida-ux-lcr/emida-ux/v1/CR/productOrder"
TMF622 = "/tmf-api/productOrderingManagement/v4"
ONE = demo_credentials()["tmf-productorder"][0]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    with running_server(tmp_path_factory.mktemp("tmf-bodies") / "orderhub.db") as running:
        yield running


@pytest.fixture(scope="module")
def http(server: RunningServer) -> Iterator[httpx.Client]:
    with server.client() as client:
        yield client


@pytest.fixture(scope="module")
def token(http: httpx.Client) -> str:
    return get_token(http, str(ONE["client_id"]), str(ONE["client_secret"]))


def item(msisdn: str, plan_type: str, offering: str = "OFFER-DP-001", **extra: Any) -> dict[str, Any]:
    characteristics = [{"name": "MSISDN", "value": msisdn}, {"name": "planType", "value": plan_type}]
    return {"product": {"productOffering": {"id": offering}, "productCharacteristic": characteristics}, **extra}


def vendor_post(http: httpx.Client, body: Any) -> httpx.Response:
    headers = {
        "client_id": str(ONE["client_id"]),
        "client_secret": str(ONE["client_secret"]),
        "X-Correlation-ID": str(uuid.uuid4()),
        "Content-Type": "application/json",
    }
    return http.post(VENDOR, content=json.dumps(body), headers=headers)


def tmf622_post(http: httpx.Client, token: str, body: Any) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    return http.post(f"{TMF622}/productOrder", content=json.dumps(body), headers=headers)


def assert_invalid(answer: httpx.Response, mentions: str = "") -> None:
    assert answer.status_code == 400, answer.text
    body = answer.json()
    assert set(body) == {"code", "reason", "message", "status"}, body
    assert (body["code"], body["status"]) == ("INVALID_REQUEST", "400"), body
    assert mentions in body["message"], body


@pytest.mark.parametrize(
    "repeated",
    [
        [{"name": "MSISDN", "value": "69877690"}],
        [{"name": "planType", "value": "Plan"}],
        [{"name": "MSISDN", "value": "69877689"}],  # the same value: named twice all the same
        [{"name": "planType", "value": "DataPlan"}],
        [{"name": "colour", "value": "blue"}, {"name": "colour", "value": "blue"}],  # one orderhub does not read
    ],
    ids=["MSISDN", "planType", "same MSISDN", "same planType", "same unread"],
)
def test_a_characteristic_given_twice_is_refused_by_both_dialects_whatever_its_values(
    http: httpx.Client, token: str, repeated: list[dict[str, str]]
) -> None:
    body: dict[str, Any] = {"category": "esimPrepaid", "productOrderItem": [item("69877689", "DataPlan")]}
    body["productOrderItem"][0]["product"]["productCharacteristic"] += repeated
    named = f"productOrderItem[0].product.productCharacteristic names the {repeated[-1]['name']} characteristic twice"
    assert_invalid(vendor_post(http, body), named)
    assert_invalid(tmf622_post(http, token, body), named)


def test_an_addon_listed_before_the_plan_it_rides_on_is_provisioned_in_its_place(
    server: RunningServer, http: httpx.Client
) -> None:
    # 69877692 has no Plan: the order's own Plan carries the Addon, whichever comes first.
    body = {"category": "esimPrepaid", "productOrderItem": [item("69877692", "Addon"), item("69877692", "Plan")]}
    answer = vendor_post(http, body)
    assert answer.status_code == 201, answer.text
    order = answer.json()
    assert (order["state"], order["description"]) == ("completed", "Product provisioned successfully"), order
    assert [i["id"] for i in order["productOrderItem"]] == ["1", "2"]
    view = server.services.lines.line("CR", "69877692")
    assert view is not None
    started = {p.id: p.plan_type.value for p in view.products if p.active(view.now)}
    assert [started[i["product"]["id"]] for i in order["productOrderItem"]] == ["Addon", "Plan"]


def test_tmf622_refuses_two_different_offerings_on_one_item_and_echoes_the_one_sent(
    http: httpx.Client, token: str
) -> None:
    body = {
        "productOrderItem": [item("69877689", "DataPlan", "OFFER-PLAN-002", productOffering={"id": "OFFER-DP-001"})]
    }
    assert_invalid(tmf622_post(http, token, body), "productOffering")
    sent = {"id": "OFFER-DP-001", "name": "Data plan"}
    body = {"productOrderItem": [item("69877689", "DataPlan", productOffering=sent)]}
    answer = tmf622_post(http, token, body)
    assert answer.status_code == 201, answer.text
    assert answer.json()["productOrderItem"][0]["productOffering"] == sent


@pytest.mark.parametrize(
    "host", ["127.1", "0x7f000001", "2130706433", "0177.0.0.1", "0x7f.1", "10.1", "0251.0376.0251.0376"]
)
def test_a_hub_callback_to_loopback_or_private_written_in_short_or_numeric_form_is_refused(
    http: httpx.Client, token: str, host: str
) -> None:
    headers = {"Authorization": f"Bearer {token}"}
    answer = http.post(f"{TMF622}/hub", json={"callback": f"http://{host}:8080/events"}, headers=headers)
    assert_invalid(answer, "must reach a public address")


@pytest.mark.parametrize(
    "callback",
    ["https://partner.example.com/events\n", "https://partner.example.com/a\tb", "https://partner.exa\nmple.com/",
     "https://partner.example.com/\x1b[2J", "https://partner.example.com/a b", "http://ex ample.com/", "https://partner.example.com/\u202e"],
)  # fmt: skip
def test_a_hub_callback_with_a_blank_or_control_character_is_refused(
    http: httpx.Client, token: str, callback: str
) -> None:
    """It was kept, shown and answered as sent, and called with each tab and newline dropped where it stood."""
    answer = http.post(f"{TMF622}/hub", json={"callback": callback}, headers={"Authorization": f"Bearer {token}"})
    assert_invalid(answer, "without blanks or control characters")


@pytest.mark.parametrize(
    ("host", "named"),
    [("[::1]", "::1 is not a public address (IPv6 loopback)"),
     ("[::0.0.0.1]", "::0.0.0.1 is not a public address (IPv6 loopback)"),
     ("[::]", ":: is not a public address (IPv6 unspecified address: this machine)")],
)  # fmt: skip
def test_a_hub_callback_to_ipv6_loopback_is_refused_naming_the_address_as_given(
    http: httpx.Client, token: str, host: str, named: str
) -> None:
    """It was read as an IPv4-compatible address: "::1 reaches 0.0.0.1, which is not a public address"."""
    headers = {"Authorization": f"Bearer {token}"}
    answer = http.post(f"{TMF622}/hub", json={"callback": f"http://{host}:8231/"}, headers=headers)
    assert_invalid(answer, f"must reach a public address: {named}")


@pytest.mark.parametrize(
    ("method", "path", "served"),
    [
        ("PUT", "/productOrder/ORD-1", {"GET", "PATCH", "DELETE"}),
        ("DELETE", "/productOrder", {"GET", "POST"}),
        ("PUT", "/cancelProductOrder", {"GET", "POST"}),
        ("DELETE", "/cancelProductOrder/c-1", {"GET"}),
        ("PUT", "/hub/h-1", {"GET", "DELETE"}),
        ("GET", "/hub", {"POST"}),
    ],
)
def test_a_tmf622_405_allows_every_method_served_on_the_path(
    http: httpx.Client, token: str, method: str, path: str, served: set[str]
) -> None:
    answer = http.request(method, f"{TMF622}{path}", headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 405, answer.text
    assert answer.json()["code"] == "METHOD_NOT_ALLOWED"
    assert {m.strip() for m in answer.headers["Allow"].split(",")} - {"HEAD"} == served


def customer(**change: Any) -> dict[str, Any]:
    party = {
        "id": "900770050",
        "name": "Juan;Carlos;Perez;Gonzalez",
        "role": "Customer",
        "characteristic": [{"name": "identificationType", "valueType": "string", "value": "Passport"}],
        "@referredType": "Individual",
    }
    return {**party, **change}


@pytest.mark.parametrize(
    ("party", "mentions"),
    [
        (customer(id=900770050), "relatedParty[0].id"),
        (customer(id=None), "relatedParty[0].id"),
        (customer(role=5), "relatedParty[0].role"),
        (customer(name=["Juan"]), "relatedParty[0].name"),
        (customer(**{"@referredType": {}}), "relatedParty[0].@referredType"),
        (customer(characteristic=None), "relatedParty[0].characteristic"),
        (customer(characteristic={}), "relatedParty[0].characteristic"),
        (customer(characteristic=[None]), "relatedParty[0].characteristic[0]"),
        (
            customer(characteristic=[{"name": "identificationType", "value": 5}]),
            "relatedParty[0].characteristic[0].value",
        ),
        (customer(characteristic=[{"value": "Passport"}]), "relatedParty[0].characteristic[0].name"),
        # Longer than orderhub keeps a customer's identification, its type and name.
        (customer(id="9" * 65), "relatedParty[Customer].id must be 1 to 64"),
        (
            customer(characteristic=[{"name": "identificationType", "value": "P" * 65}]),
            "relatedParty[Customer].characteristic[identificationType].value must be 1 to 64",
        ),
        (customer(name="J" * 512), "relatedParty[0].name"),
    ],
)
def test_a_malformed_related_party_is_refused(http: httpx.Client, party: dict[str, Any], mentions: str) -> None:
    body = {"category": "esimPrepaid", "productOrderItem": [item("69877689", "DataPlan")], "relatedParty": [party]}
    assert_invalid(vendor_post(http, body), mentions)


def test_the_seeds_related_parties_are_kept_as_sent(http: httpx.Client) -> None:
    parties = [{"id": "RESELLER-001", "role": "Seller", "@referredType": "Individual"}, customer()]
    body = {"category": "esimPrepaid", "productOrderItem": [item("69877689", "DataPlan")], "relatedParty": parties}
    answer = vendor_post(http, body)
    assert answer.status_code == 201, answer.text
    assert answer.json()["relatedParty"] == parties


TMF622_BAD_FIELDS = [
    ({"description": {}}, "description"),
    ({"priority": 5}, "priority"),
    ({"externalId": 5}, "externalId"),
    ({"category": ["x"]}, "category"),
    ({"note": "x"}, "note"),
    ({"note": ["x"]}, "note[0]"),
    ({"note": [{"text": 5}]}, "note[0].text"),
    ({"requestedCompletionDate": "garbage"}, "requestedCompletionDate"),
    ({"requestedCompletionDate": 5}, "requestedCompletionDate"),
]


@pytest.mark.parametrize(("fields", "mentions"), TMF622_BAD_FIELDS)
def test_tmf622_checks_the_type_of_optional_fields_on_create_and_on_patch(
    http: httpx.Client, token: str, fields: dict[str, Any], mentions: str
) -> None:
    body = {"productOrderItem": [item("69877689", "DataPlan")], "relatedParty": []}
    assert_invalid(tmf622_post(http, token, {**body, **fields}), mentions)
    order = tmf622_post(http, token, body).json()
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/merge-patch+json"}
    answer = http.patch(f"{TMF622}/productOrder/{order['id']}", content=json.dumps(fields), headers=headers)
    assert_invalid(answer, mentions)


def test_tmf622_keeps_well_typed_optional_fields(http: httpx.Client, token: str) -> None:
    fields = {
        "description": "d",
        "priority": "1",
        "externalId": "x-1",
        "note": [{"text": "call first", "author": "shop", "date": "2026-12-01T10:00:00Z"}],
        "requestedCompletionDate": "2026-12-01T10:00:00Z",
    }
    body = {"productOrderItem": [item("69877689", "DataPlan")], "relatedParty": [], **fields}
    answer = tmf622_post(http, token, body)
    assert answer.status_code == 201, answer.text
    # Dates come back as every date is shown (UTC, milliseconds): the same instant.
    shown = {**fields, "requestedCompletionDate": "2026-12-01T10:00:00.000Z"}
    shown["note"] = [{**fields["note"][0], "date": "2026-12-01T10:00:00.000Z"}]  # type: ignore[index]
    assert {name: answer.json()[name] for name in fields} == shown


def test_tmf622_cancellations_take_fields_as_orders_do(http: httpx.Client, token: str) -> None:
    later = (datetime.now(UTC) + timedelta(days=7)).strftime("%Y-%m-%dT%H:%M:%SZ")
    body = {"productOrderItem": [item("69877689", "DataPlan")], "requestedStartDate": later}
    order = tmf622_post(http, token, body).json()
    headers = {"Authorization": f"Bearer {token}"}
    made = http.post(f"{TMF622}/cancelProductOrder", json={"productOrder": {"id": order["id"]}}, headers=headers)
    assert made.status_code == 201, made.text
    one = http.get(f"{TMF622}/cancelProductOrder/{made.json()['id']}", params={"fields": "state"}, headers=headers)
    assert one.status_code == 200 and set(one.json()) == {"id", "href", "state"}, one.text
    listed = http.get(f"{TMF622}/cancelProductOrder", params={"fields": "state", "limit": 5}, headers=headers)
    assert listed.status_code == 200, listed.text
    assert listed.json() and all(set(c) == {"id", "href", "state"} for c in listed.json())


def test_the_vendor_view_of_a_tmf622_order_has_the_seeds_category_and_item_shape(
    http: httpx.Client, token: str
) -> None:
    body = {"productOrderItem": [item("69877689", "DataPlan", productOffering={"id": "OFFER-DP-001"})]}
    placed = tmf622_post(http, token, body).json()
    headers = {"client_id": str(ONE["client_id"]), "client_secret": str(ONE["client_secret"])}
    seen = http.get(f"{VENDOR}/{placed['id']}", headers={**headers, "X-Correlation-ID": str(uuid.uuid4())}).json()
    assert seen["category"] == "esimPrepaid"
    assert set(seen["productOrderItem"][0]) == {"id", "action", "product"}


def test_a_409_names_the_header_whose_value_was_used_for_another_body(http: httpx.Client) -> None:
    headers = {"client_id": str(ONE["client_id"]), "client_secret": str(ONE["client_secret"])}
    first = {"category": "esimPrepaid", "productOrderItem": [item("69877689", "DataPlan")]}
    other = {"category": "esimPrepaid", "productOrderItem": [item("69877689", "Addon")]}

    def send(body: dict[str, Any], **extra: str) -> httpx.Response:
        return http.post(VENDOR, json=body, headers={**headers, "X-Correlation-ID": str(uuid.uuid4()), **extra})

    correlation = {"X-Correlation-ID": str(uuid.uuid4())}
    assert send(first, **correlation).status_code == 201
    clash = send(other, **correlation)
    assert clash.status_code == 409 and "X-Correlation-ID" in clash.json()["message"], clash.text
    assert "Idempotency-Key" not in clash.json()["message"] and "idempotency key" not in clash.json()["message"]
    key = {"Idempotency-Key": str(uuid.uuid4())}
    assert send(first, **key).status_code == 201
    clash = send(other, **key)
    assert clash.status_code == 409 and "Idempotency-Key" in clash.json()["message"], clash.text


def test_an_addon_without_a_plan_is_named_with_the_right_article(http: httpx.Client) -> None:
    body = {"category": "esimPrepaid", "productOrderItem": [item("69877693", "Addon")]}
    answer = vendor_post(http, body)
    assert answer.status_code == 422 and "an Addon needs an active Plan" in answer.json()["message"], answer.text


def test_two_items_with_one_id_are_refused(http: httpx.Client, token: str) -> None:
    items = [item("69877689", "DataPlan", id="1"), item("69877689", "Addon", id="1")]
    assert_invalid(vendor_post(http, {"category": "esimPrepaid", "productOrderItem": items}), "productOrderItem[1].id")
    assert_invalid(tmf622_post(http, token, {"productOrderItem": items}), "productOrderItem[1].id")


@pytest.mark.parametrize(
    ("sent", "given"),
    [((None, "1"), ["2", "1"]), (("2", None), ["2", "1"]), ((None, "1", None), ["2", "1", "3"])],
    ids=["a later item's", "an earlier item's", "around one sent"],
)
def test_an_item_sent_without_an_id_gets_one_no_item_was_sent(
    http: httpx.Client, token: str, sent: tuple[str | None, ...], given: list[str]
) -> None:
    """A default was the item's position, whatever the others sent: an item "2" then one without an id
    was refused, "productOrderItem[1].id '2' is the id of productOrderItem[0]", for an id never sent."""
    plan_types = ["DataPlan", "Addon", "Addon"]
    items = [
        item("69877689", plan_types[at], **({} if sent_id is None else {"id": sent_id}))
        for at, sent_id in enumerate(sent)
    ]
    for answer in (
        vendor_post(http, {"category": "esimPrepaid", "productOrderItem": items}),
        tmf622_post(http, token, {"productOrderItem": items}),
    ):
        assert answer.status_code == 201, answer.text
        assert [shown["id"] for shown in answer.json()["productOrderItem"]] == given


def test_a_malformed_msisdn_is_named_as_the_other_fields_are(http: httpx.Client) -> None:
    answer = vendor_post(http, {"category": "esimPrepaid", "productOrderItem": [item("6987768", "Addon")]})
    assert_invalid(answer, "productOrderItem[0].product.productCharacteristic[MSISDN].value is not an MSISDN of")


NUL = "a\u0000b"


def with_nul(where: str) -> dict[str, Any]:
    body: dict[str, Any] = {
        "category": "esimPrepaid",
        "productOrderItem": [item("69877689", "DataPlan")],
        "relatedParty": [customer()],
    }
    first = body["productOrderItem"][0]
    places = {
        "category": lambda: body.update(category=NUL),
        "item id": lambda: first.update(id=NUL),
        "action": lambda: first.update(action=NUL),
        "@type": lambda: first["product"].update({"@type": NUL}),
        "offering": lambda: first["product"]["productOffering"].update(id=NUL),
        "characteristic": lambda: first["product"]["productCharacteristic"].append({"name": NUL, "value": NUL}),
        "party id": lambda: body["relatedParty"][0].update(id=NUL),
        "party name": lambda: body["relatedParty"][0].update(name=NUL),
        "party extra": lambda: body["relatedParty"][0].update(href=NUL),
        "party key": lambda: body["relatedParty"][0].update({NUL: "x"}),
        "identification": lambda: body["relatedParty"][0]["characteristic"][0].update(value=NUL),
        "description": lambda: body.update(description=NUL),
        "note": lambda: body.update(note=[{"text": NUL}]),
        "unknown": lambda: body.update(unknown=NUL),
    }
    places[where]()
    return body


NUL_PLACES = ["category", "item id", "action", "@type", "offering", "characteristic", "party id", "party name",
              "party extra", "party key", "identification", "description", "note", "unknown"]  # fmt: skip


@pytest.mark.parametrize("where", NUL_PLACES)
def test_a_nul_character_anywhere_in_a_body_is_a_400_never_a_500(http: httpx.Client, token: str, where: str) -> None:
    vendor = vendor_post(http, with_nul(where))
    standard = tmf622_post(http, token, with_nul(where))
    for answer in (vendor, standard):
        assert answer.status_code in (201, 400), answer.text
        if answer.status_code == 201:  # a field the API does not read or keep
            assert where == "unknown" or (answer is vendor and where in ("description", "note")), answer.text
        else:
            assert_invalid(answer)


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/hub", {"callback": "https://partner.example.com/a\u0000b"}),
        ("/hub", {"callback": "https://partner.example.com/", "query": NUL}),
        ("/cancelProductOrder", {"productOrder": {"id": "ORD-20990101000000-0001"}, "cancellationReason": NUL}),
        ("/cancelProductOrder", {"productOrder": {"id": NUL}}),
    ],
)
def test_a_nul_character_in_tmf622s_other_posts_is_a_400(
    http: httpx.Client, token: str, path: str, body: dict[str, Any]
) -> None:
    answer = http.post(f"{TMF622}{path}", json=body, headers={"Authorization": f"Bearer {token}"})
    assert_invalid(answer)


@pytest.mark.parametrize("spelling", ["Dataplan", "dataplan", "DATAPLAN"])
def test_the_plan_type_is_read_in_any_case_as_the_seeds_table_spells_it(
    http: httpx.Client, token: str, spelling: str
) -> None:
    # Seed 001's DataPlan table names the value "Dataplan"; its example sends "DataPlan".
    answer = vendor_post(http, {"category": "esimPrepaid", "productOrderItem": [item("69877689", spelling)]})
    assert answer.status_code == 201 and answer.json()["state"] == "completed", answer.text
    answer = tmf622_post(http, token, {"productOrderItem": [item("69877689", spelling.swapcase())]})
    assert answer.status_code == 201, answer.text
    # What the order keeps is the plan type, not the spelling: a DataPlan, which needs the line's Plan.
    answer = vendor_post(http, {"category": "esimPrepaid", "productOrderItem": [item("69877693", spelling)]})
    assert answer.status_code == 422 and "a DataPlan needs an active Plan" in answer.json()["message"], answer.text
