"""Operator flows through the real `orderhub` command, asserting what an operator sees (output and exit codes)."""

from __future__ import annotations

import csv
import json
import re
import sqlite3
import subprocess
import uuid
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from tests.integration.support import (
    OrderhubProcesses,
    api_headers,
    client,
    db_rows,
    get_order,
    get_token,
    new_esim_body,
    run_cli,
    sqlite_url,
)

pytestmark = pytest.mark.integration

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
COMMANDS = [
    "serve",
    "worker",
    "migrate",
    "demo-data",
    "demo-credentials",
    "partner",
    "credential",
    "product",
    "inventory",
    "business-unit",
]


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "cli.db"


def cli(tmp_path: Path, db_path: Path, *args: str | Path) -> subprocess.CompletedProcess[str]:
    return run_cli(*args, "--db", sqlite_url(db_path), cwd=tmp_path)


def ok(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 0, f"exit {result.returncode}\nstdout:\n{result.stdout}\nstderr:\n{result.stderr}"
    return result.stdout


def reported(output: str, label: str) -> dict[int, str]:
    """The rejections a report prints, e.g. ``  line 5: bad ICCID ...`` -> {5: "bad ICCID ..."}."""
    return {int(number): reason for number, reason in re.findall(rf"^\s*{label} (\d+): (.+)$", output, re.M)}


def db_bytes(db_path: Path) -> bytes:
    """The database as stored on disk, with any write-ahead log not yet checkpointed."""
    files = [db_path, db_path.with_name(db_path.name + "-wal")]
    return b"".join(path.read_bytes() for path in files if path.exists())


def luhn_iccid(serial: int) -> str:
    """A 19-digit ICCID starting 8944 whose last digit is the Luhn check digit."""
    payload = f"8944{serial:014d}"
    total = 0
    for position, char in enumerate(reversed(payload)):
        digit = int(char) * (2 if position % 2 == 0 else 1)
        total += digit - 9 if digit > 9 else digit
    return payload + str((10 - total % 10) % 10)


def write_csv(path: Path, header: list[str], rows: list[list[str]]) -> Path:
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def write_products_json(path: Path, products: list[dict]) -> Path:
    path.write_text(json.dumps(products))
    return path


def product(product_id: str, **overrides: object) -> dict:
    record = {
        "id": product_id,
        "name": f"Product {product_id}",
        "description": "integration test product",
        "data_mb": 3072,
        "validity_days": 15,
        "footprint": ["PT", "ES"],
        "prices": {"USD": "5.00"},
    }
    record.update(overrides)
    return record


def test_help_lists_every_command(tmp_path: Path) -> None:
    result = run_cli("--help", cwd=tmp_path)
    output = ok(result)
    for command in COMMANDS:
        assert re.search(rf"^\W*{re.escape(command)}\s{{2,}}\S", output, re.M), f"{command} missing:\n{output}"


def test_migrate_demo_data_and_demo_credentials(tmp_path: Path, db_path: Path) -> None:
    before = cli(tmp_path, db_path, "demo-credentials", "--json")
    assert before.returncode == 1
    assert before.stderr.startswith(f"error: no database at {db_path} (create it with: orderhub migrate --db ")
    assert not db_path.exists()
    assert re.fullmatch(r"migrated an empty database to \d{4}\n", ok(cli(tmp_path, db_path, "migrate")))
    assert "newest migration" in ok(cli(tmp_path, db_path, "migrate"))
    before = cli(tmp_path, db_path, "demo-credentials", "--json")
    assert before.returncode == 1
    assert "no demo data" in before.stderr
    assert ok(cli(tmp_path, db_path, "demo-data")).strip() == "demo data loaded"
    assert ok(cli(tmp_path, db_path, "demo-data")).strip() == "demo data was already there"

    credentials = json.loads(ok(cli(tmp_path, db_path, "demo-credentials", "--json")))
    entries = credentials["esim-v1"]
    assert isinstance(entries, list)
    for entry in entries:
        assert set(entry) >= {"partner", "client_id", "client_secret", "roles"}
    resellers = [e for e in entries if e["roles"] == ["RESELLER"]]
    managers = [e for e in entries if e["roles"] == ["ACCOUNT_MANAGER"]]
    assert len(resellers) >= 2
    assert len(managers) >= 1
    # The demo secrets are printed from code; the database only holds their hashes.
    stored = db_bytes(db_path)
    for entry in entries:
        assert entry["client_secret"].encode() not in stored
    assert db_rows(db_path, "SELECT COUNT(*) FROM esim_profiles WHERE state = 'available'") == [(400,)]


def test_product_import_from_json_and_csv_keeps_good_records_and_names_bad_ones(tmp_path: Path, db_path: Path) -> None:
    ok(cli(tmp_path, db_path, "migrate"))
    json_file = write_products_json(
        tmp_path / "products.json",
        [
            product("it-json-eu", footprint=["pt", "ES"], prices={"USD": "5.00", "EUR": "4.50"}),
            product("it-json-negative", prices={"USD": "-1"}),
            {key: value for key, value in product("it-json-nameless").items() if key != "name"},
            product("it-json-world", data_mb=None, validity_days=7, footprint=[], prices={"USD": "9.99"}),
        ],
    )
    result = cli(tmp_path, db_path, "product", "import", json_file)
    assert result.returncode == 2, result
    assert "2 products imported, 2 rejected" in result.stdout
    rejected = reported(result.stdout, "record")
    assert set(rejected) == {2, 3}, result.stdout
    assert "negative" in rejected[2]
    assert "name" in rejected[3]

    csv_file = write_csv(
        tmp_path / "products.csv",
        ["id", "name", "description", "data_mb", "validity_days", "footprint", "prices"],
        [
            ["it-csv-eu", "CSV Europe", "first", "1024", "7", "PT;ES", "USD=5;EUR=4.5"],  # line 2
            ["it-csv-negative", "CSV Negative", "", "1024", "7", "PT", "USD=-5"],  # line 3
            ["it-csv-nameless", "", "no name", "1024", "7", "PT", "USD=5"],  # line 4
            ["it-csv-fr", "CSV France", "with, a comma", "", "30", "FR", "USD=12.5"],  # line 5
        ],
    )
    result = cli(tmp_path, db_path, "product", "import", csv_file)
    assert result.returncode == 2, result
    assert "2 products imported, 2 rejected" in result.stdout
    rejected = reported(result.stdout, "record")
    assert set(rejected) == {3, 4}, result.stdout
    assert "negative" in rejected[3]
    assert "name is required" in rejected[4]

    products = {
        row[0]: row[1:] for row in db_rows(db_path, "SELECT id, name, data_mb, validity_days, footprint FROM products")
    }
    assert set(products) == {"it-json-eu", "it-json-world", "it-csv-eu", "it-csv-fr"}
    assert products["it-csv-eu"][:3] == ("CSV Europe", 1024, 7)
    assert json.loads(str(products["it-csv-eu"][3])) == ["PT", "ES"]
    assert json.loads(str(products["it-json-eu"][3])) == ["PT", "ES"]
    assert products["it-csv-fr"][1] is None
    prices = {
        (p, c): Decimal(str(a))
        for p, c, a in db_rows(db_path, "SELECT product_id, currency, amount FROM product_prices")
    }
    assert prices == {
        ("it-json-eu", "USD"): Decimal("5"),
        ("it-json-eu", "EUR"): Decimal("4.5"),
        ("it-json-world", "USD"): Decimal("9.99"),
        ("it-csv-eu", "USD"): Decimal("5"),
        ("it-csv-eu", "EUR"): Decimal("4.5"),
        ("it-csv-fr", "USD"): Decimal("12.5"),
    }

    # A file of only good records imports cleanly; importing a product again updates it.
    again = write_products_json(tmp_path / "again.json", [product("it-csv-fr", name="France renamed")])
    assert "1 product imported, 0 rejected" in ok(cli(tmp_path, db_path, "product", "import", again))
    assert db_rows(db_path, "SELECT name FROM products WHERE id = 'it-csv-fr'") == [("France renamed",)]


def test_partner_credential_token_products_and_revocation(
    tmp_path: Path, db_path: Path, orderhub_procs: OrderhubProcesses
) -> None:
    ok(cli(tmp_path, db_path, "migrate"))  # the other commands refuse a database that is not there
    products_file = write_products_json(
        tmp_path / "catalog.json",
        [product("acme-eu-3gb", prices={"USD": "5.00", "EUR": "4.50"}), product("acme-other")],
    )
    assert "2 products imported, 0 rejected" in ok(cli(tmp_path, db_path, "product", "import", products_file))

    created = cli(
        tmp_path, db_path, "partner", "create", "acme-travel", "--name", "Acme Travel", "--role", "RESELLER",
        "--currency", "USD", "--product", "acme-eu-3gb",
    )  # fmt: skip
    assert "partner acme-travel created" in ok(created)
    duplicate = cli(tmp_path, db_path, "partner", "create", "acme-travel", "--name", "Again", "--role", "RESELLER",
                    "--currency", "USD")  # fmt: skip
    assert duplicate.returncode == 1
    assert "already exists" in duplicate.stderr

    issued = json.loads(ok(cli(tmp_path, db_path, "credential", "issue", "acme-travel", "--json")))
    assert set(issued) == {"partner", "client_id", "client_secret"}
    assert issued["partner"] == "acme-travel"
    client_id, secret = issued["client_id"], issued["client_secret"]
    assert len(secret) >= 20
    # Stored hashed: the secret is nowhere in the database file.
    stored = db_bytes(db_path)
    assert client_id.encode() in stored  # the file is readable, and the credential is in it
    assert secret.encode() not in stored
    listing = ok(cli(tmp_path, db_path, "partner", "list"))
    assert "acme-travel" in listing and client_id in listing
    assert secret not in listing

    server = orderhub_procs.serve(db_path, demo=False)
    token = get_token(server.base_url, client_id, secret)
    assert token.encode() not in db_bytes(db_path), "access tokens are stored hashed as well"
    with client(server.base_url) as http:
        answer = http.get("/esim/v1/product", headers=api_headers(token))
        assert answer.status_code == 200, answer.text
        catalog = answer.json()
        assert [p["id"] for p in catalog] == ["acme-eu-3gb"]
        assert catalog[0]["name"] == "Product acme-eu-3gb"
        assert catalog[0]["footprint"] == ["PT", "ES"]
        assert {p["currency"]: Decimal(str(p["price"])) for p in catalog[0]["prices"]} == {
            "EUR": Decimal("4.5"),
            "USD": Decimal("5"),
        }

        assert f"credential {client_id} revoked" in ok(cli(tmp_path, db_path, "credential", "revoke", client_id))

        answer = http.get("/esim/v1/product", headers=api_headers(token))
        assert answer.status_code == 401, answer.text
        assert answer.json()["type"] == "UNAUTHORISED"
        assert answer.json()["messages"]
        refused = http.post(
            "/oauth2/token",
            data={"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret},
        )
        assert refused.status_code == 401, refused.text
        assert refused.json()["error"] == "invalid_client"

    again = cli(tmp_path, db_path, "credential", "revoke", client_id)
    assert again.returncode == 1
    assert "no live credential" in again.stderr


def test_a_product_validity_changed_by_the_operator_reaches_the_next_order_of_a_running_server(
    tmp_path: Path, db_path: Path, orderhub_procs: OrderhubProcesses
) -> None:
    ok(cli(tmp_path, db_path, "migrate"))  # the other commands refuse a database that is not there

    # The server keeps each caller's products and their validity with its credentials (no catalog read
    # per order); a change made by another process must still reach the very next order.
    def import_validity(days: int) -> None:
        catalog = write_products_json(tmp_path / f"catalog-{days}.json", [product("acme-eu-3gb", validity_days=days)])
        assert "1 product imported, 0 rejected" in ok(cli(tmp_path, db_path, "product", "import", catalog))

    def subscription_days(order_id: str) -> list[float]:
        rows = db_rows(db_path, f"SELECT starts_at, ends_at FROM subscriptions WHERE order_id = '{order_id}'")
        return [
            (datetime.fromisoformat(ends) - datetime.fromisoformat(starts)) / timedelta(days=1) for starts, ends in rows
        ]

    import_validity(15)
    ok(cli(tmp_path, db_path, "partner", "create", "acme-travel", "--name", "Acme Travel", "--role", "RESELLER",
           "--currency", "USD", "--product", "acme-eu-3gb"))  # fmt: skip
    issued = json.loads(ok(cli(tmp_path, db_path, "credential", "issue", "acme-travel", "--json")))
    profiles = [[luhn_iccid(n), f"ABCDE-12345-FGHIJ-{n:05d}", "smdp.example.com"] for n in range(1, 4)]
    inventory = write_csv(tmp_path / "profiles.csv", ["iccid", "matching_id", "smdp_address"], profiles)
    ok(cli(tmp_path, db_path, "inventory", "import", inventory))
    server = orderhub_procs.serve(db_path, demo=False)
    token = get_token(server.base_url, issued["client_id"], issued["client_secret"])

    def place() -> str:
        with client(server.base_url) as http:
            answer = http.post(
                "/esim/v1/order",
                json=new_esim_body(f"{uuid.uuid4().hex}@example.com", product_id="acme-eu-3gb"),
                headers=api_headers(token),
            )
        assert answer.status_code == 201, answer.text
        order_id = str(answer.json()["id"])
        assert get_order(server.base_url, token, order_id)["status"] == "COMPLETED"
        return order_id

    assert subscription_days(place()) == [15]
    import_validity(7)
    assert subscription_days(place()) == [7]


def test_inventory_import_names_each_bad_line_and_levels_count_the_good_ones(tmp_path: Path, db_path: Path) -> None:
    ok(cli(tmp_path, db_path, "migrate"))  # the other commands refuse a database that is not there
    header = ["iccid", "matching_id", "smdp_address"]
    first = [luhn_iccid(n) for n in range(1, 6)]
    first_file = write_csv(
        tmp_path / "batch-1.csv",
        header,
        [[iccid, f"ABCDE-12345-FGHIJ-{n:05d}", "smdp.example.com"] for n, iccid in enumerate(first, start=1)],
    )
    output = ok(cli(tmp_path, db_path, "inventory", "import", first_file))
    assert "5 profiles imported, 0 rejected" in output
    assert "Luhn" not in output

    fresh = [luhn_iccid(n) for n in range(100, 104)]
    rows = [
        [fresh[0], "ABCDE-12345-FGHIJ-67890", "smdp.example.com"],  # line 2: good
        ["8944000000000ABC123", "ABCDE-12345-FGHIJ-67891", "smdp.example.com"],  # line 3: letters in ICCID
        [fresh[1], "abcde-12345-fghij-67892", "smdp.example.com"],  # line 4: lower-case matching id
        [fresh[2], "ABCDE-12345-FGHIJ-67893", "https://x"],  # line 5: a URL, not a host
        [fresh[3], "ABCDE-12345-FGHIJ-67894", "smdp.example.com"],  # line 6: good
        [fresh[0], "ABCDE-12345-FGHIJ-67895", "smdp.example.com"],  # line 7: ICCID of line 2 again
        [first[2], "ABCDE-12345-FGHIJ-67896", "smdp.example.com"],  # line 8: imported by batch-1
    ]
    result = cli(tmp_path, db_path, "inventory", "import", write_csv(tmp_path / "batch-2.csv", header, rows))
    assert result.returncode == 2, result
    assert "2 profiles imported, 5 rejected" in result.stdout
    rejected = reported(result.stdout, "line")
    assert set(rejected) == {3, 4, 5, 7, 8}, result.stdout
    assert "ICCID" in rejected[3] and "8944000000000ABC123" in rejected[3]
    assert "matching ID" in rejected[4]
    assert "SM-DP+" in rejected[5] and "https://x" in rejected[5]
    assert "duplicate" in rejected[7]
    assert "already in inventory" in rejected[8] and first[2] in rejected[8]

    levels = json.loads(ok(cli(tmp_path, db_path, "inventory", "levels", "--json")))
    assert levels["available"] == 7
    assert all(count == 0 for state, count in levels.items() if state != "available")
    stored = {row[0] for row in db_rows(db_path, "SELECT iccid FROM esim_profiles")}
    assert stored == {*first, fresh[0], fresh[3]}
    assert db_rows(db_path, "SELECT DISTINCT luhn_ok FROM esim_profiles") == [(1,)]


def test_the_readme_example_files_import_as_documented(tmp_path: Path, db_path: Path) -> None:
    ok(cli(tmp_path, db_path, "migrate"))  # the other commands refuse a database that is not there
    # README: "examples/profiles.csv holds five good profiles and two bad rows ... two rejections (exit code 2)".
    assert "1 product imported, 0 rejected" in ok(
        cli(tmp_path, db_path, "product", "import", EXAMPLES / "products.json")
    )
    assert "1 product imported, 0 rejected" in ok(
        cli(tmp_path, db_path, "product", "import", EXAMPLES / "products.csv")
    )
    result = cli(tmp_path, db_path, "inventory", "import", EXAMPLES / "profiles.csv", "--batch", "example-batch")
    assert result.returncode == 2, result
    assert "5 profiles imported, 2 rejected" in result.stdout
    assert set(reported(result.stdout, "line")) == {7, 8}
    assert db_rows(db_path, "SELECT DISTINCT batch FROM esim_profiles") == [("example-batch",)]
    assert json.loads(ok(cli(tmp_path, db_path, "inventory", "levels", "--json")))["available"] == 5


def test_inventory_import_accepts_a_csv_with_a_utf8_byte_order_mark(tmp_path: Path, db_path: Path) -> None:
    ok(cli(tmp_path, db_path, "migrate"))  # the other commands refuse a database that is not there
    rows = [f"{luhn_iccid(n)},BOMBO-12345-FGHIJ-{n:05d},smdp.example.com" for n in range(1, 4)]
    bom_file = tmp_path / "excel-export.csv"
    bom_file.write_bytes("\ufefficcid,matching_id,smdp_address\r\n".encode() + "\r\n".join(rows).encode() + b"\r\n")
    output = ok(cli(tmp_path, db_path, "inventory", "import", bom_file))
    assert "3 profiles imported, 0 rejected" in output


def test_product_import_refuses_values_that_are_not_money_or_not_numbers(tmp_path: Path, db_path: Path) -> None:
    ok(cli(tmp_path, db_path, "migrate"))
    path = tmp_path / "odd.json"
    path.write_text(
        '[{"id": "it-inf", "name": "Inf", "prices": {"USD": "Infinity"}},'
        ' {"id": "it-nan", "name": "NaN", "prices": {"USD": "NaN"}},'
        ' {"id": null, "name": "No id", "prices": {"USD": "1"}},'
        ' {"id": "it-huge", "name": "Huge", "data_mb": 1e400, "prices": {"USD": "1"}},'
        ' {"id": "it-fine", "name": "Fine", "prices": {"USD": "1.50"}}]'
    )
    result = cli(tmp_path, db_path, "product", "import", path)
    assert result.returncode == 2, result
    assert "Traceback" not in result.stderr
    assert "1 product imported, 4 rejected" in result.stdout, result.stdout
    rejected = reported(result.stdout, "record")
    assert set(rejected) == {1, 2, 3, 4}, result.stdout


def test_files_that_cannot_be_imported_say_why_and_import_nothing(tmp_path: Path, db_path: Path) -> None:
    ok(cli(tmp_path, db_path, "migrate"))
    latin1 = tmp_path / "latin1.csv"
    latin1.write_bytes("id,name,prices\nit-l1,Caf\xe9,USD=1\n".encode("latin-1"))
    unrelated = tmp_path / "notes.csv"
    unrelated.write_text("just some notes\nnothing to see\n")
    huge = tmp_path / "huge.csv"
    huge.write_text('id,name,prices\nit-ok-1,Fine,USD=1\nit-huge,"' + "x" * 200_000 + '",USD=1\n')
    for path, reason in [(latin1, "not UTF-8"), (unrelated, "lacks the column(s) id, name"), (huge, "field larger")]:
        result = cli(tmp_path, db_path, "product", "import", path)
        assert result.returncode == 1, (path, result)
        assert reason in result.stderr and "Traceback" not in result.stderr, result.stderr
    with sqlite3.connect(db_path) as db:  # nothing half-imported: the good first row of huge.csv is not there
        assert db.execute("SELECT count(*) FROM products WHERE id LIKE 'it-%'").fetchone()[0] == 0
    inventory = cli(tmp_path, db_path, "inventory", "import", unrelated)
    assert inventory.returncode == 1 and "lacks the column(s) iccid" in inventory.stderr, inventory

    with_bom = tmp_path / "bom.json"
    with_bom.write_bytes(b"\xef\xbb\xbf" + b'[{"id": "it-bom", "name": "BOM", "prices": {"USD": "1"}}]')
    assert cli(tmp_path, db_path, "product", "import", with_bom).returncode == 0


def test_inventory_set_state_records_the_sm_dp_reports_forward_only(tmp_path: Path, db_path: Path) -> None:
    ok(cli(tmp_path, db_path, "migrate"))
    ok(cli(tmp_path, db_path, "demo-data"))  # its eSIM 123456789 is released to john@doe.com
    assert ok(cli(tmp_path, db_path, "inventory", "set-state", "123456789", "installed")).strip() == (
        "123456789: installed"
    )
    late = cli(tmp_path, db_path, "inventory", "set-state", "123456789", "downloaded")
    assert late.returncode == 1, late
    assert "the profile is already installed" in late.stderr, late.stderr
    # The same report again is no error: the SM-DP+ may notify twice.
    ok(cli(tmp_path, db_path, "inventory", "set-state", "123456789", "installed"))


def test_an_import_of_a_file_that_is_not_there_or_a_directory_is_one_line_and_exit_1(
    tmp_path: Path, db_path: Path
) -> None:
    """typer refused them itself: a boxed usage error of several lines, even in a pipe, with exit code 2,
    which is an import's code for bad records."""
    ok(cli(tmp_path, db_path, "migrate"))
    missing, directory = tmp_path / "nonexist.csv", tmp_path / "batches"
    directory.mkdir()
    for command in (["product", "import"], ["inventory", "import"]):
        for path, why in ((missing, "does not exist"), (directory, "is a directory, not a file to import")):
            result = cli(tmp_path, db_path, *command, path)
            assert (result.returncode, result.stderr, result.stdout) == (1, f"error: {path} {why}\n", ""), command


def test_counts_of_one_are_said_in_the_singular(tmp_path: Path, db_path: Path) -> None:
    ok(cli(tmp_path, db_path, "migrate"))
    one_product = tmp_path / "one.json"
    one_product.write_text('[{"id": "it-one", "name": "One", "prices": {"USD": "1"}}]')
    assert ok(cli(tmp_path, db_path, "product", "import", one_product)).startswith("1 product imported, 0 rejected\n")
    header = ["iccid", "matching_id", "smdp_address"]
    not_luhn = luhn_iccid(7)[:-1] + str((int(luhn_iccid(7)[-1]) + 1) % 10)
    profiles = write_csv(tmp_path / "one.csv", header, [[not_luhn, "ABCDE-12345-FGHIJ-00001", "smdp.example.com"]])
    assert ok(cli(tmp_path, db_path, "inventory", "import", profiles)).splitlines() == [
        "1 profile imported, 0 rejected",
        "1 imported ICCID fails the Luhn check (kept, flagged)",
    ]
    ok(cli(tmp_path, db_path, "business-unit", "add", "GT", "--name", "Guatemala", "--timezone", "America/Guatemala",
           "--msisdn-pattern", "[0-9]{8}"))  # fmt: skip
    ok(cli(tmp_path, db_path, "line", "add-product", "GT-DAY", "--name", "A day", "--price", "USD=1"))
    added = ok(cli(tmp_path, db_path, "business-unit", "add-offering", "GT", "GT-DAY", "--plan-type", "Plan",
                   "--validity-days", "1"))  # fmt: skip
    assert added.strip() == "offering GT-DAY as Plan in GT added (1 day)", added
