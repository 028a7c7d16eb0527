"""The access log of a real ``orderhub serve``: a JSON line per request, masked, in order."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import pytest

from tests.integration.support import (
    HOST,
    OrderhubProcess,
    OrderhubProcesses,
    api_headers,
    client,
    get_token,
    new_esim_body,
    wait_until,
)

pytestmark = pytest.mark.integration


def _access_lines(log: str) -> list[dict[str, object]]:
    entries = [json.loads(line) for line in log.splitlines() if line.startswith("{")]
    return [entry for entry in entries if entry.get("logger") == "orderhub.access"]


def test_every_request_gets_one_masked_access_line_in_order(orderhub_procs: OrderhubProcesses, tmp_path: Path) -> None:
    server = orderhub_procs.serve(tmp_path / "x.db")
    token = get_token(server.base_url)
    sent = [f"/esim/v1/order/unknown-{n}" for n in range(20)] + ["/esim/v1/order/jane.doe@example.com"]
    with client(server.base_url) as http:
        for number, path in enumerate(sent):
            answer = http.get(path, headers=api_headers(token, correlation_id=f"access-{number}"))
            assert answer.status_code == 404, answer.text

    # Written at the end of the event loop's turn that answered them, not at shutdown. (Counted by their
    # own path: the readiness polls and the sign-in have lines too, which made the count early under load.)
    def esim_lines() -> list[dict[str, object]]:
        return [entry for entry in _access_lines(server.log(10**7)) if str(entry.get("path", "")).startswith("/esim/")]

    wait_until(lambda: len(esim_lines()) >= len(sent), timeout=10, message="access lines")
    log = server.log(10**7)
    lines = esim_lines()
    assert [entry["correlation_id"] for entry in lines] == [f"access-{n}" for n in range(len(sent))]
    assert {(entry["method"], entry["status"]) for entry in lines} == {("GET", 404)}
    assert lines[-1]["path"] == "/esim/v1/order/j***@example.com"
    assert lines[-1]["message"] == "GET /esim/v1/order/j***@example.com 404"
    assert all(isinstance(entry["duration_ms"], float) and entry["level"] == "INFO" for entry in lines)
    assert "jane.doe@" not in log


# --- who sent a request, and why it was refused --------------------------------------------------

ESIM_ORDER = "/esim/v1/order"
VENDOR_ORDER = "/emida-ux-lcr/emida-ux/v1/CR/productOrder"
TMF622_ORDERS = "/tmf-api/productOrderingManagement/v4/productOrder"
ONAPI_ORDER = "/2.5/sp_spec/order/"
CHANNEL = {"client_id": "demo-channel-1", "client_secret": "demo-channel-1-secret"}
CO = ("demo-co-acme", "demo-co-acme-secret")
# Not an address the log masking recognises (no dot after the @): only leaving it out keeps it out.
PERSONAL = "jane.doe@examplecom"


def _line_of(server: OrderhubProcess, correlation: str) -> dict[str, object]:
    """The access line of the request sent with ``correlation`` (once written)."""

    def found() -> dict[str, object] | None:
        lines = [entry for entry in _access_lines(server.log(10**7)) if entry.get("correlation_id") == correlation]
        return lines[0] if lines else None

    line = wait_until(found, timeout=10, message=f"the access line of {correlation}")
    assert isinstance(line, dict)
    return line


def _vendor_item() -> dict[str, object]:
    characteristics = [{"name": "MSISDN", "value": "69877689"}, {"name": "planType", "value": "Addon"}]
    return {"id": "1", "action": "add", "product": {"productOffering": {"id": "OFFER-DP-001"},
                                                    "productCharacteristic": characteristics}}  # fmt: skip


def test_the_access_line_of_an_authenticated_request_names_its_partner_and_no_reason(
    orderhub_procs: OrderhubProcesses, tmp_path: Path
) -> None:
    server = orderhub_procs.serve(tmp_path / "x.db")
    token = get_token(server.base_url)
    channel_token = get_token(server.base_url, CHANNEL["client_id"], CHANNEL["client_secret"])
    past = "2026-01-01T00:00:00Z"  # activated before the answer
    onapi_order = {
        "coId": "Acme", "coAccessId": "access-free-1", "operation": "ACTIVATE", "orderDateTime": past,
        "requestedDateTime": past, "products": [{"productId": "fiber-internet", "offeringId": "1000-1000"}],
        "customerDetails": {"identifiedCustomer": True, "personalIdentityNumber": "19121212-1212",
                            "customerFirstname": "Anna", "customerLastName": "Berg", "customerEmail": "anna@example.se",
                            "invoiceDetails": {"streetName": "Storgatan", "streetNumber": "1", "postalCode": "12345",
                                               "city": "Stockholm"}},
    }  # fmt: skip
    with client(server.base_url) as http:
        # The hot paths (web.hot_paths): esim-v1's order and its GET, tmf-productorder's and onapi-order's orders.
        placed = http.post(ESIM_ORDER, json=new_esim_body("anna@example.se"), headers=api_headers(token, "esim-post"))
        assert placed.status_code == 201, placed.text
        polled = http.get(f"{ESIM_ORDER}/{placed.json()['id']}", headers=api_headers(token, "esim-get"))
        assert polled.status_code == 200, polled.text
        vendor = http.post(VENDOR_ORDER, json={"category": "esimPrepaid", "productOrderItem": [_vendor_item()]},
                           headers={**CHANNEL, "X-Correlation-ID": "vendor-post"})  # fmt: skip
        assert vendor.status_code == 201, vendor.text
        onapi = http.post(ONAPI_ORDER, json=onapi_order, auth=CO, headers={"X-Correlation-ID": "onapi-post"})
        assert onapi.json()["status"] == "ACTIVATED", onapi.text
        # The framework's routes (web.middleware).
        products = http.get("/esim/v1/product", headers=api_headers(token, "esim-products"))
        assert products.status_code == 200, products.text
        listed = http.get(TMF622_ORDERS, headers={"Authorization": f"Bearer {channel_token}",
                                                  "X-Correlation-ID": "tmf622-list"})  # fmt: skip
        assert listed.status_code == 200, listed.text
        offered = http.get("/2.5/sp_spec/products/", auth=CO, headers={"X-Correlation-ID": "onapi-products"})
        assert offered.status_code == 200, offered.text
        signed_in = http.post(
            "/oauth2/token",
            data={"grant_type": "client_credentials", "client_id": CO[0], "client_secret": CO[1]},
            headers={"X-Correlation-ID": "token"},
        )
        assert signed_in.status_code == 200, signed_in.text

    partners = {
        "esim-post": "demo-reseller-1",
        "esim-get": "demo-reseller-1",
        "vendor-post": "demo-channel-1",
        "onapi-post": "demo-co-acme",
        "esim-products": "demo-reseller-1",
        "tmf622-list": "demo-channel-1",
        "onapi-products": "demo-co-acme",
        "token": "demo-co-acme",
    }
    for correlation, partner in partners.items():
        line = _line_of(server, correlation)
        assert line["partner"] == partner, line
        assert "reason" not in line and "field" not in line, line
    log = server.log(10**7)
    for credential in (token, channel_token, CHANNEL["client_secret"], CO[1], signed_in.json()["access_token"]):
        assert credential not in log


def test_the_access_line_of_a_refusal_gives_its_code_and_field_never_its_message(
    orderhub_procs: OrderhubProcesses, tmp_path: Path
) -> None:
    server = orderhub_procs.serve(tmp_path / "x.db")
    token = get_token(server.base_url)
    channel_token = get_token(server.base_url, CHANNEL["client_id"], CHANNEL["client_secret"])
    with client(server.base_url) as http:
        # Refused before anyone is authenticated: a bad token, a wrong secret, a body that is not JSON, a
        # missing header, a body too large.
        unknown = http.get(f"{ESIM_ORDER}/some-order", headers=api_headers("not-a-token", "bad-token"))
        assert unknown.status_code == 401, unknown.text
        form = {"grant_type": "client_credentials", "client_id": CO[0], "client_secret": "wrong"}
        wrong = http.post("/oauth2/token", data=form, headers={"X-Correlation-ID": "bad-secret"})
        assert wrong.status_code == 401, wrong.text
        garbled = http.post(ESIM_ORDER, content=b'{"input": ', headers=api_headers(token, "bad-json"))
        assert garbled.status_code == 400, garbled.text
        headless = http.post(VENDOR_ORDER, json={}, headers=CHANNEL)
        assert headless.status_code == 400, headless.text
        huge = http.post(ESIM_ORDER, content=b"{" + b" " * 2_000_000 + b"}", headers=api_headers(token, "too-large"))
        assert huge.status_code == 413, huge.text
        # Refused after the caller was authenticated: a field at fault (its value personal data), a rule
        # whose message quotes the customer's e-mail, an order that is not there, an ON-API field.
        invalid = http.post(ESIM_ORDER, json=new_esim_body(PERSONAL), headers=api_headers(token, "bad-email"))
        assert invalid.status_code == 400 and "input.customer.email" in invalid.text, invalid.text
        topup = new_esim_body("jane.doe@example.com")
        topup["input"] |= {"operationType": "TOPUP", "esim": {"iccid": "123456789"}}
        stranger = http.post(ESIM_ORDER, json=topup, headers=api_headers(token, "no-such-customer"))
        assert stranger.status_code == 422, stranger.text
        missing = http.get(f"{ESIM_ORDER}/no-such-order", headers=api_headers(token, "not-found"))
        assert missing.status_code == 404, missing.text
        # A partner without esim-v1's roles: authenticated, then refused (the poll and the order).
        polled = http.get(f"{ESIM_ORDER}/some-order", headers=api_headers(channel_token, "wrong-role-get"))
        assert polled.status_code == 403, polled.text
        ordered = http.post(ESIM_ORDER, json=new_esim_body("anna@example.se"),
                            headers=api_headers(channel_token, "wrong-role-post"))  # fmt: skip
        assert ordered.status_code == 403, ordered.text
        onapi = http.post(ONAPI_ORDER, json={"coId": "Acme", "coAccessId": PERSONAL}, auth=CO,
                          headers={"X-Correlation-ID": "onapi-bad"})  # fmt: skip
        assert onapi.status_code == 400, onapi.text
        # Outside the APIs: a path nothing serves, a method a probe does not take.
        stray = http.get("/esim/v2/order", headers={"X-Correlation-ID": "no-such-path"})
        assert stray.status_code == 404 and stray.json() == {"detail": "Not Found"}, stray.text
        posted = http.post("/healthz", headers={"X-Correlation-ID": "probe-posted"})
        assert posted.status_code == 405, posted.text

    expected = {
        "bad-token": (401, None, "UNAUTHORISED", None),
        "bad-secret": (401, None, "invalid_client", None),
        "bad-json": (400, None, "INVALID_HTTP_MESSAGE", None),
        "too-large": (413, None, "INVALID_HTTP_MESSAGE", None),
        "bad-email": (400, "demo-reseller-1", "INVALID_REQUEST_PARAMS", "input.customer.email"),
        "no-such-customer": (422, "demo-reseller-1", stranger.json()["type"], None),
        "not-found": (404, "demo-reseller-1", "ORDER_NOT_FOUND", None),
        "wrong-role-get": (403, "demo-channel-1", "ACCESS_DENIED", None),
        "wrong-role-post": (403, "demo-channel-1", "ACCESS_DENIED", None),
        "onapi-bad": (400, "demo-co-acme", "Bad coAccessId", "coAccessId"),
        "no-such-path": (404, None, "NOT_FOUND", None),
        "probe-posted": (405, None, "METHOD_NOT_ALLOWED", None),
    }
    for correlation, (status, partner, reason, field) in expected.items():
        line = _line_of(server, correlation)
        shown = (line["status"], line.get("partner"), line.get("reason"), line.get("field"))
        assert shown == (status, partner, reason, field), (correlation, line)
    # The tmf-productorder request without its X-Correlation-ID: a correlation id of orderhub's making.
    (headless_line,) = [entry for entry in _access_lines(server.log(10**7)) if entry["path"] == VENDOR_ORDER]
    assert (headless_line["reason"], headless_line["field"]) == ("MISSING_HEADER", "X-Correlation-ID")
    assert "partner" not in headless_line
    log = server.log(10**7)
    assert "jane.doe" not in log and "examplecom" not in log
    assert "no customer with email" not in log


def _refused_by_the_parser(port: int, raw: bytes) -> bytes:
    with socket.create_connection((HOST, port), timeout=10) as connection:
        connection.sendall(raw)
        answer = b""
        while chunk := connection.recv(65536):  # closed after the refusal
            answer += chunk
    return answer.split(b"\r\n", 1)[0]


def test_a_request_the_servers_parser_refuses_gets_its_access_line_too(
    orderhub_procs: OrderhubProcesses, tmp_path: Path
) -> None:
    # Refused before any route (web.parser_refusals): the partner sees a 400, and so must the log.
    server = orderhub_procs.serve(tmp_path / "x.db")
    assert server.port is not None
    not_http = b"POST /esim/v1/order HTTP/1.1\r\nHost: x\r\nno colon here\r\n\r\n"
    assert _refused_by_the_parser(server.port, not_http) == b"HTTP/1.1 400 Bad Request"
    too_large = b"POST /oauth2/token HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 70_000 + b"\r\n\r\n"
    assert _refused_by_the_parser(server.port, too_large).startswith(b"HTTP/1.1 431")

    def refusals() -> list[dict[str, object]] | None:
        lines = [entry for entry in _access_lines(server.log(10**7)) if entry["status"] in (400, 431)]
        return lines if len(lines) == 2 else None

    lines = wait_until(refusals, timeout=10, message="the refusals' access lines")
    assert isinstance(lines, list)
    shown = [{key: entry.get(key) for key in ("method", "path", "status", "reason", "partner")} for entry in lines]
    assert shown == [
        {"method": "-", "path": "/esim/v1/order", "status": 400, "reason": "INVALID_HTTP_MESSAGE", "partner": None},
        {"method": "-", "path": "/oauth2/token", "status": 431, "reason": "invalid_request", "partner": None},
    ]
