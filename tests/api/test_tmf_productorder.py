"""tmf-productorder (seed 001) over real HTTP: the seed's examples verbatim, every rule, auth, idempotency
and isolation."""

from __future__ import annotations

import json
import re
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest

from orderhub.services.demo import demo_credentials
from tests.api.seed_001 import SEED_EXAMPLES
from tests.api.support import RunningServer, running_server

PATH = "/emida-ux-lcr/emida-ux/v1/{bu}/productOrder"
SHORT_PATH = "/emida-ux/v1/{bu}/productOrder"
CHANNELS = demo_credentials()["tmf-productorder"]
ONE, TWO = CHANNELS[0], CHANNELS[1]


def tmf_headers(channel: dict[str, object], **extra: str) -> dict[str, str]:
    return {
        "client_id": str(channel["client_id"]),
        "client_secret": str(channel["client_secret"]),
        "X-Correlation-ID": str(uuid.uuid4()),
        "Content-Type": "application/json",
        **extra,
    }


def line_order(msisdn: str, plan_type: str, offering: str = "OFFER-DP-001") -> dict[str, Any]:
    return {
        "category": "esimPrepaid",
        "productOrderItem": [
            {
                "product": {
                    "productOffering": {"id": offering},
                    "productCharacteristic": [
                        {"name": "MSISDN", "value": msisdn},
                        {"name": "planType", "value": plan_type},
                    ],
                }
            }
        ],
    }


def post(
    http: httpx.Client, body: Any, *, bu: str = "CR", channel: dict[str, object] = ONE, **headers: str
) -> httpx.Response:
    content = body if isinstance(body, str | bytes) else json.dumps(body)
    return http.post(PATH.format(bu=bu), content=content, headers=tmf_headers(channel, **headers))


def assert_error(answer: httpx.Response, status: int, code: str, mentions: str = "") -> None:
    assert answer.status_code == status, answer.text
    body = answer.json()
    assert set(body) == {"code", "reason", "message", "status"}, body
    assert body["code"] == code and body["status"] == str(status) and body["reason"], body
    assert mentions in body["message"], body


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Any:
    with running_server(tmp_path_factory.mktemp("tmf") / "orderhub.db") as running:
        yield running


@pytest.fixture
def http(server: RunningServer) -> Any:
    with server.client() as client:
        yield client


@pytest.mark.parametrize("example", sorted(SEED_EXAMPLES))
def test_the_seeds_examples_verbatim_are_completed(http: httpx.Client, example: str) -> None:
    raw = SEED_EXAMPLES[example]
    answer = post(http, raw)
    assert answer.status_code == 201, answer.text
    order = answer.json()
    sent = json.loads(raw)
    assert re.fullmatch(r"ORD-\d{14}-\d{4}", order["id"])
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}-06:00", order["orderDate"])
    assert (order["category"], order["state"]) == ("esimPrepaid", "completed")
    assert order["description"] == "Product provisioned successfully"
    (item,) = order["productOrderItem"]
    assert (item["id"], item["action"]) == ("1", "add")
    assert item["product"]["isBundle"] is False and item["product"]["@type"] == "Product"
    assert item["product"]["productOffering"] == {"id": "OFFER-DP-001"}
    # As the seed's response: the MSISDN characteristic only; and the product started on the line.
    assert item["product"]["productCharacteristic"] == [{"name": "MSISDN", "value": "69877689"}]
    assert item["product"]["id"]
    if "relatedParty" in sent:
        assert order["relatedParty"] == sent["relatedParty"]
    else:
        assert "relatedParty" not in order
    again = http.get(f"{PATH.format(bu='CR')}/{order['id']}", headers=tmf_headers(ONE))
    assert again.status_code == 200 and again.json() == order


def test_the_short_path_of_the_curl_examples_serves_the_same_api(http: httpx.Client) -> None:
    answer = http.post(SHORT_PATH.format(bu="CR"), content=SEED_EXAMPLES["addon"], headers=tmf_headers(ONE))
    assert answer.status_code == 201, answer.text
    read = http.get(f"{SHORT_PATH.format(bu='CR')}/{answer.json()['id']}", headers=tmf_headers(ONE))
    assert read.json()["id"] == answer.json()["id"]


