"""`orderhub product import` as an operator runs it: what it refuses and how it says so (one line a bad
record, exit code 2, nothing of that record written), and a large file beside a serving server."""

from __future__ import annotations

import threading
import uuid
from collections import Counter
from pathlib import Path

import pytest

from tests.integration.support import (
    OrderhubProcesses,
    api_headers,
    client,
    db_rows,
    get_token,
    new_esim_body,
)
from tests.integration.test_cli import cli, ok, product, reported, write_csv, write_products_json

pytestmark = pytest.mark.integration


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "import.db"


def test_an_import_refuses_the_id_of_a_line_offering_or_network_product_and_leaves_it_as_it_was(
    tmp_path: Path, db_path: Path
) -> None:
    ok(cli(tmp_path, db_path, "demo-data"))
    before = db_rows(db_path, "SELECT id, kind, name FROM products WHERE id IN ('OFFER-DP-001', 'fiber-internet')")
    catalog = write_products_json(
        tmp_path / "clash.json",
        [
            product("OFFER-DP-001", data_mb=1, validity_days=1, prices={"USD": "1"}),
            {"id": "fiber-internet", "name": "y"},
            product("it-fresh"),
        ],
    )
    result = cli(tmp_path, db_path, "product", "import", catalog)
    assert result.returncode == 2, result
    assert "1 product imported, 2 rejected" in result.stdout, result.stdout
    assert reported(result.stdout, "record") == {
        1: "product OFFER-DP-001 exists already as a line_offering product, not an esim_data one",
        2: "product fiber-internet exists already as a network_service product, not an esim_data one",
    }
    after = db_rows(db_path, "SELECT id, kind, name FROM products WHERE id IN ('OFFER-DP-001', 'fiber-internet')")
    assert after == before
    # The commands that sell them as their kind still find them.
    assert "OFFER-DP-001" in ok(cli(tmp_path, db_path, "business-unit", "offerings", "CR"))
    offering = cli(tmp_path, db_path, "access", "add-offering", "fiber-internet", "1000-1000", "--name", "1 Gbit/s")
    assert "offering fiber-internet/1000-1000 updated" in ok(offering)


def test_json_values_are_imported_as_written_or_refused_naming_the_field(tmp_path: Path, db_path: Path) -> None:
    ok(cli(tmp_path, db_path, "migrate"))
    path = tmp_path / "values.json"
    path.write_text(
        "["
        '{"id": "it-bool", "name": "B", "data_mb": true},'  # 1
        ' {"id": "it-fraction", "name": "F", "validity_days": 3.9},'  # 2
        ' {"id": "it-codes", "name": "C", "footprint": ["XX", "portugal"]},'  # 3
        ' {"id": "it-number-code", "name": "N", "footprint": ["PT", 5]},'  # 4
        ' {"id": "it-exponent", "name": "E", "prices": {"USD": "1e30"}},'  # 5
        ' {"id": "it-huge", "name": "H", "prices": {"USD": 1e30}},'  # 6
        ' {"id": "it-twice", "name": "first"},'  # 7
        ' {"id": "it-twice", "name": "second"},'  # 8
        ' {"id": "it-currency-twice", "name": "T", "prices": {"USD": "1", "USD": "2"}},'  # 9
        ' {"id": "it-fine", "name": "Fine", "data_mb": 1024, "footprint": ["pt", "ES"], "prices": {"USD": 9.5}}'  # 10
        "]"
    )
    result = cli(tmp_path, db_path, "product", "import", path)
    assert result.returncode == 2, result
    assert "2 products imported, 8 rejected" in result.stdout, result.stdout
    assert reported(result.stdout, "record") == {
        1: "data_mb must be a whole number, not true",
        2: "validity_days must be a whole number, not 3.9",
        3: "footprint holds what is no ISO 3166-1 alpha-2 country code (such as PT): 'XX', 'PORTUGAL'",
        4: "footprint must hold country codes such as PT, not 5",
        5: 'price in USD must be a decimal number such as 9.50, not "1e30"',
        6: "price in USD must be less than 10000000000",
        8: "id it-twice is given before in this file (record 7)",
        9: "prices: USD given more than once",
    }
    assert db_rows(db_path, "SELECT id, name, data_mb, footprint FROM products ORDER BY id") == [
        ("it-fine", "Fine", 1024, '["PT","ES"]'),
        ("it-twice", "first", None, "[]"),
    ]
    assert db_rows(db_path, "SELECT product_id, amount FROM product_prices") == [("it-fine", "9.5")]


