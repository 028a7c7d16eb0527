"""`orderhub order list` on PostgreSQL, run as the operator runs it: the orders of tests/integration/
listed_orders.py, selected by what the database compares (states, APIs, times with offsets), newest
first; the whole of it runs on SQLite in tests/integration/test_order_list.py."""

from __future__ import annotations

import json
from pathlib import Path

from orderhub.bootstrap import build_services
from orderhub.settings import Settings
from tests.integration.listed_orders import CUSTOMER_EMAIL, LISTED, add_orders
from tests.integration.support import run_cli


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