def test_defaults_fill_what_the_seed_marks_optional(http: httpx.Client) -> None:
    order = post(http, line_order("69877689", "DataPlan")).json()
    (item,) = order["productOrderItem"]
    assert (item["id"], item["action"], item["product"]["isBundle"], item["product"]["@type"]) == (
        "1", "add", False, "Product",
    )  # fmt: skip


@pytest.mark.parametrize(
    ("msisdn", "plan_type", "offering"),
    [
        ("69877689", "Plan", "OFFER-DP-001"),
        ("69877689", "Plan", "OFFER-PLAN-002"),
        ("69877690", "Addon", "OFFER-ADDON-003"),
        ("69877690", "DataPlan", "OFFER-DP-001"),
    ],
)
def test_an_offering_sold_as_that_plan_type_on_a_line_with_a_plan_is_provisioned(
    http: httpx.Client, msisdn: str, plan_type: str, offering: str
) -> None:
    answer = post(http, line_order(msisdn, plan_type, offering))
    assert answer.status_code == 201 and answer.json()["state"] == "completed", answer.text
    # The answer is the order as its transaction left it, not read back: reading it shows the same.
    read = http.get(f"{PATH.format(bu='CR')}/{answer.json()['id']}", headers=tmf_headers(ONE))
    assert read.json() == answer.json()


@pytest.mark.parametrize(
    ("body", "status", "code", "mentions"),
    [
        (line_order("69877689", "DataPlan", "OFFER-PLAN-002"), 422, "OFFERING_NOT_AVAILABLE", "OFFER-PLAN-002"),
        (line_order("69877689", "Plan", "OFFER-NOPE"), 422, "OFFERING_NOT_AVAILABLE", "OFFER-NOPE"),
        (line_order("60000000", "Addon"), 422, "LINE_NOT_FOUND", "60000000"),
        (line_order("61234567", "Addon"), 422, "LINE_NOT_FOUND", "61234567"),  # a line of PA, not of CR
        (line_order("69877691", "DataPlan"), 422, "NO_ACTIVE_PLAN", "69877691"),
        (line_order("69877691", "Addon"), 422, "NO_ACTIVE_PLAN", "Plan"),
        (line_order("6987768", "Addon"), 400, "INVALID_REQUEST", "MSISDN"),
        (line_order("6987768a", "Addon"), 400, "INVALID_REQUEST", "MSISDN"),
        (line_order("69877689", "Gold"), 400, "INVALID_REQUEST", "planType"),
    ],
)
def test_each_rule_refuses_clearly(
    http: httpx.Client, body: dict[str, Any], status: int, code: str, mentions: str
) -> None:
    assert_error(post(http, body), status, code, mentions)


def broken(change: Any) -> dict[str, Any]:
    body = line_order("69877689", "Addon")
    change(body)
    return body


@pytest.mark.parametrize(
    ("body", "mentions"),
    [
        (b"{not json", "not valid JSON"),
        (b"[]", "JSON object"),
        (broken(lambda b: b.pop("category")), "category"),
        (broken(lambda b: b.pop("productOrderItem")), "productOrderItem"),
        (broken(lambda b: b.update(productOrderItem=[])), "productOrderItem"),
        (broken(lambda b: b["productOrderItem"][0]["product"].pop("productOffering")), "productOffering"),
        (broken(lambda b: b["productOrderItem"][0]["product"]["productCharacteristic"].pop(0)), "MSISDN"),
        (broken(lambda b: b["productOrderItem"][0]["product"]["productCharacteristic"].pop(1)), "planType"),
        (broken(lambda b: b["productOrderItem"][0].update(action="delete")), "action"),
        (broken(lambda b: b["productOrderItem"][0]["product"].update(isBundle="no")), "isBundle"),
        (broken(lambda b: b.update(relatedParty="Juan")), "relatedParty"),
        # Each field seed 001 marks required (Y), present but without its value; and its types.
        (broken(lambda b: b["productOrderItem"][0]["product"].update(productOffering={})), "productOffering.id"),
        (broken(lambda b: b["productOrderItem"][0]["product"]["productCharacteristic"][0].pop("value")), "[0].value"),
        (broken(lambda b: b["productOrderItem"][0]["product"]["productCharacteristic"][1].pop("value")), "[1].value"),
        (
            broken(lambda b: b["productOrderItem"][0]["product"]["productCharacteristic"][0].update(value=69877689)),
            "[0].value",
        ),
        (broken(lambda b: b.update(category="")), "category"),
        (broken(lambda b: b.update(category=7)), "category"),
        (broken(lambda b: b["productOrderItem"][0].update(id=1)), "productOrderItem[0].id"),
        (broken(lambda b: b["productOrderItem"][0]["product"].update({"@type": 5})), "@type"),
    ],
)
def test_malformed_bodies_get_the_tmf_error_shape(http: httpx.Client, body: Any, mentions: str) -> None:
    assert_error(post(http, body if isinstance(body, bytes) else json.dumps(body)), 400, "INVALID_REQUEST", mentions)


