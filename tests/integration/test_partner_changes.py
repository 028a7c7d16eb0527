"""What an operator changes on a partner, through the real ``orderhub`` command (and a real server where
partners order): an order accepted for later fails when due if its partner may no longer order it
(`partner set-offerings`, `partner set-business-units`), and says why in `order show`; a manager or a
coId is cleared (`partner update --no-manager`, `--no-co-id`); roles are replaced (`partner set-roles`),
refused while the partner holds what a role it would lose uses, and served from the next request on."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.integration.support import (
    OrderhubProcesses,
    api_headers,
    client,
    db_rows,
    get_token,
    sqlite_url,
    wait_until,
)
from tests.integration.test_cli_setup import (
    LINE,
    SPARE_LINE,
    UNIT,
    access_order,
    cli_on,
    fails,
    ok,
    set_up_lines,
    set_up_network,
)

pytestmark = pytest.mark.integration

TMF622 = "/tmf-api/productOrderingManagement/v4/productOrder"
# Long enough for the orders to be placed before they are due (they are then pending, not fulfilled at
# intake). No worker runs until the operator's commands have: those may take as long as they take.
SCHEDULED_IN = timedelta(seconds=8)


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
    server = orderhub_procs.serve(db_path, demo=False, extra_args=["--no-worker"])
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
    # Only now a worker: on a loaded machine the commands may have taken past the orders' time, and an
    # order the worker took before them would have been fulfilled under the old rules.
    orderhub_procs.spawn(["worker", "--db", sqlite_url(db_path)], env={"ORDERHUB_WORKER_POLL_SECONDS": "0.2"})

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


def test_a_manager_or_a_coid_is_cleared_checked_as_at_create(tmp_path: Path) -> None:
    cli = cli_on(sqlite_url(tmp_path / "partners.db"), tmp_path)
    ok(cli("migrate"))
    ok(cli("partner", "create", "am-1", "--name", "AM", "--role", "ACCOUNT_MANAGER", "--currency", "USD"))
    ok(cli("partner", "create", "acme", "--name", "Acme", "--role", "RESELLER", "--currency", "USD",
           "--manager", "am-1"))  # fmt: skip
    ok(cli("partner", "create", "nordnet", "--name", "NordNet", "--role", "COMMUNICATION_OPERATOR",
           "--currency", "SEK", "--co-id", "NordNet"))  # fmt: skip

    # What the partner becomes is checked as at create: refused, nothing changes.
    fails(cli("partner", "update", "acme", "--no-manager", "--currency", "EURO"), "not ISO 4217 currency codes: EURO")
    assert ok(cli("partner", "update", "acme", "--no-manager")).strip() == "partner acme updated: manager am-1 -> none"
    assert ok(cli("partner", "update", "acme", "--no-manager")).strip() == "partner acme unchanged"
    # A CO without a coId is what create allows (one being set up), so clearing it is not refused; the
    # operator is told that onapi-order answers it 403 until it has one again.
    cleared = cli("partner", "update", "nordnet", "--no-co-id")
    assert ok(cleared).strip() == "partner nordnet updated: co id NordNet -> none"
    assert "warning: onapi-order answers nordnet 403 until it has a co id" in cleared.stderr, cleared.stderr
    # The coId is free for another partner (it was "belongs to another partner").
    ok(cli("partner", "create", "nordnet-ab", "--name", "NordNet AB", "--role", "COMMUNICATION_OPERATOR",
           "--currency", "SEK", "--co-id", "NordNet"))  # fmt: skip
    listing = ok(cli("partner", "list")).splitlines()
    acme = next(line for line in listing if " acme " in line)
    assert " am-1 " not in acme, acme

    fails(cli("partner", "update", "acme", "--manager", "am-1", "--no-manager"),
          "give --manager or --no-manager, not both")  # fmt: skip
    fails(cli("partner", "update", "nordnet", "--co-id", "Nord", "--no-co-id"),
          "give --co-id or --no-co-id, not both")  # fmt: skip
    fails(cli("partner", "update", "acme"), "nothing to update: give --name, --currency, --language, --co-id or "
                                            "--manager (or --no-co-id, --no-manager)")  # fmt: skip


def test_roles_are_replaced_only_once_nothing_the_partner_holds_needs_a_role_it_loses(tmp_path: Path) -> None:
    cli = cli_on(sqlite_url(tmp_path / "roles.db"), tmp_path)
    ok(cli("migrate"))
    ok(cli("business-unit", "add", UNIT, "--name", "Guatemala", "--timezone", "America/Guatemala",
           "--msisdn-pattern", "[0-9]{8}"))  # fmt: skip
    ok(cli("access", "add-product", "broadband", "--name", "Broadband"))
    ok(cli("access", "add-offering", "broadband", "500-500", "--name", "500/500 Mbit/s"))
    ok(cli("partner", "create", "am-1", "--name", "AM", "--role", "ACCOUNT_MANAGER", "--currency", "USD"))
    ok(cli("partner", "create", "acme", "--name", "Acme", "--role", "RESELLER", "--currency", "USD",
           "--manager", "am-1"))  # fmt: skip
    ok(cli("partner", "create", "shop-gt", "--name", "Shop", "--role", "BUSINESS_CHANNEL", "--currency", "USD",
           "--business-unit", UNIT))  # fmt: skip
    ok(cli("partner", "create", "nordnet", "--name", "NordNet", "--role", "COMMUNICATION_OPERATOR",
           "--currency", "SEK", "--co-id", "NordNet"))  # fmt: skip
    ok(cli("partner", "set-offerings", "nordnet", "--offering", "broadband/500-500"))

    # Each thing held that a lost role uses is named, with the command that removes it; nothing changes.
    fails(cli("partner", "set-roles", "am-1", "--role", "RESELLER"),
          "partner am-1 manages acme, which needs the ACCOUNT_MANAGER role: give each another manager or none "
          "first (orderhub partner update acme --no-manager)")  # fmt: skip
    fails(cli("partner", "set-roles", "shop-gt", "--role", "RESELLER"),
          "partner shop-gt orders for business units GT, which needs the BUSINESS_CHANNEL role: remove them "
          "first (orderhub partner set-business-units shop-gt --none)")  # fmt: skip
    fails(cli("partner", "set-roles", "nordnet", "--role", "RESELLER"),
          "partner nordnet has co id NordNet, which needs the COMMUNICATION_OPERATOR role: clear it first "
          "(orderhub partner update nordnet --no-co-id)")  # fmt: skip
    ok(cli("partner", "update", "nordnet", "--no-co-id"))
    fails(cli("partner", "set-roles", "nordnet", "--role", "RESELLER"),
          "partner nordnet may order offerings broadband/500-500, which needs the COMMUNICATION_OPERATOR role: "
          "remove them first (orderhub partner set-offerings nordnet --none)")  # fmt: skip
    fails(cli("partner", "set-roles", "acme", "--role", "BOSS"), "unknown role; known: RESELLER, ACCOUNT_MANAGER")
    fails(cli("partner", "set-roles", "nobody", "--role", "RESELLER"), "no partner nobody")
    rows = [[cell.strip() for cell in line.split("│")] for line in ok(cli("partner", "list")).splitlines()]
    roles = {row[1]: row[2] for row in rows if len(row) > 2}
    assert roles == {"am-1": "ACCOUNT_MANAGER", "acme": "RESELLER", "shop-gt": "BUSINESS_CHANNEL",
                     "nordnet": "COMMUNICATION_OPERATOR"}, rows  # fmt: skip

    # Removed first, as named, the role goes; a list that leaves out --none or the values is refused, not
    # read as "none".
    fails(cli("partner", "set-offerings", "nordnet"), "give --offering (repeatable), or --none to remove them all")
    assert ok(cli("partner", "set-offerings", "nordnet", "--none")).strip() == "nordnet may order: nothing"
    assert ok(cli("partner", "set-roles", "nordnet", "--role", "reseller", "--role", "ACCOUNT_MANAGER")).strip() == (
        "partner nordnet roles: COMMUNICATION_OPERATOR -> ACCOUNT_MANAGER, RESELLER"
    )
    fails(cli("partner", "set-business-units", "shop-gt", "--business-unit", UNIT, "--none"),
          "give --business-unit or --none, not both")  # fmt: skip
    assert ok(cli("partner", "set-business-units", "shop-gt", "--none")).strip() == "business units of shop-gt: none"
    assert ok(cli("partner", "set-roles", "shop-gt", "--role", "RESELLER")).strip() == (
        "partner shop-gt roles: BUSINESS_CHANNEL -> RESELLER"
    )
    ok(cli("partner", "update", "acme", "--no-manager"))
    assert ok(cli("partner", "set-roles", "am-1", "--role", "RESELLER")).strip() == (
        "partner am-1 roles: ACCOUNT_MANAGER -> RESELLER"
    )
    assert ok(cli("partner", "set-roles", "am-1", "--role", "RESELLER")).strip() == "partner am-1 unchanged"
    # Made a CO, it has no coId yet: allowed, as at create, and said.
    made_co = cli("partner", "set-roles", "acme", "--role", "COMMUNICATION_OPERATOR")
    assert ok(made_co).strip() == "partner acme roles: RESELLER -> COMMUNICATION_OPERATOR"
    assert "warning: onapi-order answers acme 403 until it has a co id" in made_co.stderr, made_co.stderr


def test_a_role_change_reaches_a_token_issued_before_it_at_its_next_request(
    tmp_path: Path, orderhub_procs: OrderhubProcesses
) -> None:
    db_path = tmp_path / "tokens.db"
    cli = cli_on(sqlite_url(db_path), tmp_path)
    ok(cli("migrate"))
    ok(cli("partner", "create", "acme", "--name", "Acme", "--role", "RESELLER", "--currency", "USD"))
    acme = json.loads(ok(cli("credential", "issue", "acme", "--json")))
    server = orderhub_procs.serve(db_path, demo=False)
    token = get_token(server.base_url, acme["client_id"], acme["client_secret"])

    def answers(http: Any) -> tuple[int, int, int]:
        """esim-v1's catalog, an esim-v1 order, TMF622's orders: each status, for the token issued above."""
        esim_catalog = http.get("/esim/v1/product", headers=api_headers(token)).status_code
        esim_order = http.post("/esim/v1/order", json={}, headers=api_headers(token)).status_code
        tmf_orders = http.get(TMF622, headers=api_headers(token)).status_code
        return esim_catalog, esim_order, tmf_orders

    with client(server.base_url) as http:
        before = answers(http)  # a reseller's: esim-v1 (the order is refused as empty), not TMF622
        assert before[0] == 200 and before[1] == 400 and before[2] == 403, before
        ok(cli("partner", "set-roles", "acme", "--role", "BUSINESS_CHANNEL"))
        assert answers(http) == (403, 403, 200)  # the same token, at once: a business channel's
        ok(cli("partner", "set-roles", "acme", "--role", "RESELLER", "--role", "BUSINESS_CHANNEL"))
        assert answers(http)[::2] == (200, 200)


def test_partner_list_shows_each_partners_rate_limit(tmp_path: Path) -> None:
    cli = cli_on(sqlite_url(tmp_path / "limits.db"), tmp_path)
    ok(cli("migrate"))
    ok(cli("partner", "create", "acme", "--name", "Acme", "--role", "RESELLER", "--currency", "USD"))
    ok(cli("partner", "create", "other", "--name", "Other", "--role", "RESELLER", "--currency", "USD"))
    ok(cli("partner", "set-rate-limit", "acme", "120"))

    def limits() -> dict[str, str]:
        rows = [[cell.strip() for cell in line.split("│")] for line in ok(cli("partner", "list")).splitlines()]
        return {row[1]: row[-2] for row in rows if len(row) > 2 and row[1] != "id"}

    assert limits() == {"acme": "120/min", "other": ""}
    ok(cli("partner", "set-rate-limit", "acme"))  # no value: no limit
    assert limits() == {"acme": "", "other": ""}
