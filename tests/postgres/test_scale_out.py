"""Several API and worker processes on one PostgreSQL database, and a database that drops every
connection under load: no order lost, none fulfilled twice, no eSIM given twice."""

from __future__ import annotations

import contextlib
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import sqlalchemy as sa

from orderhub.bootstrap import build_services
from orderhub.services.access_setup import AccessAdmin
from orderhub.settings import Settings
from tests.integration.support import OrderhubProcesses, client, get_token, new_esim_body, wait_until
from tests.postgres.test_idle_connections import terminate_the_other_sessions

FINAL = ("completed", "failed", "partial", "rejected", "cancelled")
PAST = (datetime.now(UTC) - timedelta(minutes=1)).strftime("%Y-%m-%dT%H:%M:%SZ")


_esim_bodies: dict[int, dict[str, Any]] = {}


def esim_order(base_url: str, token: str, n: int) -> tuple[str, httpx.Response]:
    with client(base_url, timeout=30) as http:
        headers = {"Authorization": f"Bearer {token}", "X-Correlation-ID": f"mp-{n}", "Idempotency-Key": f"mp-{n}"}
        # The same body when sent again (its activation date is made from the clock).
        body = _esim_bodies.setdefault(n, new_esim_body(f"mp-{n}@example.com"))
        answer = http.post("/esim/v1/order", json=body, headers=headers)
    return "esim", answer


def vendor_order(base_url: str, _token: str, n: int) -> tuple[str, httpx.Response]:
    body = {
        "category": "esimPrepaid",
        "productOrderItem": [
            {
                "product": {
                    "productOffering": {"id": "OFFER-DP-001"},
                    "productCharacteristic": [
                        {"name": "MSISDN", "value": "69877689"},
                        {"name": "planType", "value": "Addon"},
                    ],
                }
            }
        ],
    }
    headers = {"client_id": "demo-channel-1", "client_secret": "demo-channel-1-secret",
               "X-Correlation-ID": f"mp-{n}"}  # fmt: skip
    with client(base_url, timeout=30) as http:
        return "tmf", http.post("/emida-ux-lcr/emida-ux/v1/CR/productOrder", json=body, headers=headers)


def onapi_order(base_url: str, _token: str, n: int) -> tuple[str, httpx.Response]:
    body = {
        "coId": "Acme", "coAccessId": f"mp-access-{n}", "operation": "ACTIVATE", "orderDateTime": PAST,
        "requestedDateTime": PAST, "products": [{"productId": "fiber-internet", "offeringId": "1000-1000"}],
        "customerDetails": {"identifiedCustomer": False, "customerFirstname": "Anna", "customerLastName": "Berg"},
    }  # fmt: skip
    with client(base_url, timeout=30) as http:
        return "onapi", http.post("/2.5/sp_spec/order/", json=body, auth=("demo-co-acme", "demo-co-acme-secret"))


def final_counts(engine: sa.Engine) -> tuple[int, int]:
    with engine.connect() as connection:
        total = connection.execute(sa.text("SELECT count(*) FROM orders")).scalar_one()
        done = connection.execute(
            sa.text("SELECT count(*) FROM orders WHERE state IN :final").bindparams(
                sa.bindparam("final", expanding=True)
            ),
            {"final": list(FINAL)},
        ).scalar_one()
    return int(total), int(done)