def test_the_seeds_optional_item_fields_are_echoed_as_sent(http: httpx.Client) -> None:
    # Seed 001 gives isBundle (true or false) and @type (default Product) no rule: kept and answered as sent.
    body = line_order("69877689", "Addon")
    body["productOrderItem"][0].update(id="7", action="add")
    body["productOrderItem"][0]["product"].update({"isBundle": True, "@type": "ProductRef"})
    answer = post(http, body)
    assert answer.status_code == 201, answer.text
    (item,) = answer.json()["productOrderItem"]
    assert (item["id"], item["action"], item["product"]["isBundle"], item["product"]["@type"]) == (
        "7", "add", True, "ProductRef",
    )  # fmt: skip


def test_a_plan_on_a_line_without_one_then_carries_a_data_plan(tmp_path: Path) -> None:
    with running_server(tmp_path / "plan.db") as server, server.client() as http:
        assert_error(post(http, line_order("69877695", "DataPlan")), 422, "NO_ACTIVE_PLAN")
        assert post(http, line_order("69877695", "Plan")).json()["state"] == "completed"
        assert post(http, line_order("69877695", "DataPlan")).json()["state"] == "completed"
        view = server.services.lines.line("CR", "69877695")
        assert view is not None
        assert sorted(p.plan_type.value for p in view.products if p.active(view.now)) == ["DataPlan", "Plan"]
        # A second Plan replaces the first: one base plan runs at a time.
        assert post(http, line_order("69877695", "Plan", "OFFER-PLAN-002")).json()["state"] == "completed"
        view = server.services.lines.line("CR", "69877695")
        assert view is not None
        plans = [p for p in view.products if p.plan_type.value == "Plan" and p.active(view.now)]
        assert [p.product_id for p in plans] == ["OFFER-PLAN-002"]


@pytest.mark.parametrize(
    ("drop", "mentions"),
    [("client_id", "client_id"), ("client_secret", "client_secret"), ("X-Correlation-ID", "X-Correlation-ID")],
)
def test_each_missing_header_is_a_400(http: httpx.Client, drop: str, mentions: str) -> None:
    headers = tmf_headers(ONE)
    del headers[drop]
    answer = http.post(PATH.format(bu="CR"), content=SEED_EXAMPLES["addon"], headers=headers)
    assert_error(answer, 400, "MISSING_HEADER", mentions)


@pytest.mark.parametrize("content_type", ["text/plain", None])
def test_a_body_not_sent_as_json_is_a_415(http: httpx.Client, content_type: str | None) -> None:
    # The seed's curl examples send Content-Type: application/json.
    headers = tmf_headers(ONE)
    if content_type is None:
        del headers["Content-Type"]
    else:
        headers["Content-Type"] = content_type
    answer = http.post(PATH.format(bu="CR"), content=SEED_EXAMPLES["addon"], headers=headers)
    assert_error(answer, 415, "UNSUPPORTED_MEDIA_TYPE", "application/json")


def test_credentials_shorter_than_five_characters_are_a_400(http: httpx.Client) -> None:
    answer = post(http, SEED_EXAMPLES["addon"], client_secret="abcd")
    assert_error(answer, 400, "MISSING_HEADER", "5 characters")
    answer = post(http, SEED_EXAMPLES["addon"], client_id="abc")
    assert_error(answer, 400, "MISSING_HEADER", "5 characters")


def test_wrong_or_unknown_credentials_are_a_401(http: httpx.Client) -> None:
    assert_error(post(http, SEED_EXAMPLES["addon"], client_secret="wrong-secret"), 401, "UNAUTHORIZED")
    assert_error(post(http, SEED_EXAMPLES["addon"], client_id="nobody-here"), 401, "UNAUTHORIZED")
    # An esim-v1 partner's pair is a valid credential, but not of a business channel.
    assert_error(
        post(http, SEED_EXAMPLES["addon"], client_id="demo-reseller-1", client_secret="demo-reseller-1-secret"),
        403,
        "FORBIDDEN",
    )