def test_csv_prices_that_are_not_money_are_refused_naming_the_field(tmp_path: Path, db_path: Path) -> None:
    ok(cli(tmp_path, db_path, "migrate"))
    rows = [
        ["it-no-amount", "A", "USD"],  # line 2
        ["it-letters", "B", "USD=abc"],  # line 3
        ["it-twice", "C", "USD=1;USD=2"],  # line 4
        ["it-exponent", "D", "USD=1e3"],  # line 5
        ["it-fine", "E", "USD=1;EUR=2"],  # line 6
    ]
    result = cli(tmp_path, db_path, "product", "import", write_csv(tmp_path / "p.csv", ["id", "name", "prices"], rows))
    assert result.returncode == 2, result
    assert "1 product imported, 4 rejected" in result.stdout, result.stdout
    assert reported(result.stdout, "record") == {
        2: "prices: 'USD' is not CURRENCY=AMOUNT, such as USD=9.50",
        3: 'price in USD must be a decimal number such as 9.50, not "abc"',
        4: "prices: USD given more than once",
        5: 'price in USD must be a decimal number such as 9.50, not "1e3"',
    }


def test_a_field_over_the_size_limit_is_reported_on_its_own_line(tmp_path: Path, db_path: Path) -> None:
    ok(cli(tmp_path, db_path, "migrate"))
    huge = tmp_path / "huge.csv"
    good = "".join(f"it-ok-{n},Fine,USD=1\n" for n in range(2, 6))  # lines 2 to 5
    huge.write_text("id,name,prices\n" + good + 'it-huge,"' + "x" * 200_000 + '",USD=1\n')  # line 6
    result = cli(tmp_path, db_path, "product", "import", huge)
    assert result.returncode == 1, result
    assert f"{huge} line 6: field larger than field limit" in result.stderr, result.stderr
    assert db_rows(db_path, "SELECT count(*) FROM products") == [(0,)]


def test_a_large_import_leaves_a_running_server_taking_orders(
    tmp_path: Path, db_path: Path, orderhub_procs: OrderhubProcesses
) -> None:
    server = orderhub_procs.serve(db_path)  # the demo's partners, products and inventory
    token = get_token(server.base_url)
    # Large enough that the import outlasts several orders even where each order is slow (CI missed every
    # one with 4,000 products: the import ended before the first answer).
    size = 12_000
    catalog = write_products_json(tmp_path / "large.json", [product(f"it-bulk-{n:05d}") for n in range(size)])
    statuses: Counter[int] = Counter()
    readiness: Counter[int] = Counter()
    (before,) = db_rows(db_path, "SELECT count(*) FROM products")[0]
    products_at_answers: list[int] = []  # how far the import was when each order was answered
    importing = threading.Event()
    importing.set()

    def keep_ordering() -> None:
        with client(server.base_url) as http:
            while importing.is_set():
                body = new_esim_body(f"{uuid.uuid4().hex}@example.com")
                statuses[http.post("/esim/v1/order", json=body, headers=api_headers(token)).status_code] += 1
                products_at_answers.append(db_rows(db_path, "SELECT count(*) FROM products")[0][0])
                readiness[http.get("/readyz").status_code] += 1

    callers = [threading.Thread(target=keep_ordering) for _ in range(3)]
    for caller in callers:
        caller.start()
    try:
        result = cli(tmp_path, db_path, "product", "import", catalog)
    finally:
        importing.clear()
        for caller in callers:
            caller.join(timeout=30)
    assert f"{size} products imported, 0 rejected" in ok(result)
    # Writes waited for the import's short transactions instead of failing (503) behind one long one.
    assert set(statuses) == {201}, statuses
    # Orders were answered between the import's commits: the import did not hold the lock from its first
    # chunk to its last. How many depends on the machine (a fast one commits the chunks back to back).
    during = [n for n in products_at_answers if before < n < before + size]
    assert during, (before, products_at_answers)
    assert set(readiness) == {200}, readiness


def test_a_json_list_in_a_file_of_another_name_is_read_as_json(tmp_path: Path, db_path: Path) -> None:
    """A pipe (`product import <(curl ...)`: /dev/fd/63) or a file saved without .json: JSON read as JSON,
    not refused as a CSV file that "lacks the column(s) id, name"."""
    ok(cli(tmp_path, db_path, "migrate"))
    unnamed = write_products_json(tmp_path / "catalog-2026-12", [product("it-unnamed")])
    assert "1 product imported, 0 rejected" in ok(cli(tmp_path, db_path, "product", "import", unnamed))
    broken = tmp_path / "catalog.txt"
    broken.write_text('  [{"id": "it-broken"')
    result = cli(tmp_path, db_path, "product", "import", broken)
    assert (result.returncode, result.stdout) == (1, ""), result
    assert result.stderr.startswith(f"error: {broken} is not valid JSON: "), result.stderr
    assert db_rows(db_path, "SELECT id FROM products") == [("it-unnamed",)]
