"""The operator's CLI setup of line and network orders on a fresh PostgreSQL database (no demo data), then
orders through a real server: the same flow as tests/integration/test_cli_setup.py, on PostgreSQL."""

from __future__ import annotations

from pathlib import Path

from tests.databases import database_url
from tests.integration.support import OrderhubProcesses
from tests.integration.test_cli_setup import (
    check_access_orders,
    check_line_orders,
    cli_on,
    ok,
    set_up_lines,
    set_up_network,
)


def test_line_and_network_orders_on_a_postgres_database_set_up_only_through_the_cli(
    tmp_path: Path, orderhub_procs: OrderhubProcesses
) -> None:
    url = database_url(tmp_path / "fresh.db")  # an empty database of its own
    cli = cli_on(url, tmp_path)
    ok(cli("migrate"))
    channel = set_up_lines(cli)
    operator = set_up_network(cli)
    server = orderhub_procs.serve(tmp_path, demo=False, db_url=url)
    check_line_orders(cli, server.base_url, channel)
    check_access_orders(cli, server.base_url, operator)
