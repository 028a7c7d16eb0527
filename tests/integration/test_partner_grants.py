"""What an operator takes from a partner reaches the orders it has scheduled: through the real ``orderhub``
command and a real server, an order accepted for later fails when due if its partner may no longer
order it (`partner set-offerings`, `partner set-business-units`), and says why in `order show`; the same
partner's orders it may still place run."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.integration.support import OrderhubProcesses, client, db_rows, get_token, sqlite_url, wait_until
from tests.integration.test_cli_setup import (
    LINE,
    SPARE_LINE,
    UNIT,
    access_order,
    cli_on,
    ok,
    set_up_lines,
    set_up_network,
)

pytestmark = pytest.mark.integration

TMF622 = "/tmf-api/productOrderingManagement/v4/productOrder"
# Long enough for the orders to be placed and the operator's commands to run before they are due.
SCHEDULED_IN = timedelta(seconds=10)


def line_order_for_later(base_url: str, token: str, offering: str, plan_type: str, msisdn: str, at: str) -> str:
    """A TMF622 order for ``at``, pending until then; its number."""
    body = {
        "requestedStartDate": at,
        "productOrderItem": [{"id": "1", "action": "add", "productOffering": {"id": offering}, "product": {
            "productCharacteristic": [{"name": "MSISDN", "value": msisdn}, {"name": "planType", "value": plan_type}],
        }}],
    }  # fmt: skip
    with client(base_url) as http:
        answer = http.post(TMF622, json=body, headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 201 and answer.json()["state"] == "pending", answer.text
    return str(answer.json()["id"])


def line_order_state(base_url: str, token: str, order_id: str) -> str:
    with client(base_url) as http:
        answer = http.get(f"{TMF622}/{order_id}", headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 200, answer.text
    return str(answer.json()["state"])


def order_on_access(db_path: Path, access: str) -> str:
    ((order_id,),) = db_rows(db_path, f"SELECT id FROM orders WHERE subject_ref = "
                                      f"(SELECT id FROM accesses WHERE ref = '{access}')")  # fmt: skip
    return str(order_id)


def test_a_scheduled_order_fails_when_due_if_its_partner_may_no_longer_order_it(
    tmp_path: Path, orderhub_procs: OrderhubProcesses
) -> None:
    db_path = tmp_path / "grants.db"
    cli = cli_on(sqlite_url(db_path), tmp_path)
    ok(cli("migrate"))
    shop = set_up_lines(cli)  # shop-gt, a channel for GT
    ok(cli("partner", "create", "shop-gt-2", "--name", "Shop GT 2", "--role", "BUSINESS_CHANNEL", "--currency", "USD",
           "--business-unit", UNIT))  # fmt: skip
    other_shop = json.loads(ok(cli("credential", "issue", "shop-gt-2", "--json")))
    ok(cli("business-unit", "add", "CR", "--name", "Costa Rica", "--timezone", "America/Costa_Rica",
           "--msisdn-pattern", "[0-9]{8}"))  # fmt: skip
    nordnet = set_up_network(cli)  # nordnet, a CO that may order broadband/500-500
    ok(cli("access", "add-offering", "broadband", "1000-1000", "--name", "1000/1000 Mbit/s"))
    ok(cli("partner", "set-offerings", "nordnet", "--offering", "broadband/500-500",
           "--offering", "broadband/1000-1000"))  # fmt: skip
    server = orderhub_procs.serve(db_path, demo=False, env={"ORDERHUB_WORKER_POLL_SECONDS": "0.2"})
    shop_token = get_token(server.base_url, shop["client_id"], shop["client_secret"])
    other_token = get_token(server.base_url, other_shop["client_id"], other_shop["client_secret"])

    due = (datetime.now(UTC) + SCHEDULED_IN).strftime("%Y-%m-%dT%H:%M:%SZ")
    dropped = access_order(server.base_url, nordnet, "access-4711", "500-500", due)
    kept = access_order(server.base_url, nordnet, "access-4712", "1000-1000", due)
    assert [dropped.json()["status"], kept.json()["status"]] == ["RECEIVED", "RECEIVED"], (dropped.text, kept.text)
    moved_shops_order = line_order_for_later(server.base_url, shop_token, "GT-DATA-5GB", "DataPlan", LINE, due)
    other_shops_order = line_order_for_later(server.base_url, other_token, "GT-PLAN-30D", "Plan", SPARE_LINE, due)

    # Before they are due, the operator takes 500-500 from nordnet (still sold: 1000-1000 stays allowed to
    # it) and moves shop-gt from GT to CR (shop-gt-2 stays on GT).
    ok(cli("partner", "set-offerings", "nordnet", "--offering", "broadband/1000-1000"))
    ok(cli("partner", "set-business-units", "shop-gt", "--business-unit", "CR"))
    assert datetime.now(UTC) < datetime.fromisoformat(due), "the commands took longer than SCHEDULED_IN"

    def answer_when_settled(order: Any) -> dict[str, str] | None:
        status = access_order(server.base_url, nordnet, *order).json()
        return None if status["status"] == "RECEIVED" else dict(status)

    # The CO (its customers read Swedish): the order for what it may no longer order is rejected when due,
    # whole; the other is activated.
    assert wait_until(lambda: answer_when_settled(("access-4711", "500-500", due)), timeout=40,
                      message="the order on access-4711 to settle") == {
        "status": "REJECTED", "message": "Tjänsten kunde inte aktiveras. Kontakta kundtjänst."
    }  # fmt: skip
    assert wait_until(lambda: answer_when_settled(("access-4712", "1000-1000", due)), timeout=20,
                      message="the order on access-4712 to settle") == {
        "status": "ACTIVATED", "message": "Tjänsten är aktiverad."
    }  # fmt: skip
    shown = json.loads(ok(cli("order", "show", order_on_access(db_path, "access-4711"), "--json")))
    assert (shown["state"], shown["failure"]) == ("failed", "item 1: offering broadband/500-500 is no longer "
                                                            "allowed to nordnet"), shown  # fmt: skip
    assert "broadband" not in ok(cli("access", "show", "access-4711"))
    assert "broadband" in ok(cli("access", "show", "access-4712"))

    # The channels: the one moved off GT has its order there fail; the one still on GT has it completed.
    def settled(token: str, order_id: str) -> str | None:
        state = line_order_state(server.base_url, token, order_id)
        return None if state in ("pending", "acknowledged", "inProgress") else state

    assert wait_until(lambda: settled(shop_token, moved_shops_order), timeout=20, message="shop-gt's order") == "failed"
    assert wait_until(lambda: settled(other_token, other_shops_order), timeout=20, message="shop-gt-2's") == "completed"
    shown = json.loads(ok(cli("order", "show", moved_shops_order, "--json")))
    assert shown["failure"] == "shop-gt is no longer enabled for business unit GT", shown
    line = json.loads(ok(cli("line", "show", UNIT, LINE, "--json")))["products"]
    assert [p["product"] for p in line] == ["GT-PLAN-30D"], line  # no data plan was started
