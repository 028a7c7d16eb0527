"""Defects found by probing (issue: hardening), each held for every API: not-JSON bodies, unsafe
correlation ids, exact documentation exemptions."""

from __future__ import annotations

import gzip
import socket
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa

from orderhub.domain.errors import InvalidInput
from orderhub.domain.esim import ProfileState
from tests.api.support import (
    FUTURE,
    SEED_PRODUCT,
    RunningServer,
    completed_order,
    get_token,
    headers,
    new_esim_body,
    place,
    request_token,
    running_server,
    unique_email,
)

AHEAD = (datetime.now(UTC) + timedelta(days=200)).strftime("%Y-%m-%dT%H:%M:%SZ")
TMF_HEADERS = {"client_id": "demo-channel-1", "client_secret": "demo-channel-1-secret"}
ONAPI_AUTH = ("demo-co-acme", "demo-co-acme-secret")
ESIM = (
    '{"input": {"operationType": "NEW_ESIM", "countryCode": "PT", "customer": {"email": "nan@example.com"}, '
    '"device": {"type": "ios"}, "subscriptions": [{"id": "' + SEED_PRODUCT + '", "activationDate": "' + FUTURE + '", '
    '"price": 10, "currency": "USD"}], "extra": VALUE}}'
)
TMF = (
    '{"category": "esimPrepaid", "productOrderItem": [{"product": {"productOffering": {"id": "OFFER-DP-001"}, '
    '"productCharacteristic": [{"name": "MSISDN", "value": "69877689"}, {"name": "planType", "value": "Addon"}]}}], '
    '"extra": VALUE}'
)
ONAPI = (
    '{"coId": "Acme", "coAccessId": "access-free-9", "operation": "ACTIVATE", "orderDateTime": "2026-01-01T00:00:00Z", '
    '"requestedDateTime": "' + AHEAD + '", "products": [{"productId": "iptv", "offeringId": "basic"}], '
    '"customerDetails": {"identifiedCustomer": false, "customerFirstname": "A", "customerLastName": "B"}, '
    '"extra": VALUE}'
)


def send(http: httpx.Client, api: str, body: str | bytes, token: str, **extra: str) -> httpx.Response:
    json_type = {"Content-Type": "application/json", **extra}
    if api == "esim-v1":
        return http.post("/esim/v1/order", content=body, headers=headers(token, **json_type))
    if api == "tmf-productorder":
        tmf = {**TMF_HEADERS, **json_type, "X-Correlation-ID": str(uuid.uuid4())}
        return http.post("/emida-ux/v1/CR/productOrder", content=body, headers=tmf)
    return http.post("/2.5/sp_spec/order/", content=body, auth=ONAPI_AUTH, headers=json_type)


@pytest.mark.parametrize("value", ["NaN", "Infinity", "-Infinity", '"\\ud800"', '"\\udfff tail"'])
@pytest.mark.parametrize(("api", "template"), [("esim-v1", ESIM), ("tmf-productorder", TMF), ("onapi-order", ONAPI)])
def test_what_is_not_json_is_refused_at_the_door(
    client: httpx.Client, reseller: str, api: str, template: str, value: str
) -> None:
    answer = send(client, api, template.replace("VALUE", value), reseller)
    assert answer.status_code == 400, answer.text
    body = answer.json()
    if api == "esim-v1":
        assert body == {"type": "INVALID_HTTP_MESSAGE", "messages": ["request body is not valid JSON"]}
    elif api == "tmf-productorder":
        assert body["code"] == "INVALID_REQUEST" and "not valid JSON" in body["message"]
    else:
        assert body == {"cause": "Bad request body", "message": "The order could not be read."}


def test_the_same_bodies_with_a_real_value_are_accepted(client: httpx.Client, reseller: str) -> None:
    assert send(client, "esim-v1", ESIM.replace("VALUE", "1"), reseller).status_code == 201
    assert send(client, "tmf-productorder", TMF.replace("VALUE", "1"), reseller).status_code == 201
    assert send(client, "onapi-order", ONAPI.replace("VALUE", "1"), reseller).status_code == 200


def nested(levels: int) -> str:
    return "[" * levels + "]" * levels


