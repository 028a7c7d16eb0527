"""An operator sets up line orders (tmf-productorder) and network orders (onapi-order) on a fresh database,
without demo data, through the real ``orderhub`` command; partners then order through a real server.
Changes made while the server runs reach its next request."""

from __future__ import annotations

import json
import subprocess
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.integration.support import OrderhubProcesses, client, db_rows, run_cli, sqlite_url

pytestmark = pytest.mark.integration

Cli = Callable[..., subprocess.CompletedProcess[str]]
UNIT, LINE, SPARE_LINE = "GT", "50210001", "50210002"
PAST = "2026-01-01T00:00:00Z"


def ok(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 0, f"exit {result.returncode}\nstdout:\n{result.stdout}\nstderr:\n{result.stderr}"
    return result.stdout


def fails(result: subprocess.CompletedProcess[str], message: str) -> None:
    """Exit code 1 and one line on stderr that says ``message``."""
    assert result.returncode == 1, f"exit {result.returncode}\nstdout:\n{result.stdout}\nstderr:\n{result.stderr}"
    assert result.stderr.count("\n") == 1 and message in result.stderr, result.stderr


def cli_on(url: str, cwd: Path) -> Cli:
    return lambda *args: run_cli(*args, "--db", url, cwd=cwd)


def set_up_lines(cli: Cli) -> dict[str, str]:
    """The README's line setup: a business unit, its products and offerings, lines, a channel. Its credential."""
    ok(cli("business-unit", "add", UNIT, "--name", "Guatemala", "--timezone", "America/Guatemala",
           "--msisdn-pattern", "[0-9]{8}"))  # fmt: skip
    ok(cli("line", "add-product", "GT-PLAN-30D", "--name", "Prepaid plan, 30 days", "--price", "USD=10"))
    ok(cli("line", "add-product", "GT-DATA-5GB", "--name", "5 GB of data", "--price", "USD=5"))
    added = ok(cli("business-unit", "add-offering", UNIT, "GT-PLAN-30D", "--plan-type", "Plan",
                   "--validity-days", "30"))  # fmt: skip
    assert added.strip() == "offering GT-PLAN-30D as Plan in GT added (30 days)"
    ok(cli("business-unit", "add-offering", UNIT, "GT-DATA-5GB", "--plan-type", "DataPlan", "--validity-days", "7"))
    ok(cli("line", "add", UNIT, LINE, "--plan", "GT-PLAN-30D"))
    ok(cli("line", "add", UNIT, SPARE_LINE))
    ok(cli("partner", "create", "shop-gt", "--name", "Shop GT", "--role", "BUSINESS_CHANNEL", "--currency", "USD",
           "--business-unit", UNIT))  # fmt: skip
    return dict(json.loads(ok(cli("credential", "issue", "shop-gt", "--json"))))


def set_up_network(cli: Cli) -> dict[str, str]:
    """The README's network setup: a product, an offering, an access, a CO allowed to order it. Its credential."""
    ok(cli("access", "add-product", "broadband", "--name", "Broadband", "--price", "SEK=399"))
    ok(cli("access", "add-offering", "broadband", "500-500", "--name", "500/500 Mbit/s"))
    ok(cli("access", "add", "access-4711"))
    ok(cli("access", "add", "access-4712"))
    ok(cli("partner", "create", "nordnet", "--name", "NordNet", "--role", "COMMUNICATION_OPERATOR", "--currency",
           "SEK", "--co-id", "NordNet", "--language", "sv", "--rate-limit", "600"))  # fmt: skip
    ok(cli("partner", "set-offerings", "nordnet", "--offering", "broadband/500-500"))
    return dict(json.loads(ok(cli("credential", "issue", "nordnet", "--json"))))


def post_line_order(
    base_url: str, channel: dict[str, str], offering: str, plan_type: str, msisdn: str = LINE, unit: str = UNIT
) -> httpx.Response:
    body = {"category": "esimPrepaid", "productOrderItem": [{"product": {
        "productOffering": {"id": offering},
        "productCharacteristic": [{"name": "MSISDN", "value": msisdn}, {"name": "planType", "value": plan_type}],
    }}]}  # fmt: skip
    headers = {"client_id": channel["client_id"], "client_secret": channel["client_secret"],
               "X-Correlation-ID": str(uuid.uuid4())}  # fmt: skip
    with client(base_url) as http:
        return http.post(f"/emida-ux-lcr/emida-ux/v1/{unit}/productOrder", json=body, headers=headers)


def line_order(base_url: str, channel: dict[str, str], offering: str, plan_type: str, msisdn: str = LINE) -> Any:
    answer = post_line_order(base_url, channel, offering, plan_type, msisdn)
    assert answer.status_code == 201, answer.text
    return answer.json()


ANNA = {"identifiedCustomer": False, "customerFirstname": "Anna", "customerLastName": "Berg"}
# Kept by her identity number alone: orderhub keeps no e-mail for an identified customer.
IDENTIFIED_ANNA = {**ANNA, "identifiedCustomer": True, "personalIdentityNumber": "19121212-1212",
                   "customerEmail": "anna.berg@example.se", "customerPhone": "+46701234567"}  # fmt: skip


def access_order(
    base_url: str, operator: dict[str, str], access: str, offering: str, when: str, customer: Any = None
) -> httpx.Response:
    body = {
        "coId": "NordNet", "coAccessId": access, "operation": "ACTIVATE", "orderDateTime": PAST,
        "requestedDateTime": when, "products": [{"productId": "broadband", "offeringId": offering}],
        "customerDetails": customer or ANNA,
    }  # fmt: skip
    with client(base_url) as http:
        return http.post("/2.5/sp_spec/order/", json=body, auth=(operator["client_id"], operator["client_secret"]))


def check_line_orders(cli: Cli, base_url: str, channel: dict[str, str]) -> str:
    """Orders on the line, as the set-up and its changes allow them. The first order's number."""
    placed = line_order(base_url, channel, "GT-DATA-5GB", "DataPlan")
    first = str(placed["id"])
    assert placed["state"] == "completed", placed
    assert placed["orderDate"].endswith("-06:00"), placed  # Guatemala's local time

    # While the server runs: the unit's time zone changes (servers keep units by the config version)...
    ok(cli("business-unit", "update", UNIT, "--timezone", "Asia/Tokyo"))
    placed = line_order(base_url, channel, "GT-DATA-5GB", "DataPlan")
    assert placed["state"] == "completed" and placed["orderDate"].endswith("+09:00"), placed
    # ... and the unit starts selling an add-on, which the very next order may take.
    ok(cli("business-unit", "add-offering", UNIT, "GT-DATA-5GB", "--plan-type", "Addon", "--validity-days", "30"))
    placed = line_order(base_url, channel, "GT-DATA-5GB", "Addon")
    assert placed["state"] == "completed", placed
    # ... and the data plan's validity is corrected (it was refused as sold so already): the next order
    # runs for the new one, the data plans started before keep theirs.
    corrected = ok(cli("business-unit", "add-offering", UNIT, "GT-DATA-5GB", "--plan-type", "dataplan",
                       "--validity-days", "14"))  # fmt: skip
    assert corrected.strip() == "offering GT-DATA-5GB as DataPlan in GT updated: validity 7 days -> 14 days"
    assert line_order(base_url, channel, "GT-DATA-5GB", "DataPlan")["state"] == "completed"
    products = json.loads(ok(cli("line", "show", UNIT, LINE, "--json")))["products"]
    data_plans = [p for p in products if (p["product"], p["planType"]) == ("GT-DATA-5GB", "DataPlan")]
    runs = [datetime.fromisoformat(p["endDate"]) - datetime.fromisoformat(p["startDate"]) for p in data_plans]
    assert runs == [timedelta(days=7), timedelta(days=7), timedelta(days=14)], data_plans
    # The add-on is withdrawn (there was no command for it): the next order for it is refused as for an
    # offering never sold; the data plan stays sold. Removed again, nothing is removed, and it says so.
    removed = ok(cli("business-unit", "remove-offering", UNIT, "GT-DATA-5GB", "--plan-type", "Addon"))
    assert removed.strip() == "offering GT-DATA-5GB as Addon in GT removed (still sold as DataPlan)"
    refused = post_line_order(base_url, channel, "GT-DATA-5GB", "Addon")
    assert (refused.status_code, refused.json()["code"]) == (422, "OFFERING_NOT_AVAILABLE"), refused.text
    again = ok(cli("business-unit", "remove-offering", UNIT, "GT-DATA-5GB", "--plan-type", "addon"))
    assert again.strip() == "offering GT-DATA-5GB as Addon in GT is not sold: nothing removed (it is sold as DataPlan)"
    return first


def check_business_unit_change(cli: Cli, base_url: str, channel: dict[str, str]) -> None:
    """While the server runs, the channel is moved from GT to a new unit: its next orders follow."""
    ok(cli("business-unit", "add", "CR", "--name", "Costa Rica", "--timezone", "America/Costa_Rica",
           "--msisdn-pattern", "[0-9]{8}"))  # fmt: skip
    ok(cli("business-unit", "add-offering", "CR", "GT-PLAN-30D", "--plan-type", "Plan", "--validity-days", "30"))
    ok(cli("line", "add", "CR", "69870001"))
    costa_rica = post_line_order(base_url, channel, "GT-PLAN-30D", "Plan", "69870001", unit="CR")
    assert costa_rica.status_code == 403, costa_rica.text

    assert ok(cli("partner", "set-business-units", "shop-gt", "--business-unit", "CR")).strip() == (
        "business units of shop-gt: CR"
    )
    costa_rica = post_line_order(base_url, channel, "GT-PLAN-30D", "Plan", "69870001", unit="CR")
    assert (costa_rica.status_code, costa_rica.json()["state"]) == (201, "completed"), costa_rica.text
    guatemala = post_line_order(base_url, channel, "GT-DATA-5GB", "DataPlan")  # GT was replaced, not kept
    assert guatemala.status_code == 403, guatemala.text


def check_access_orders(cli: Cli, base_url: str, operator: dict[str, str]) -> None:
    now = access_order(base_url, operator, "access-4711", "500-500", PAST, customer=IDENTIFIED_ANNA)
    assert (now.status_code, now.json()["status"]) == (200, "ACTIVATED"), now.text
    later = (datetime.now(UTC) + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    planned = access_order(base_url, operator, "access-4712", "500-500", later)
    assert (planned.status_code, planned.json()["status"]) == (200, "RECEIVED"), planned.text

    # While the server runs: a new offering, opened to the CO, is orderable at once.
    refused = access_order(base_url, operator, "access-4712", "1000-1000", PAST)
    assert refused.json()["status"] == "REJECTED", refused.text
    ok(cli("access", "add-offering", "broadband", "1000-1000", "--name", "1000/1000 Mbit/s"))
    ok(cli("partner", "set-offerings", "nordnet", "--offering", "broadband/500-500",
           "--offering", "broadband/1000-1000"))  # fmt: skip
    # A mistyped offering is named (it said "unknown offering"), and what the CO may order stays as it was.
    fails(cli("partner", "set-offerings", "nordnet", "--offering", "broadband/1000-1000",
              "--offering", "broadband/1000", "--offering", "tv/basic"),
          "unknown offerings: broadband/1000, tv/basic")  # fmt: skip
    ok(cli("access", "add", "access-4713"))
    upgraded = access_order(base_url, operator, "access-4713", "1000-1000", PAST)
    assert upgraded.json()["status"] == "ACTIVATED", upgraded.text
    assert "broadband" in ok(cli("access", "show", "access-4713"))

    # An offering added again is renamed in place (it was refused as existing), and COs list the new name.
    renamed = ok(cli("access", "add-offering", "broadband", "500-500", "--name", "500/500 Mbit/s, symmetric"))
    assert renamed.strip() == "offering broadband/500-500 updated: name '500/500 Mbit/s' -> '500/500 Mbit/s, symmetric'"
    with client(base_url) as http:
        listed = http.get("/2.5/sp_spec/products/", auth=(operator["client_id"], operator["client_secret"]))
    assert {o["offeringId"]: o["name"] for o in listed.json()[0]["offerings"]} == {
        "500-500": "500/500 Mbit/s, symmetric", "1000-1000": "1000/1000 Mbit/s"
    }, listed.text  # fmt: skip

    # The CO is renamed and its customers now read English (it was created with sv): from its next request.
    updated = ok(cli("partner", "update", "nordnet", "--name", "NordNet AB", "--language", "en"))
    assert updated.strip() == "partner nordnet updated: name 'NordNet' -> 'NordNet AB'; language sv -> en"
    # The 500/500 offering is withdrawn: no CO may order it any longer, the order received for it tomorrow
    # is named (it fails when due), and a new order is refused as for an unknown offering.
    withdrawn = cli("access", "remove-offering", "broadband", "500-500")
    assert ok(withdrawn).strip() == "offering broadband/500-500 removed; no longer allowed to nordnet"
    assert "orders accepted for it and not fulfilled yet fail it when provisioned (1): " in withdrawn.stderr
    refused = access_order(base_url, operator, "access-4713", "500-500", PAST)
    assert refused.json() == {"status": "REJECTED", "message": "The selected service is not available at this address."}


def test_line_and_network_orders_work_on_a_database_set_up_only_through_the_cli(
    tmp_path: Path, orderhub_procs: OrderhubProcesses
) -> None:
    db_path = tmp_path / "fresh.db"
    cli = cli_on(sqlite_url(db_path), tmp_path)
    ok(cli("migrate"))
    channel = set_up_lines(cli)
    operator = set_up_network(cli)
    units = json.loads(ok(cli("business-unit", "list", "--json")))
    assert units == [{"id": UNIT, "name": "Guatemala", "timezone": "America/Guatemala", "msisdnPattern": "[0-9]{8}",
                      "msisdnHint": "8 digits", "offerings": 2}]  # fmt: skip
    offerings = json.loads(ok(cli("business-unit", "offerings", UNIT, "--json")))["offerings"]
    assert {(o["product"], o["planType"], o["validityDays"]) for o in offerings} == {
        ("GT-PLAN-30D", "Plan", 30), ("GT-DATA-5GB", "DataPlan", 7)
    }  # fmt: skip
    assert json.loads(ok(cli("access", "offerings", "--json"))) == [
        {"product": "broadband", "productName": "Broadband", "offering": "500-500", "name": "500/500 Mbit/s"}
    ]

    server = orderhub_procs.serve(db_path, demo=False)
    line_order_number = check_line_orders(cli, server.base_url, channel)
    check_business_unit_change(cli, server.base_url, channel)
    check_access_orders(cli, server.base_url, operator)

    # partner list shows what each partner orders for (business units) and may order (offerings), one
    # line a partner off a terminal; before, neither.
    listing = ok(cli("partner", "list")).splitlines()
    header, shop, nordnet = (next(line for line in listing if word in line) for word in ("roles", "shop-gt", "nordnet"))
    assert "business units" in header and "offerings" in header, header
    assert " CR " in shop and channel["client_id"] in shop, shop
    # (500-500 was withdrawn, and its grant with it.)
    assert " broadband/1000-1000 " in nordnet and operator["client_id"] in nordnet, nordnet

    # order show names what an order acts on as the other commands take it, not by an internal id...
    shown = json.loads(ok(cli("order", "show", line_order_number, "--json")))
    assert (shown["subject"], shown["customer"]) == (f"line {UNIT} {LINE}", None), shown
    ((access_order_id,),) = db_rows(db_path, "SELECT id FROM orders WHERE subject_ref = "
                                              "(SELECT id FROM accesses WHERE ref = 'access-4711')")  # fmt: skip
    shown = json.loads(ok(cli("order", "show", str(access_order_id), "--json")))
    assert shown["subject"] == "access access-4711", shown
    # ... and the customer as kept (no e-mail: she is known by her number), with the e-mail and phone her
    # order carried, masked as the customer line masks the record's.
    assert shown["customer"] | {"id": None} == {
        "id": None, "name": "Anna Berg", "email": None, "identity": "personalIdentityNumber **********12"
    }  # fmt: skip
    assert shown["request"]["customerDetails"] == {
        **IDENTIFIED_ANNA, "personalIdentityNumber": "***********12", "customerEmail": "a***@example.se",
        "customerPhone": "**********67",
    }  # fmt: skip


def test_setup_mistakes_are_named_in_one_line(tmp_path: Path) -> None:
    # The rules and their messages are the admin services' (tests/integration/test_setup_rules.py); here,
    # that the commands say them in one line and exit 1.
    cli = cli_on(sqlite_url(tmp_path / "fresh.db"), tmp_path)
    ok(cli("migrate"))  # commands other than migrate, serve, worker and demo-data create no database
    fails(cli("line", "add", "CR", "69870001"), "business unit CR not found (orderhub business-unit add)")
    fails(cli("business-unit", "add", "CR", "--name", "Costa Rica", "--timezone", "America/Costa Rica",
              "--msisdn-pattern", "[0-9]{8"), "timezone 'America/Costa Rica' is not an IANA time zone")  # fmt: skip
    fails(cli("access", "add-offering", "fiber-internet", "500-500", "--name", "500/500 Mbit/s"),
          "no product fiber-internet: create it first (orderhub access add-product fiber-internet")  # fmt: skip
    fails(cli("partner", "set-business-units", "shop-gt", "--business-unit", "CR"), "no partner shop-gt")
    fails(cli("partner", "update", "shop-gt"), "nothing to update: give --name, --currency, --language, --co-id or")
    # Parsed by the command itself: the plan type (in any case, as the API reads it).
    fails(cli("business-unit", "add-offering", "CR", "OFFER-DP-001", "--plan-type", "Bundle"),
          "plan type 'Bundle' must be Plan, DataPlan or Addon")  # fmt: skip
    # A price as `product import` and esim-v1 read one: no exponent, no NaN, no digit separators.
    for amount in ("1e3", "NaN", "1_000", "ten"):
        fails(cli("line", "add-product", "GT-PLAN-1", "--name", "Plan", "--price", f"USD={amount}"),
              f"--price 'USD={amount}': expected CUR=AMOUNT, e.g. USD=10 or EUR=9.50")  # fmt: skip
    # A currency twice (in any case): which price was meant is not guessed, nor the product written.
    for group in ("line", "access"):
        fails(cli(group, "add-product", "TWICE-1", "--name", "Twice", "--price", "usd=10", "--price", "USD=12"),
              "--price: USD given more than once")  # fmt: skip
    assert db_rows(tmp_path / "fresh.db", "SELECT id FROM products WHERE id = 'TWICE-1'") == []
