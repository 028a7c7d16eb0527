"""An operator stops selling an eSIM product with one command: it leaves every partner's catalog, and a
running server neither lists nor sells it from the next request on."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from tests.integration.support import (
    DEMO_PRODUCT_ID,
    OrderhubProcesses,
    api_headers,
    client,
    get_token,
    new_esim_body,
    run_cli,
    sqlite_url,
)

pytestmark = pytest.mark.integration

OTHER_PRODUCT = "esim-world-1gb-7d"


def test_a_withdrawn_product_is_neither_listed_nor_sold_by_a_running_server(
    tmp_path: Path, orderhub_procs: OrderhubProcesses
) -> None:
    db_path = tmp_path / "demo.db"
    server = orderhub_procs.serve(db_path)  # the demo: its resellers and manager sell both products
    token = get_token(server.base_url)

    def listed() -> list[str]:
        with client(server.base_url) as http:
            answer = http.get("/esim/v1/product", headers=api_headers(token))
        assert answer.status_code == 200, answer.text
        return sorted(product["id"] for product in answer.json())

    def order(product_id: str) -> tuple[int, dict[str, object]]:
        body = new_esim_body(f"{uuid.uuid4().hex}@example.com", product_id=product_id)
        with client(server.base_url) as http:
            answer = http.post("/esim/v1/order", json=body, headers=api_headers(token))
        return answer.status_code, answer.json()

    before = listed()
    assert DEMO_PRODUCT_ID in before and OTHER_PRODUCT in before and order(DEMO_PRODUCT_ID)[0] == 201

    def cli(*args: str) -> tuple[int, str, str]:
        done = run_cli(*args, "--db", sqlite_url(db_path), cwd=tmp_path)
        return done.returncode, done.stdout.strip(), done.stderr.strip()

    withdrawn = cli("product", "withdraw", DEMO_PRODUCT_ID)
    partners = "demo-account-manager, demo-reseller-1, demo-reseller-2"
    assert withdrawn == (0, f"{DEMO_PRODUCT_ID} withdrawn from the catalogs of: {partners}", "")

    # The very next requests of the running server, on a token issued before.
    after = listed()
    assert DEMO_PRODUCT_ID not in after and OTHER_PRODUCT in after, after
    status, refused = order(DEMO_PRODUCT_ID)
    assert (status, refused) == (
        422,
        {"type": "PRODUCT_NOT_FOUND", "messages": [f"product {DEMO_PRODUCT_ID} is not in your product catalog"]},
    )
    assert order(OTHER_PRODUCT)[0] == 201

    assert cli("product", "withdraw", DEMO_PRODUCT_ID) == (
        0,
        f"{DEMO_PRODUCT_ID} is in no partner's catalog: nothing to withdraw",
        "",
    )
    code, _, error = cli("product", "withdraw", "no-such-product")
    assert (code, error) == (1, "error: unknown products: no-such-product")