@pytest.mark.parametrize(("api", "template"), [("esim-v1", ESIM), ("tmf-productorder", TMF), ("onapi-order", ONAPI)])
def test_a_body_nested_past_the_bound_is_refused_and_one_within_it_kept(
    client: httpx.Client, reseller: str, api: str, template: str
) -> None:
    """orjson reads bodies nested up to 1,024 levels but writes at most 255, and a request is stored as
    sent: an unknown member nested 300 deep was accepted, then failed to be stored (500)."""
    for levels in (300, 70):
        answer = send(client, api, template.replace("VALUE", nested(levels)), reseller)
        assert answer.status_code == 400, answer.text
        message = "request body is nested more than 64 levels deep"
        if api == "esim-v1":
            assert answer.json() == {"type": "INVALID_HTTP_MESSAGE", "messages": [message]}
        elif api == "tmf-productorder":
            assert answer.json()["code"] == "INVALID_REQUEST" and message in answer.json()["message"]
        else:  # ON-API's 400 for a body it cannot read
            assert answer.json() == {"cause": "Bad request body", "message": "The order could not be read."}
    # 60 levels under the body's own two at most: within the bound, kept as sent.
    kept = send(client, api, template.replace("VALUE", nested(60)), reseller)
    assert kept.status_code in (200, 201), kept.text


