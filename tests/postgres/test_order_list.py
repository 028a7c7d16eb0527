"""`orderhub order list` on PostgreSQL, run as the operator runs it: the orders of tests/integration/
listed_orders.py, selected by what the database compares (states, APIs, times with offsets), newest
first, and those of correlated_orders.py, placed through a server, by their requests' correlation ids;
the whole of it runs on SQLite in tests/integration/test_order_list.py."""

from __future__ import annotations

import json
from pathlib import Path

from orderhub.bootstrap import build_services
from orderhub.settings import Settings
from tests.integration.correlated_orders import SHARED, VENDOR_ID, place_correlated_orders
from tests.integration.listed_orders import CUSTOMER_EMAIL, LISTED, add_orders
from tests.integration.support import OrderhubProcesses, run_cli


def test_the_command_lists_and_selects_the_orders_on_postgresql(pg_url: str, tmp_path: Path) -> None:
    services = build_services(Settings(database_url=pg_url))
    try:
        add_orders(services)
    finally:
        services.close()

    def listed(*options: str) -> tuple[list[str], int]:
        result = run_cli("order", "list", *options, "--json", "--db", pg_url, cwd=tmp_path)
        assert result.returncode == 0, result.stderr
        listing = json.loads(result.stdout)
        assert CUSTOMER_EMAIL not in result.stdout
        return [order["id"] for order in listing["orders"]], listing["total"]

    assert listed() == (LISTED, 5)
    assert listed("--limit", "2") == (LISTED[:2], 5)
    assert listed("--open") == (["access-open", "line-scheduled"], 2)
    assert listed("--state", "failed", "--api", "tmf622") == (["line-failed"], 1)
    assert listed("--since", "2026-03-02T09:30:00Z", "--until", "2026-03-03T07:00+06:00") == (
        ["line-failed", "line-scheduled"], 2
    )  # fmt: skip
    assert listed("--partner", "travel", "--until", "2026-03-02") == (["esim-failed", "esim-done"], 2)
    table = run_cli("order", "list", "--partner", "shop", "--db", pg_url, cwd=tmp_path)
    assert table.returncode == 0, table.stderr
    assert " line GT 50210001 " in table.stdout and table.stdout.splitlines()[-1] == "2 orders match, all shown"


def test_a_correlation_id_selects_its_requests_orders_on_postgresql(
    pg_url: str, tmp_path: Path, orderhub_procs: OrderhubProcesses
) -> None:
    placed = place_correlated_orders(orderhub_procs.serve(tmp_path / "unused.db", demo=False, db_url=pg_url))

    def listed(*options: str) -> list[tuple[str, str]]:
        result = run_cli("order", "list", *options, "--json", "--db", pg_url, cwd=tmp_path)
        assert result.returncode == 0, result.stderr
        return [(order["dialect"], order["reference"] or order["id"]) for order in json.loads(result.stdout)["orders"]]

    shared = listed("--correlation-id", SHARED)
    assert [dialect for dialect, _ in shared] == ["onapi-order", "esim-v1"] and shared[1][1] == placed.esim
    assert listed("--correlation-id", VENDOR_ID) == [("tmf-productorder", placed.vendor)]
    assert [dialect for dialect, _ in listed("--correlation-id", placed.generated)] == ["onapi-order"]
    assert listed("--correlation-id", SHARED, "--api", "esim-v1", "--partner", "demo-reseller-1") == shared[1:]
    assert listed("--correlation-id", SHARED.upper()) == listed("--correlation-id", SHARED[:-1]) == []
    refused = run_cli("order", "list", "--correlation-id", "x" * 201, "--db", pg_url, cwd=tmp_path)
    assert (refused.returncode, refused.stdout, refused.stderr) == (
        1, "", "error: --correlation-id is 201 characters long: an X-Correlation-ID has at most 200\n"
    )  # fmt: skip
