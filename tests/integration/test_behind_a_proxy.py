"""orderhub behind a TLS-terminating reverse proxy, as README "Deploying" runs it (examples/deploy/nginx.conf),
with the proxy's requests written here byte for byte as nginx 1.22 sends them (CI has no nginx): HTTP/1.0
with `Connection: close` (proxy_pass's default) or HTTP/1.1, `Host`, and `X-Forwarded-For` /
`X-Forwarded-Proto` from a proxy that `FORWARDED_ALLOW_IPS` trusts. Every API answers in full with a
`Content-Length` (an HTTP/1.0 proxy cannot read chunked), links name the public https address, and the
sign-in limits count the client's address, not the proxy's."""

from __future__ import annotations

import base64
import json
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest

from tests.integration.support import HOST, OrderhubProcess, OrderhubProcesses, free_port, run_cli, sqlite_url

pytestmark = pytest.mark.integration

PUBLIC_HOST = "orders.example.test"
TMF622 = "/tmf-api/productOrderingManagement/v4"
# The proxy's own address as an operator writes a network: with its host bits set (127.0.0.1/8 for
# 127.0.0.0/8). uvicorn took it for a name no peer matches, and trusted no proxy at all.
PROXY_NETWORK = "127.0.0.1/8"
ADDON = [{"name": "MSISDN", "value": "69877689"}, {"name": "planType", "value": "Addon"}]
ADDITION = {
    "productOrderItem": [
        {
            "id": "1",
            "action": "add",
            "productOffering": {"id": "OFFER-DP-001"},
            "product": {"productCharacteristic": ADDON},
        }
    ]
}
CO_BASIC = "Basic " + base64.b64encode(b"demo-co-acme:demo-co-acme-secret").decode()


@pytest.fixture(scope="module")
def proxied(tmp_path_factory: pytest.TempPathFactory) -> Iterator[OrderhubProcess]:
    processes = OrderhubProcesses(tmp_path_factory.mktemp("proxied"))
    try:
        env = {"FORWARDED_ALLOW_IPS": PROXY_NETWORK}
        yield processes.serve(processes.tmp_path / "proxied.db", env=env)
    finally:
        processes.close()


def through_proxy(
    server: OrderhubProcess,
    method: str,
    path: str,
    *,
    body: bytes = b"",
    headers: dict[str, str] | None = None,
    client: str = "203.0.113.7",
    version: str = "1.0",
) -> tuple[int, dict[str, str], bytes]:
    """One request as nginx forwards it to ``server`` for ``client`` (proxy_set_header Host $host,
    X-Forwarded-For $remote_addr, X-Forwarded-Proto $scheme; HTTP/1.0 with Connection: close, its
    default, or HTTP/1.1 with Connection emptied, for keep-alive), read until the server closes the
    connection (1.0) or to its Content-Length (1.1): the status, headers and body."""
    connection_field = "Connection: close\r\n" if version == "1.0" else ""
    head = (
        f"{method} {path} HTTP/{version}\r\nHost: {PUBLIC_HOST}\r\n{connection_field}"
        f"X-Forwarded-For: {client}\r\nX-Forwarded-Proto: https\r\n"
    )
    if body or method == "POST":
        head += f"Content-Length: {len(body)}\r\n"
    head += "".join(f"{name}: {value}\r\n" for name, value in (headers or {}).items()) + "\r\n"
    assert server.port is not None
    with socket.create_connection((HOST, server.port), timeout=15) as connection:
        connection.sendall(head.encode() + body)
        received = b""
        while chunk := connection.recv(65536):
            received += chunk
            if version == "1.1" and _complete(received):
                break
    head_bytes, _, content = received.partition(b"\r\n\r\n")
    status_line, *lines = head_bytes.decode("latin-1").split("\r\n")
    fields = {name.lower(): value for name, _, value in (line.partition(": ") for line in lines)}
    return int(status_line.split()[1]), fields, content


def _complete(received: bytes) -> bool:
    head, separator, content = received.partition(b"\r\n\r\n")
    length = [line.split(b":")[1] for line in head.split(b"\r\n") if line.lower().startswith(b"content-length:")]
    return bool(separator and length) and len(content) >= int(length[0])


def form(**values: str) -> tuple[bytes, dict[str, str]]:
    return urlencode(values).encode(), {"Content-Type": "application/x-www-form-urlencoded"}


def json_body(value: Any) -> bytes:
    return json.dumps(value).encode()


