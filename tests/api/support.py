"""Helpers for API tests: a real server in a thread, tokens, seed bodies, polling."""

from __future__ import annotations

import base64
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import uvicorn

from orderhub.api.app import create_app
from orderhub.bootstrap import Services, build_services
from orderhub.services.demo import load_demo_data
from orderhub.settings import Settings
from tests.demo_databases import demo_database_url
from tests.http_clients import TLS

FUTURE = (datetime.now(UTC) + timedelta(days=30)).strftime("%Y-%m-%dT12:00:00Z")
SEED_PRODUCT = "a3u3z000000PZBhAAO"


@dataclass
class RunningServer:
    base_url: str
    services: Services

    def client(self) -> httpx.Client:
        return httpx.Client(base_url=self.base_url, timeout=30, verify=TLS)


@contextmanager
def running_server(db_path: Path, *, run_worker: bool = True, **settings: Any) -> Iterator[RunningServer]:
    options = {"demo_inventory_size": 300, "worker_poll_seconds": 30.0, "log_level": "INFO", **settings}
    url = demo_database_url(db_path, options["demo_inventory_size"])
    services = build_services(Settings(database_url=url, **options))
    services.migrate()
    load_demo_data(services.uow_factory, inventory_size=options["demo_inventory_size"])
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(create_app(services, run_worker=run_worker), log_config=None, access_log=False)
    )
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError("test server did not start")
        time.sleep(0.02)
    try:
        yield RunningServer(f"http://127.0.0.1:{port}", services)
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()
        services.close()


def request_token(http: httpx.Client, client_id: str, client_secret: str) -> httpx.Response:
    """The client-credentials grant with the credentials in the form."""
    return http.post(
        "/oauth2/token",
        data={"grant_type": "client_credentials", "client_id": client_id, "client_secret": client_secret},
    )


def get_token(http: httpx.Client, client_id: str, client_secret: str) -> str:
    answer = request_token(http, client_id, client_secret)
    assert answer.status_code == 200, answer.text
    return str(answer.json()["access_token"])


def headers(token: str | None, **extra: str) -> dict[str, str]:
    result = {"X-Correlation-ID": f"test-{uuid.uuid4()}", **extra}
    if token is not None:
        result["Authorization"] = f"Bearer {token}"
    return result


def new_esim_body(email: str | None = None, **subscription: Any) -> dict[str, Any]:
    """The seed's NEW_ESIM example, with a future activation date (and optional overrides)."""
    return {
        "input": {
            "operationType": "NEW_ESIM",
            "countryCode": "PT",
            "customer": {"email": email or "john@doe.com", "countryOfResidence": "US"},
            "device": {"product_id": "123456789", "model": "iPhone", "type": "ios"},
            "subscriptions": [
                {"id": SEED_PRODUCT, "activationDate": FUTURE, "price": 10, "currency": "USD", **subscription}
            ],
        }
    }


def topup_body(email: str, iccid: str, operation: str = "TOPUP") -> dict[str, Any]:
    """The seed's top-up example (TOPUP_ACTIVATION there), with a real ICCID and a future date."""
    body = new_esim_body(email)
    body["input"]["operationType"] = operation
    body["input"]["esim"] = {"iccid": iccid}
    return body


def unique_email() -> str:
    return f"customer-{uuid.uuid4().hex[:10]}@example.com"


def wait_for(
    http: httpx.Client, token: str, order_id: str, done: Callable[[dict[str, Any]], bool], timeout: float = 10
) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        answer = http.get(f"/esim/v1/order/{order_id}", headers=headers(token))
        assert answer.status_code == 200, answer.text
        order = answer.json()
        if done(order) or time.monotonic() > deadline:
            return order
        time.sleep(0.02)


def place(http: httpx.Client, token: str, body: dict[str, Any], **extra: str) -> httpx.Response:
    return http.post("/esim/v1/order", json=body, headers=headers(token, **extra))


def completed_order(http: httpx.Client, token: str, email: str | None = None) -> dict[str, Any]:
    answer = place(http, token, new_esim_body(email or unique_email()))
    assert answer.status_code == 201, answer.text
    order = wait_for(http, token, answer.json()["id"], lambda o: o["status"] != "FULFILLING")
    assert order["status"] == "COMPLETED", order
    return order


def non_canonical_basic(user: str, password: str) -> dict[str, str]:
    """``Authorization: Basic`` values, by name, whose base64 of ``user:password`` is not the canonical one
    (RFC 7617 §2, RFC 4648 §3.5): a lenient decoder reads each as those credentials."""
    encoded = base64.b64encode(f"{user}:{password}".encode()).decode()
    assert encoded.endswith("=") and not encoded.endswith("=="), "the forms below need one '=' of padding"
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
    # The last character before the padding carries 2 bits that are not data: canonical is zero.
    last = alphabet.index(encoded[-2])
    assert last % 4 == 0
    return {
        "extra padding": f"Basic {encoded}=",
        "padding past a quantum": f"Basic {encoded}====",
        "padding left out": f"Basic {encoded[:-1]}",
        "non-zero trailing bits": f"Basic {encoded[:-2]}{alphabet[last + 1]}=",
        "a character outside the alphabet": f"Basic {encoded[:8]}!{encoded[8:]}",
        "a space inside": f"Basic {encoded[:8]} {encoded[8:]}",
    }