def test_tmf622_refuses_a_body_nested_past_the_bound(client: httpx.Client, reseller: str) -> None:
    token = get_token(client, "demo-channel-1", "demo-channel-1-secret")
    answer = client.post(
        "/tmf-api/productOrderingManagement/v4/productOrder",
        content='{"productOrderItem": [], "note": [{"text": "x", "extra": ' + nested(300) + "}]}",
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    assert answer.status_code == 400, answer.text
    assert "nested more than 64 levels deep" in answer.text


@pytest.mark.parametrize(("api", "template"), [("esim-v1", ESIM), ("tmf-productorder", TMF), ("onapi-order", ONAPI)])
def test_a_compressed_body_is_refused_as_such_not_as_bad_json(
    client: httpx.Client, reseller: str, api: str, template: str
) -> None:
    body = template.replace("VALUE", "1")
    answer = send(client, api, gzip.compress(body.encode()), reseller, **{"Content-Encoding": "gzip"})
    assert answer.status_code == 415, answer.text
    if api == "esim-v1":
        assert answer.json() == {
            "type": "INVALID_HTTP_MESSAGE",
            "messages": ["Content-Encoding is not supported: send the request body uncompressed"],
        }
    elif api == "tmf-productorder":
        assert "Content-Encoding is not supported" in answer.json()["message"]
    else:  # ON-API answers all but its 400s with a cause alone
        assert answer.json() == {"cause": "Content-Encoding is not supported: send the request body uncompressed"}
    # "identity" is no compression at all: the same body, sent so, is taken.
    assert send(client, api, body, reseller, **{"Content-Encoding": "identity"}).status_code in (200, 201)


def test_the_token_endpoint_and_tmf622_refuse_a_compressed_body_too(client: httpx.Client, reseller: str) -> None:
    form = {"Content-Type": "application/x-www-form-urlencoded", "Content-Encoding": "gzip"}
    token = client.post("/oauth2/token", content=gzip.compress(b"grant_type=client_credentials"), headers=form)
    assert token.status_code == 415 and token.json()["error"] == "invalid_request", token.text
    tmf622 = client.post(
        "/tmf-api/productOrderingManagement/v4/productOrder",
        content=gzip.compress(b'{"productOrderItem": []}'),
        headers={"Authorization": f"Bearer {reseller}", "Content-Type": "application/json", "Content-Encoding": "br"},
    )
    assert tmf622.status_code == 415 and "Content-Encoding is not supported" in tmf622.text, tmf622.text


@pytest.mark.parametrize("bad", ["a\tb", "x" * 201, "with space"])
def test_a_correlation_id_that_is_not_visible_ascii_is_refused(client: httpx.Client, reseller: str, bad: str) -> None:
    esim = client.get("/esim/v1/product", headers={"Authorization": f"Bearer {reseller}", "X-Correlation-ID": bad})
    assert esim.status_code == 400 and esim.json()["type"] == "INVALID_HTTP_MESSAGE", esim.text
    assert esim.headers["X-Correlation-ID"] != bad
    tmf = client.get("/emida-ux/v1/CR/productOrder/ORD-1", headers={**TMF_HEADERS, "X-Correlation-ID": bad})
    assert tmf.status_code == 400 and tmf.json()["code"] == "INVALID_REQUEST", tmf.text


def test_apis_where_it_is_optional_never_echo_a_malformed_correlation_id(client: httpx.Client) -> None:
    answer = client.get("/2.5/", headers={"X-Correlation-ID": "evil value"})
    assert answer.status_code == 200
    assert answer.headers["X-Correlation-ID"] != "evil value"
    uuid.UUID(answer.headers["X-Correlation-ID"])  # a fresh one instead


def test_only_the_documentation_paths_themselves_skip_the_correlation_id(client: httpx.Client) -> None:
    assert client.get("/esim/v1/openapi.json").status_code == 200
    assert client.get("/esim/v1/docs").status_code == 200
    for path in ("/esim/v1/order/docs", "/esim/v1/sim/openapi.json", "/esim/v1/x/docs/oauth2-redirect"):
        answer = client.get(path)
        assert answer.status_code == 400, (path, answer.text)
        assert "x-correlation-id" in answer.json()["messages"][0].lower()


def esim_body(**input_fields: object) -> dict[str, object]:
    body = new_esim_body(unique_email())
    body["input"].update(input_fields)  # type: ignore[union-attr]
    return body


@pytest.mark.parametrize(
    ("change", "field"),
    [({"countryCode": "ZZ"}, "input.countryCode"), ({"customer": {"email": "a@b.co", "countryOfResidence": "XX"}},
                                                    "input.customer.countryOfResidence")],
)  # fmt: skip
def test_country_codes_are_checked_against_iso_3166(
    client: httpx.Client, reseller: str, change: dict[str, object], field: str
) -> None:
    answer = place(client, reseller, esim_body(**change))
    assert answer.status_code == 400 and field in answer.json()["messages"][0], answer.text
    assert place(client, reseller, esim_body(countryCode="SE")).status_code == 201


@pytest.mark.parametrize("moment", ["0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00"])
def test_dates_at_the_edge_of_the_calendar_are_a_400_not_a_500(
    client: httpx.Client, reseller: str, moment: str
) -> None:
    body = new_esim_body(unique_email(), activationDate=moment)
    answer = place(client, reseller, body)
    assert answer.status_code == 400 and answer.json()["type"] == "INVALID_REQUEST_PARAMS", answer.text
    token = get_token(client, "demo-channel-1", "demo-channel-1-secret")
    tmf = client.post(
        "/tmf-api/productOrderingManagement/v4/productOrder",
        json={"requestedStartDate": moment, "productOrderItem": [{"productOffering": {"id": "OFFER-DP-001"},
              "product": {"productCharacteristic": [{"name": "MSISDN", "value": "69877689"},
                                                    {"name": "planType", "value": "Addon"}]}}]},
        headers={"Authorization": f"Bearer {token}"},
    )  # fmt: skip
    assert tmf.status_code == 400 and tmf.json()["code"] == "INVALID_REQUEST", tmf.text


def test_invented_http_methods_do_not_invent_metric_series(client: httpx.Client) -> None:
    # Methods the HTTP parser lets through (WebDAV's), each once: before, each became a series.
    for method in ("PROPFIND", "MKCOL", "LOCK", "UNLOCK", "REPORT"):
        client.request(method, "/esim/v1/order")
    metrics = client.get("/metrics").text
    assert not any(m in metrics for m in ("PROPFIND", "MKCOL", "UNLOCK", "REPORT"))
    assert 'method="other"' in metrics


def test_a_released_profile_never_goes_back_to_stock_and_the_allocator_skips_a_refused_one(
    server: RunningServer, client: httpx.Client, reseller: str
) -> None:
    order = completed_order(client, reseller)
    iccid = order["output"]["iccid"]
    for state in (ProfileState.AVAILABLE, ProfileState.RESERVED):
        with pytest.raises(InvalidInput, match="belongs to a customer"):
            server.services.inventory.set_profile_state(iccid, state)
    # Even if the state says so (a repair by hand gone wrong), the ledger's profile is never drawn again.
    with server.services.engine.begin() as connection:
        connection.execute(sa.text("UPDATE esim_profiles SET state = 'available' WHERE iccid = :i"), {"i": iccid})
    try:
        for _ in range(3):
            again = completed_order(client, reseller)
            assert again["output"]["iccid"] != iccid
    finally:
        with server.services.engine.begin() as connection:
            connection.execute(sa.text("UPDATE esim_profiles SET state = 'released' WHERE iccid = :i"), {"i": iccid})


def test_failed_sign_ins_are_limited_per_client_id_at_a_source_without_locking_out_other_clients(
    tmp_path: Path,
) -> None:
    with running_server(tmp_path / "signins.db") as server, server.client() as http:
        answers = [request_token(http, "demo-reseller-1", "wrong-secret") for _ in range(11)]
        assert [a.status_code for a in answers[:10]] == [401] * 10
        limited = answers[10]
        assert limited.status_code == 429 and int(limited.headers["Retry-After"]) >= 1
        assert limited.json()["error"] == "invalid_client"
        # Even the right secret waits now for that client id from here (other sources: test_sign_in_sources);
        # the partner's other client ids do not.
        assert request_token(http, "demo-reseller-1", "demo-reseller-1-secret").status_code == 429
        assert request_token(http, "demo-reseller-2", "demo-reseller-2-secret").status_code == 200
        # The header-authenticated APIs share the limit.
        tmf = {"client_id": "demo-channel-1", "client_secret": "wrong-secret", "X-Correlation-ID": "c-1"}
        codes = [http.get("/emida-ux/v1/CR/productOrder/ORD-1", headers=tmf).status_code for _ in range(11)]
        assert codes == [401] * 10 + [429]


def test_failed_sign_ins_are_kept_in_the_database_across_a_restart(tmp_path: Path) -> None:
    with running_server(tmp_path / "kept.db") as server, server.client() as http:
        assert [request_token(http, "demo-reseller-1", "wrong-secret").status_code for _ in range(10)] == [401] * 10
    with running_server(tmp_path / "kept.db") as server, server.client() as http:
        limited = request_token(http, "demo-reseller-1", "demo-reseller-1-secret")
        assert limited.status_code == 429 and limited.json()["error"] == "invalid_client"
        assert 1 <= int(limited.headers["Retry-After"]) <= 60


def test_a_client_id_no_credential_can_have_is_refused_and_counted_as_an_unknown_one(tmp_path: Path) -> None:
    # A NUL, which PostgreSQL's text cannot hold (the look-up failed there), and an id of 5,000 characters.
    made_up = ["made\x00up", "x" * 5000]
    with running_server(tmp_path / "made-up.db") as server, server.client() as http:
        for client_id in made_up:
            answers = [request_token(http, client_id, "wrong-secret") for _ in range(11)]
            assert [a.status_code for a in answers] == [401] * 10 + [429]
            assert {a.json()["error"] for a in answers} == {"invalid_client"}
        # onapi-order's Basic credentials are checked as they come, a NUL included.
        answer = http.post("/2.5/sp_spec/order/", json={}, auth=("co\x00", "wrong-secret"))
        assert answer.status_code == 401 and answer.json() == {"cause": "Bad credentials"}


def test_an_unknown_client_id_costs_as_much_as_a_wrong_secret(tmp_path: Path) -> None:
    """Timing must not tell which client ids exist: both run the same hash (ratio, not an absolute time)."""
    with running_server(tmp_path / "timing.db") as server, server.client() as http:

        def median_seconds(client_id: str) -> float:
            times = []
            for _ in range(5):
                started = time.perf_counter()
                assert request_token(http, client_id, "not-the-secret").status_code == 401
                times.append(time.perf_counter() - started)
            return sorted(times)[2]

        known = median_seconds("demo-account-manager")
        unknown = median_seconds(f"nobody-{uuid.uuid4().hex[:6]}")
    assert unknown > 0.4 * known, (unknown, known)


def test_a_client_that_goes_away_mid_request_is_not_counted_as_a_server_error(
    server: RunningServer, client: httpx.Client
) -> None:
    host, port = server.base_url.removeprefix("http://").split(":")

    def answered(status: int) -> int:
        """How many such requests /metrics has counted with ``status`` (the server is the session's)."""
        labels = f'{{api="tmf-productorder",method="POST",status="{status}"}} '
        for line in client.get("/metrics").text.splitlines():
            if line.startswith("orderhub_http_request_duration_seconds_count" + labels):
                return int(float(line.split()[-1]))
        return 0

    went_away_before = answered(499)
    for _ in range(3):
        with socket.create_connection((host, int(port)), timeout=5) as raw:
            raw.sendall(
                b"POST /emida-ux/v1/CR/productOrder HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                b'Content-Length: 500\r\n\r\n{"category": '
            )
    # Each is counted once the server has seen its client go: on a loaded machine that may take a while.
    deadline = time.monotonic() + 15
    while answered(499) < went_away_before + 3 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert answered(499) == went_away_before + 3
    assert answered(500) == 0


def test_every_answer_of_the_token_endpoint_is_shaped_as_rfc_6749_says(client: httpx.Client) -> None:
    for method in ("GET", "PUT", "DELETE", "PATCH", "OPTIONS", "TRACE", "PROPFIND", "MKCOL", "SEARCH"):
        answer = client.request(method, "/oauth2/token")
        assert answer.status_code == 405 and answer.headers["Allow"] == "POST", (method, answer.text)
        assert answer.json() == {"error": "invalid_request", "error_description": "use POST with a form"}, method
    head = client.head("/oauth2/token")
    assert head.status_code == 405 and head.headers["Allow"] == "POST"

    def chunks() -> Iterator[bytes]:
        yield b"grant_type=client_credentials&client_id=x&client_secret="
        for _ in range(4096):  # 4 MB, sent chunked: no Content-Length to check
            yield b"x" * 1024

    form = {"Content-Type": "application/x-www-form-urlencoded"}
    answer = client.post("/oauth2/token", content=chunks(), headers=form)
    assert answer.status_code == 413 and answer.json()["error"] == "invalid_request"
    assert client.post("/oauth2/token", content=b"\xff\xfe=1", headers=form).status_code == 400


def test_personal_data_in_a_path_is_answered_and_masked_in_the_log(client: httpx.Client, reseller: str) -> None:
    # The log scan (test_zz_log_scan) finds this e-mail if the access log wrote the path unmasked.
    answer = client.get("/esim/v1/sim/leak.me@example.com", headers=headers(reseller))
    assert answer.status_code == 404
    answer = client.get("/esim/v1/sim/19121212-1212", headers=headers(reseller))
    assert answer.status_code == 404


@pytest.fixture(scope="module")
def impatient_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A server that waits half a second for a request's body; its host and port."""
    with running_server(tmp_path_factory.mktemp("slow") / "slow.db", request_body_timeout_seconds=0.5) as server:
        yield server.base_url.removeprefix("http://")


@pytest.mark.parametrize(
    "path", ["/esim/v1/order", "/emida-ux/v1/CR/productOrder", "/2.5/sp_spec/order/", "/oauth2/token"]
)
def test_a_body_that_stops_arriving_is_answered_408_and_the_connection_freed(impatient_server: str, path: str) -> None:
    host, port = impatient_server.split(":")
    content_type = "application/x-www-form-urlencoded" if path.startswith("/oauth2") else "application/json"
    with socket.create_connection((host, int(port)), timeout=10) as raw:
        raw.sendall(
            f"POST {path} HTTP/1.1\r\nHost: x\r\nX-Correlation-ID: slow-1\r\nContent-Type: {content_type}\r\n"
            "Content-Length: 400\r\n\r\n{".encode()
        )
        started = time.monotonic()
        answer = raw.recv(4096).decode(errors="replace")
    assert answer.startswith("HTTP/1.1 408"), answer
    assert time.monotonic() - started < 5


def test_a_405_says_which_methods_the_path_takes(client: httpx.Client, reseller: str) -> None:
    for path, api in [("/esim/v1/order", "esim-v1"), ("/emida-ux/v1/CR/productOrder", "tmf"), ("/2.5/", "onapi"),
                      ("/2.5/sp_spec/order/", "onapi")]:  # fmt: skip
        answer = client.delete(path, headers=headers(reseller))
        assert answer.status_code == 405, (api, answer.text)
        assert "POST" in answer.headers["Allow"] or "GET" in answer.headers["Allow"], answer.headers


def test_a_405_on_a_path_that_takes_get_names_head_too(client: httpx.Client, reseller: str) -> None:
    """HEAD reaches the routes as GET, so a 405's Allow left it out although every such path answers it."""
    for path, allowed in [
        ("/esim/v1/order/some-order", "GET, HEAD"),
        ("/esim/v1/product", "GET, HEAD"),
        ("/healthz", "GET, HEAD"),
        ("/tmf-api/productOrderingManagement/v4/productOrder", "GET, HEAD, POST"),
        ("/tmf-api/productOrderingManagement/v4/productOrder/some-order", "DELETE, GET, HEAD, PATCH"),
        ("/2.5/sp_spec/products/", "GET, HEAD"),
        ("/esim/v1/order", "POST"),
    ]:
        answer = client.put(path, headers=headers(reseller))
        assert (answer.status_code, answer.headers.get("Allow")) == (405, allowed), (path, answer.text)
        head = client.head(path, headers=headers(reseller))
        assert (head.status_code == 405) == ("HEAD" not in allowed), (path, head.status_code)


def test_head_answers_as_get_without_a_body(client: httpx.Client, reseller: str) -> None:
    get = client.get("/esim/v1/product", headers=headers(reseller))
    head = client.head("/esim/v1/product", headers=headers(reseller))
    assert head.status_code == get.status_code == 200
    assert head.content == b"" and head.headers["content-type"] == get.headers["content-type"]


def test_the_esim_v1_document_declares_the_bearer_scheme_and_the_correlation_id(client: httpx.Client) -> None:
    document = client.get("/esim/v1/openapi.json").json()
    assert document["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"
    order = document["paths"]["/order"]["post"]
    assert {"bearer": []} in order["security"]
    assert any(p["name"] == "X-Correlation-ID" and p["in"] == "header" for p in order["parameters"])
    assert "409" in document["paths"]["/order/{order_id}/install-links"]["get"]["responses"]


@pytest.mark.parametrize(
    ("document", "path"),
    [
        ("/emida-ux-lcr/emida-ux/v1/openapi.json", "/{business_id}/productOrder"),
        ("/tmf-api/productOrderingManagement/v4/openapi.json", "/productOrder"),
        ("/2.5/openapi.json", "/sp_spec/order/"),
    ],
)
def test_the_documents_describe_the_bodies_the_apis_read_by_hand(
    client: httpx.Client, document: str, path: str
) -> None:
    served = client.get(document)
    assert served.status_code == 200
    body = served.json()["paths"][path]["post"]["requestBody"]["content"]["application/json"]["schema"]
    if "$ref" in body:  # a schema of the document's components
        body = served.json()["components"]["schemas"][body["$ref"].rsplit("/", 1)[1]]
    assert body["required"] and body["properties"]


def test_the_esim_v1_document_declares_what_the_server_refuses(client: httpx.Client, reseller: str) -> None:
    schemas = client.get("/esim/v1/openapi.json").json()["components"]["schemas"]
    assert schemas["Subscription"]["properties"]["currency"]["anyOf"][0]["pattern"] == "^[A-Z]{3}$"
    assert schemas["Customer"]["properties"]["email"]["minLength"] == 3
    assert schemas["OrderInput"]["properties"]["subscriptions"]["minItems"] == 1
    # And the server refuses exactly those.
    empty_email = new_esim_body(unique_email())
    empty_email["input"]["customer"]["email"] = ""
    for body in (new_esim_body(unique_email(), currency="000"), empty_email):
        assert place(client, reseller, body).status_code == 400