def token_of(server: OrderhubProcess, client_id: str) -> str:
    body, headers = form(grant_type="client_credentials", client_id=client_id, client_secret=f"{client_id}-secret")
    status, _, content = through_proxy(server, "POST", "/oauth2/token", body=body, headers=headers)
    assert status == 200, content
    return str(json.loads(content)["access_token"])


def test_every_api_answers_an_http_1_0_proxy_whole_with_its_length(proxied: OrderhubProcess) -> None:
    reseller, channel = token_of(proxied, "demo-reseller-1"), token_of(proxied, "demo-channel-1")
    line_order = {
        "category": "esimPrepaid",
        "productOrderItem": [
            {
                "product": {
                    "productOffering": {"id": "OFFER-DP-001"},
                    "productCharacteristic": ADDON,
                }
            }
        ],
    }
    sent = [
        ("GET", "/esim/v1/product", b"", {"Authorization": f"Bearer {reseller}", "X-Correlation-ID": "p-1"}, 200),
        (
            "POST",
            "/emida-ux-lcr/emida-ux/v1/CR/productOrder",
            json_body(line_order),
            {"client_id": "demo-channel-1", "client_secret": "demo-channel-1-secret", "X-Correlation-ID": "po-1"},
            201,
        ),
        ("GET", f"{TMF622}/productOrder?limit=5", b"", {"Authorization": f"Bearer {channel}"}, 200),
        ("GET", "/2.5/sp_spec/products/", b"", {"Authorization": CO_BASIC}, 200),
        ("GET", f"{TMF622}/openapi.json", b"", {}, 200),
        ("GET", "/esim/v1/docs", b"", {}, 200),
        ("GET", "/metrics", b"", {}, 200),
        ("GET", "/readyz", b"", {}, 200),
    ]
    for method, path, body, headers, expected in sent:
        if body:
            headers = {**headers, "Content-Type": "application/json"}
        status, fields, content = through_proxy(proxied, method, path, body=body, headers=headers)
        assert status == expected, (path, content[:300])
        assert "transfer-encoding" not in fields, path  # chunked means nothing to an HTTP/1.0 proxy
        assert int(fields["content-length"]) == len(content), path  # read whole, then the connection closed


def test_links_name_the_address_the_proxy_was_reached_at(proxied: OrderhubProcess) -> None:
    token = token_of(proxied, "demo-channel-1")
    for version in ("1.0", "1.1"):
        headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        status, fields, content = through_proxy(
            proxied, "POST", f"{TMF622}/productOrder", body=json_body(ADDITION), headers=headers, version=version
        )
        assert status == 201, content
        href = json.loads(content)["href"]
        assert href.startswith(f"https://{PUBLIC_HOST}{TMF622}/productOrder/"), href
        assert fields["location"] == href


def test_sign_in_limits_count_the_client_behind_the_proxy_not_the_proxy(proxied: OrderhubProcess) -> None:
    body, headers = form(grant_type="client_credentials", client_id="demo-reseller-2", client_secret="wrong-secret")
    guesses = [
        through_proxy(proxied, "POST", "/oauth2/token", body=body, headers=headers, client="198.51.100.1")[0]
        for _ in range(11)
    ]
    assert guesses == [401] * 10 + [429]  # the guesser's address: its 10 for the client id
    elsewhere = through_proxy(proxied, "POST", "/oauth2/token", body=body, headers=headers, client="198.51.100.2")
    assert elsewhere[0] == 401  # another client of the same proxy is not the guesser


@pytest.mark.parametrize("value", ["localhost", "10.0.0.5;10.0.0.6", "*,10.0.0.5", "[::1]"])
def test_a_forwarded_allow_ips_that_names_no_address_stops_serve_with_one_line(tmp_path: Path, value: str) -> None:
    db_path = tmp_path / "proxied.db"
    command = ["serve", "--port", str(free_port()), "--db", sqlite_url(db_path)]
    result = run_cli(*command, cwd=tmp_path, env={"FORWARDED_ALLOW_IPS": value}, timeout=20)
    expected = (
        "error: FORWARDED_ALLOW_IPS must be `*` alone (any peer: only where nothing but the proxy can reach"
        " orderhub) or comma-separated IP addresses or networks of the proxies in front, such as 127.0.0.1"
        f" or 10.0.0.0/24 (got {value!r})"
    )
    assert (result.returncode, result.stderr.strip(), result.stdout) == (1, expected, "")
    assert not db_path.exists()  # refused before the database was touched
