"""An order committed, then the database failing while the API reads it back for its final answer
(tmf-productorder, TMF622, onapi-order wait for the worker within ORDERHUB_FINAL_ANSWER_BUDGET_SECONDS).

The answer was 503 "retry later" (onapi-order's document: "nothing was stored") for an order that was
in: a TMF622 partner retrying without its optional Idempotency-Key placed it a second time (seen with
every connection terminated under load: about half the 503s of onapi-order and TMF622 were orders
committed and then fulfilled).
"""

from __future__ import annotations

import threading
import uuid
from datetime import UTC, datetime
from typing import Any

import httpx
import sqlalchemy as sa

from tests.integration.support import OrderhubProcesses, client, wait_until


def _onapi_body(access: str) -> dict[str, Any]:
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return {
        "coId": "Acme", "coAccessId": access, "operation": "ACTIVATE", "orderDateTime": now, "requestedDateTime": now,
        "products": [{"productId": "fiber-internet", "offeringId": "1000-1000"}],
        "customerDetails": {
            "identifiedCustomer": True, "personalIdentityNumber": "19121212-1212", "customerFirstname": "Anna",
            "customerLastName": "Berg", "customerMobilePhone": "+46701234567", "customerEmail": "anna@example.se",
            "invoiceDetails": {
                "streetName": "Storgatan", "streetNumber": "1", "postalCode": "12345", "city": "Stockholm",
            },
        },
    }  # fmt: skip


def test_an_order_committed_whose_read_back_fails_is_answered_as_accepted_not_503(
    pg_url: str, orderhub_procs: OrderhubProcesses
) -> None:
    # No worker: the API reads the order back until the budget runs out.
    server = orderhub_procs.serve(
        orderhub_procs.tmp_path / "unused.db", db_url=pg_url, extra_args=["--no-worker"],
        env={"ORDERHUB_DB_WRITE_TIMEOUT_SECONDS": "0.5", "ORDERHUB_FINAL_ANSWER_BUDGET_SECONDS": "3"},
    )  # fmt: skip
    correlation = f"after-commit-{uuid.uuid4().hex}"
    answers: list[httpx.Response] = []

    def post() -> None:
        with client(server.base_url, timeout=30) as http:
            answers.append(
                http.post(
                    "/2.5/sp_spec/order/",
                    json=_onapi_body("access-free-1"),
                    auth=("demo-co-acme", "demo-co-acme-secret"),
                    headers={"X-Correlation-ID": correlation},
                )
            )

    engine = sa.create_engine(pg_url)
    try:
        placing = threading.Thread(target=post)
        placing.start()
        with engine.connect() as db:
            count = sa.text("SELECT count(*) FROM orders WHERE correlation_id = :c")
            wait_until(lambda: db.execute(count, {"c": correlation}).scalar() == 1, timeout=10, interval=0.01)
            db.rollback()
            # Committed; while the API reads it back, DDL holds the table past every read's lock timeout.
            with db.begin():
                db.execute(sa.text("LOCK TABLE orders IN ACCESS EXCLUSIVE MODE"))
                placing.join(timeout=20)
            assert not placing.is_alive()
            assert db.execute(count, {"c": correlation}).scalar() == 1
    finally:
        engine.dispose()
    answer = answers[0]
    assert answer.status_code == 200, answer.text
    assert answer.json()["status"] == "RECEIVED"
    assert "answered as accepted, for it cannot be read back" in server.log()
