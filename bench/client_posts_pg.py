"""What a tmf-productorder and an onapi-order POST wait on, on PostgreSQL: round trips and separate
config-version reads per POST, once the process's caches are warm.

``PYTHONPATH=SRC python -m bench.client_posts_pg --postgres URL [--orders 8]`` places ``--orders`` orders
of each dialect, one at a time, through the hot application in-process (no HTTP server: one request's
waits are what is counted), over a loopback proxy that counts the server's answers (each one wait of the
process for the server: tests/postgres/test_pipelined_writes.py). Run it with each checkout's ``src`` on
PYTHONPATH to compare them; it measures nothing of the speed.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import statistics
import threading
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import psycopg
import sqlalchemy as sa

from bench.pg_proxy import relay
from bench.postgres import admin_url
from bench.servers import free_port

DATABASE = "orderhub_bench_client_posts"


class CountingProxy:
    """The loopback proxy (bench.pg_proxy), on a thread of its own, counting the server's chunks."""

    def __init__(self, target_port: int) -> None:
        self.port = free_port()
        self.answers = 0
        ready = threading.Event()
        proxy = relay(self.port, target_port, answered=self._answered, listening=ready.set)
        threading.Thread(target=asyncio.run, args=(proxy,), daemon=True).start()
        ready.wait(5)

    def _answered(self) -> None:
        self.answers += 1


def _tmf(http: httpx.AsyncClient, _n: int) -> Awaitable[httpx.Response]:
    characteristics = [{"name": "MSISDN", "value": "69877689"}, {"name": "planType", "value": "Addon"}]
    item = {"product": {"productOffering": {"id": "OFFER-DP-001"}, "productCharacteristic": characteristics}}
    headers = {
        "client_id": "demo-channel-1",
        "client_secret": "demo-channel-1-secret",
        "X-Correlation-ID": uuid.uuid4().hex,
        "Content-Type": "application/json",
    }
    body = json.dumps({"category": "esimPrepaid", "productOrderItem": [item]})
    return http.post("/emida-ux-lcr/emida-ux/v1/CR/productOrder", headers=headers, content=body)


def _onapi(http: httpx.AsyncClient, n: int) -> Awaitable[httpx.Response]:
    basic = base64.b64encode(b"demo-co-acme:demo-co-acme-secret").decode()
    body = {
        "coId": "Acme",
        "coAccessId": f"access-free-{n}",
        "operation": "ACTIVATE",
        "orderDateTime": "2021-05-03T20:31:15Z",
        "requestedDateTime": (datetime.now(UTC) + timedelta(days=30)).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "products": [{"productId": "fiber-internet", "offeringId": "1000-1000"}],
        "customerDetails": {
            "identifiedCustomer": True,
            "personalIdentityNumber": "19121212-1212",
            "customerFirstname": "Anna",
            "customerLastName": "Berg",
            "customerPhone": "+46812345678",
            "customerMobilePhone": "+46701234567",
            "customerEmail": "anna@example.se",
            "invoiceDetails": {"postalCode": "12345", "city": "Stockholm", "streetName": "Storgatan"},
        },
    }
    headers = {"Authorization": f"Basic {basic}", "Content-Type": "application/json"}
    return http.post("/2.5/sp_spec/order/", headers=headers, content=json.dumps(body))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--postgres", required=True)
    parser.add_argument("--orders", type=int, default=8, help="per dialect, at most 9 (the demo's free accesses)")
    args = parser.parse_args()

    from orderhub.api.app import create_app
    from orderhub.bootstrap import build_services
    from orderhub.services.demo import load_demo_data
    from orderhub.settings import Settings

    with psycopg.connect(admin_url(args.postgres), autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{DATABASE}"')
    url = sa.make_url(args.postgres).set(database=DATABASE)
    setup = build_services(Settings(database_url=str(url)))
    setup.migrate()
    load_demo_data(setup.uow_factory, inventory_size=20)
    setup.close()
    proxy = CountingProxy(url.port or 5432)
    # One writer, and no rate-limit sync within the run: nothing but the request talks to the server.
    settings = Settings(
        database_url=str(url.set(host="127.0.0.1", port=proxy.port)), db_writers=1, rate_limit_sync_seconds=3600
    )
    services = build_services(settings)
    reads = 0
    read = services.database.config_version

    async def counted_read() -> int:
        nonlocal reads
        reads += 1
        return await read()

    services.database.config_version = counted_read  # type: ignore[method-assign]

    async def measure(post: Callable[[httpx.AsyncClient, int], Awaitable[httpx.Response]]) -> list[tuple[int, int]]:
        nonlocal reads
        app = create_app(services, run_worker=False, hot_paths=True)
        transport = httpx.ASGITransport(app=app)
        seen = []
        async with httpx.AsyncClient(transport=transport, base_url="http://orderhub.test") as http:
            for n in range(1, args.orders + 1):
                reads, before = 0, proxy.answers
                answer = await post(http, n)
                assert answer.status_code in (200, 201), answer.text
                seen.append((proxy.answers - before, reads))
        return seen

    try:
        results: dict[str, Any] = {
            name: asyncio.run(measure(post)) for name, post in (("tmf", _tmf), ("onapi", _onapi))
        }
    finally:
        services.close()
    for name, seen in results.items():
        warm = seen[2:]  # the first ones also connect, prepare statements and fill the caches
        print(
            f"{name}: per warm POST, round trips median {statistics.median(t for t, _ in warm)}"
            f" (min {min(t for t, _ in warm)}, max {max(t for t, _ in warm)}),"
            f" separate config-version reads {max(r for _, r in warm)}; all {seen}"
        )


if __name__ == "__main__":
    main()