def test_two_api_and_three_worker_processes_with_a_worker_killed_mid_way(
    pg_url: str, orderhub_procs: OrderhubProcesses
) -> None:
    count = 400
    setup = build_services(Settings(database_url=pg_url))
    admin = AccessAdmin(setup.uow_factory)
    for n in range(count):
        if n % 4 == 2:
            admin.add_access(f"mp-access-{n}")
    # 200 line orders on one line, from 24 senders, two API processes and three workers on two cores:
    # one may wait on the line's row longer than the default 2 s, and is then answered 503 by design
    # (tests/postgres/test_writer_contention.py holds the deadline). This test is about orders lost or
    # fulfilled twice: a bound that contention on this machine seldom reaches (1 run in 4 got a 503 at 2 s;
    # at 6 s, one CI run in the last dozen did), and a 503 is sent again as a partner would.
    env = {
        "ORDERHUB_WORKER_POLL_SECONDS": "1.0",
        "ORDERHUB_FINAL_ANSWER_BUDGET_SECONDS": "0.2",
        "ORDERHUB_DB_WRITE_TIMEOUT_SECONDS": "6",
    }
    apis = [
        orderhub_procs.serve(orderhub_procs.tmp_path, demo=False, db_url=pg_url, extra_args=["--no-worker"], env=env)
        for _ in range(2)
    ]
    workers = [orderhub_procs.spawn(["worker", "--db", pg_url], env=env) for _ in range(3)]
    token = get_token(apis[0].base_url)
    senders = [esim_order, vendor_order, onapi_order, vendor_order]
    accepted: list[tuple[str, httpx.Response]] = []
    lock = threading.Lock()

    def send(n: int) -> None:
        kind, answer = senders[n % 4](apis[n % 2].base_url, token, n)
        # Two API processes, three workers and 24 senders on two cores (beside CI's other passes): a write
        # may wait past its bound on the line's row and be refused, 503 with Retry-After, by design. A
        # partner sends the same order again (the same keys), and that is what is checked here: nothing
        # lost, nothing twice.
        for _ in range(5):
            if answer.status_code != 503:
                break
            assert "retry-after" in answer.headers, answer.text
            time.sleep(min(float(answer.headers["retry-after"]), 2.0))
            kind, answer = senders[n % 4](apis[n % 2].base_url, token, n)
        with lock:
            accepted.append((kind, answer))
        if n == count // 3:
            workers[0].kill()  # SIGKILL, mid-way: whatever it held in flight was never committed

    with ThreadPoolExecutor(24) as pool:
        list(pool.map(send, range(count)))
    statuses = sorted({(kind, answer.status_code) for kind, answer in accepted})
    assert statuses == [("esim", 201), ("onapi", 200), ("tmf", 201)], statuses
    assert all(a.json()["status"] != "REJECTED" for kind, a in accepted if kind == "onapi")

    wait_until(lambda: final_counts(setup.engine)[1] == final_counts(setup.engine)[0], timeout=90,
               message="every order final")  # fmt: skip
    with setup.engine.connect() as connection:
        orders = connection.execute(sa.text("SELECT count(*) FROM orders")).scalar_one()
        completed = connection.execute(sa.text("SELECT count(*) FROM orders WHERE state = 'completed'")).scalar_one()
        twice = connection.execute(
            sa.text(
                "SELECT order_id FROM order_events WHERE to_state IN ('completed', 'failed')"
                " GROUP BY order_id HAVING count(*) > 1"
            )
        ).all()
        shared = connection.execute(
            sa.text(
                "SELECT order_id FROM esim_profiles WHERE order_id IS NOT NULL GROUP BY order_id HAVING count(*) > 1"
            )
        ).all()
        esim_orders = connection.execute(
            sa.text("SELECT count(*) FROM orders WHERE operation = 'NEW_ESIM' AND state = 'completed'")
        ).scalar_one()
        profiles = connection.execute(sa.text("SELECT count(*) FROM esim_assignments")).scalar_one()
    assert orders == count and completed == count
    assert twice == [] and shared == []
    assert profiles == esim_orders == count // 4
    for api in apis:
        assert "Traceback" not in api.log(tail_chars=200_000), api.log()
    setup.close()


def test_connections_dropped_under_load_lose_no_accepted_order(pg_url: str, orderhub_procs: OrderhubProcesses) -> None:
    api = orderhub_procs.serve(orderhub_procs.tmp_path, demo=False, db_url=pg_url,
                               env={"ORDERHUB_WORKER_POLL_SECONDS": "0.2"})  # fmt: skip
    token = get_token(api.base_url)
    answers: list[httpx.Response] = []
    stop = threading.Event()

    def load(worker: int) -> None:
        n = 0
        while not stop.is_set():
            n += 1
            with contextlib.suppress(httpx.TransportError):
                answers.append(esim_order(api.base_url, token, worker * 100_000 + n)[1])

    threads = [threading.Thread(target=load, args=(i,)) for i in range(6)]
    for thread in threads:
        thread.start()
    admin = sa.create_engine(pg_url.replace("postgresql://", "postgresql+psycopg://", 1), isolation_level="AUTOCOMMIT")
    try:
        for _ in range(3):
            time.sleep(1.0)
            assert terminate_the_other_sessions(pg_url) > 0
        time.sleep(1.0)
    finally:
        stop.set()
        for thread in threads:
            thread.join(30)
    statuses = {a.status_code for a in answers}
    assert statuses <= {201, 503}, statuses
    assert 201 in statuses
    accepted = [a.json()["id"] for a in answers if a.status_code == 201]
    for refused in (a for a in answers if a.status_code == 503):
        assert refused.json()["type"] == "SERVICE_UNAVAILABLE" and refused.headers["Retry-After"]
    with admin.connect() as connection:
        stored = {
            row[0]: row[1]
            for row in connection.execute(
                sa.text("SELECT id, state FROM orders WHERE id IN :ids").bindparams(
                    sa.bindparam("ids", expanding=True)
                ),
                {"ids": accepted},
            )
        }
    assert set(stored) == set(accepted)  # every 201 is a stored order
    wait_until(lambda: _all_final(admin, accepted), timeout=30, message="accepted orders final")
    # And the service works normally again.
    _kind, after = esim_order(api.base_url, token, 999_999)
    assert after.status_code == 201, after.text
    admin.dispose()


def _all_final(engine: sa.Engine, ids: list[str]) -> bool:
    with engine.connect() as connection:
        states: Any = connection.execute(
            sa.text("SELECT state FROM orders WHERE id IN :ids").bindparams(sa.bindparam("ids", expanding=True)),
            {"ids": ids},
        ).scalars()
        return all(state in FINAL for state in states)