def test_business_units_not_enabled_are_403_and_unknown_ones_404(http: httpx.Client) -> None:
    assert_error(post(http, line_order("61234567", "Addon"), bu="PA"), 403, "FORBIDDEN", "PA")
    assert post(http, line_order("61234567", "Addon"), bu="PA", channel=TWO).status_code == 201
    assert_error(post(http, SEED_EXAMPLES["addon"], bu="XX"), 404, "NOT_FOUND", "XX")
    assert_error(http.get(f"{PATH.format(bu='XX')}/ORD-1", headers=tmf_headers(ONE)), 404, "NOT_FOUND")


def test_the_same_correlation_id_returns_the_first_order(http: httpx.Client) -> None:
    correlation = str(uuid.uuid4())
    first = post(http, SEED_EXAMPLES["dataplan"], **{"X-Correlation-ID": correlation})
    again = post(http, SEED_EXAMPLES["dataplan"], **{"X-Correlation-ID": correlation})
    assert first.status_code == again.status_code == 201
    assert again.json()["id"] == first.json()["id"] and again.headers["Idempotent-Replayed"] == "true"
    other = post(http, SEED_EXAMPLES["plan"], **{"X-Correlation-ID": correlation})
    assert_error(other, 409, "CONFLICT")
    # Another partner's correlation ids are its own.
    theirs = post(http, SEED_EXAMPLES["dataplan"], channel=TWO, **{"X-Correlation-ID": correlation})
    assert theirs.status_code == 201 and theirs.json()["id"] != first.json()["id"]


def test_an_idempotency_key_works_as_in_the_other_apis(http: httpx.Client) -> None:
    key = str(uuid.uuid4())
    first = post(http, SEED_EXAMPLES["addon"], **{"Idempotency-Key": key})
    again = post(http, SEED_EXAMPLES["addon"], **{"Idempotency-Key": key})  # a new correlation id
    assert again.json()["id"] == first.json()["id"]
    assert_error(post(http, SEED_EXAMPLES["plan"], **{"Idempotency-Key": key}), 409, "CONFLICT")


def test_a_correlation_id_and_an_idempotency_key_of_different_orders_are_a_conflict(http: httpx.Client) -> None:
    """Each named an order placed with the same body: the first order was answered, silently."""
    correlation, key = str(uuid.uuid4()), str(uuid.uuid4())
    first = post(http, SEED_EXAMPLES["addon"], **{"X-Correlation-ID": correlation})
    second = post(http, SEED_EXAMPLES["addon"], **{"Idempotency-Key": key})  # a new correlation id: a new order
    assert first.status_code == second.status_code == 201 and first.json()["id"] != second.json()["id"]
    both = post(http, SEED_EXAMPLES["addon"], **{"X-Correlation-ID": correlation, "Idempotency-Key": key})
    assert_error(both, 409, "CONFLICT", "the X-Correlation-ID and the Idempotency-Key were used for different orders")


def test_racing_duplicates_place_one_order(server: RunningServer) -> None:
    correlation = str(uuid.uuid4())

    def send(_: int) -> str:
        with server.client() as client:
            answer = post(client, SEED_EXAMPLES["addon"], **{"X-Correlation-ID": correlation})
            assert answer.status_code == 201, answer.text
            return str(answer.json()["id"])

    with ThreadPoolExecutor(8) as pool:
        ids = set(pool.map(send, range(8)))
    assert len(ids) == 1


def test_another_partners_order_is_not_found(http: httpx.Client) -> None:
    mine = post(http, SEED_EXAMPLES["addon"]).json()
    assert_error(http.get(f"{PATH.format(bu='CR')}/{mine['id']}", headers=tmf_headers(TWO)), 404, "NOT_FOUND")
    assert_error(http.get(f"{PATH.format(bu='PA')}/{mine['id']}", headers=tmf_headers(TWO)), 404, "NOT_FOUND")
    assert_error(
        http.get(f"{PATH.format(bu='CR')}/ORD-20990101000000-0001", headers=tmf_headers(ONE)), 404, "NOT_FOUND"
    )
