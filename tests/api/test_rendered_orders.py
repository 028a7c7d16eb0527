"""GET /esim/v1/order/{id} keeps what it rendered per order version (services.rendered_orders): a
change made by any process shows at the next read, never a stale copy."""

from __future__ import annotations

from pathlib import Path

from orderhub.bootstrap import build_services
from orderhub.settings import Settings
from tests.api.support import get_token, new_esim_body, running_server
from tests.databases import database_url


def test_a_change_made_by_another_process_shows_at_the_next_read(tmp_path: Path) -> None:
    db_path = tmp_path / "orderhub.db"
    # Orders wait for a worker; the only worker is "another process" on the same database file.
    with running_server(db_path, run_worker=False, fulfil_inline=False) as server, server.client() as http:
        token = get_token(http, "demo-reseller-1", "demo-reseller-1-secret")
        headers = {"Authorization": f"Bearer {token}", "X-Correlation-ID": "rendered-orders"}
        placed = http.post("/esim/v1/order", json=new_esim_body("rendered@example.com"), headers=headers)
        assert placed.status_code == 201, placed.text
        order_id = placed.json()["id"]
        for _ in range(3):  # read (and rendered) while it waits
            waiting = http.get(f"/esim/v1/order/{order_id}", headers=headers)
            assert waiting.status_code == 200
            assert waiting.json()["status"] == "FULFILLING"
            assert "output" not in waiting.json()

        other = build_services(Settings(database_url=database_url(db_path)))
        try:
            assert other.fulfilment.run_due("another-process") == 1
        finally:
            other.close()

        done = http.get(f"/esim/v1/order/{order_id}", headers=headers)
        assert done.status_code == 200
        assert done.json()["status"] == "COMPLETED"
        assert done.json()["output"]["iccid"]
        assert [step["status"] for step in done.json()["history"]] == ["accepted", "in_progress", "completed"]


def test_an_order_of_another_partner_is_not_found_even_once_rendered(tmp_path: Path) -> None:
    with running_server(tmp_path / "orderhub.db") as server, server.client() as http:
        own = {"Authorization": f"Bearer {get_token(http, 'demo-reseller-1', 'demo-reseller-1-secret')}"}
        other = {"Authorization": f"Bearer {get_token(http, 'demo-reseller-2', 'demo-reseller-2-secret')}"}
        for headers in (own, other):
            headers["X-Correlation-ID"] = "rendered-orders"
        placed = http.post("/esim/v1/order", json=new_esim_body("isolated@example.com"), headers=own)
        order_id = placed.json()["id"]
        assert http.get(f"/esim/v1/order/{order_id}", headers=own).status_code == 200
        refused = http.get(f"/esim/v1/order/{order_id}", headers=other)
        assert refused.status_code == 404
        assert refused.json()["type"] == "ORDER_NOT_FOUND"


def test_a_credential_revoked_by_another_process_stops_the_next_poll(tmp_path: Path) -> None:
    """A poll checks the caller's cached token against the config version read with the order's
    version: a revocation from the CLI of another process applies at once, for known and unknown ids."""
    db_path = tmp_path / "orderhub.db"
    with running_server(db_path) as server, server.client() as http:
        token = get_token(http, "demo-reseller-1", "demo-reseller-1-secret")
        headers = {"Authorization": f"Bearer {token}", "X-Correlation-ID": "rendered-orders"}
        order_id = http.post("/esim/v1/order", json=new_esim_body("revoked@example.com"), headers=headers).json()["id"]
        for _ in range(2):  # the token and the rendered copy are both cached now
            assert http.get(f"/esim/v1/order/{order_id}", headers=headers).status_code == 200

        other = build_services(Settings(database_url=database_url(db_path)))
        try:
            assert other.partners.revoke_credential("demo-reseller-1")
        finally:
            other.close()

        for path in (f"/esim/v1/order/{order_id}", "/esim/v1/order/no-such-order"):
            refused = http.get(path, headers=headers)
            assert refused.status_code == 401, refused.text
            assert refused.json()["type"] == "UNAUTHORISED"
