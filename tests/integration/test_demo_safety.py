"""The demo's secrets are public: `demo-data` and `serve --demo` load it only into a database of its own,
all of it or nothing, and say so in one line when they refuse."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.integration.support import db_rows, free_port, run_cli, sqlite_url

pytestmark = pytest.mark.integration

REFUSAL = "error: refusing to load demo data: this database holds partners other than the demo's (acme)"


def cli(tmp_path: Path, db_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return run_cli(*args, "--db", sqlite_url(db_path), cwd=tmp_path)


def production_database(tmp_path: Path) -> Path:
    """A database with an operator's own communication operator, coId Acme (as the demo's demo-co-acme)."""
    db_path = tmp_path / "production.db"
    assert cli(tmp_path, db_path, "migrate").returncode == 0
    created = cli(
        tmp_path, db_path, "partner", "create", "acme", "--name", "Acme", "--role", "COMMUNICATION_OPERATOR",
        "--currency", "SEK", "--co-id", "Acme",
    )  # fmt: skip
    assert created.returncode == 0, created.stderr
    return db_path


def demo_rows(db_path: Path) -> list[object]:
    """Everything the demo would have written: partners, credentials, products, profiles, units, accesses."""
    return [
        db_rows(db_path, "SELECT id FROM partners ORDER BY id"),
        db_rows(db_path, "SELECT COUNT(*) FROM credentials"),
        db_rows(db_path, "SELECT COUNT(*) FROM products"),
        db_rows(db_path, "SELECT COUNT(*) FROM esim_profiles"),
        db_rows(db_path, "SELECT COUNT(*) FROM business_units"),
        db_rows(db_path, "SELECT ref FROM accesses ORDER BY ref"),
    ]


def test_demo_data_refuses_a_database_with_partners_of_its_own_and_writes_nothing(tmp_path: Path) -> None:
    db_path = production_database(tmp_path)
    before = demo_rows(db_path)
    for _attempt in range(2):  # refused the same way each time, nothing left behind by the first
        result = cli(tmp_path, db_path, "demo-data")
        assert result.returncode == 1
        assert result.stderr.startswith(REFUSAL), result.stderr
        assert len(result.stderr.strip().splitlines()) == 1, result.stderr
        assert demo_rows(db_path) == before
    assert before[0] == [("acme",)]


def test_serve_demo_refuses_to_start_on_a_database_with_partners_of_its_own(tmp_path: Path) -> None:
    db_path = production_database(tmp_path)
    before = demo_rows(db_path)
    result = cli(tmp_path, db_path, "serve", "--demo", "--host", "127.0.0.1", "--port", str(free_port()))
    assert result.returncode == 1
    refusal = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(refusal) == 1 and refusal[0].startswith(REFUSAL) and refusal[0].endswith("not serving"), result.stderr
    assert "Traceback" not in result.stderr
    assert demo_rows(db_path) == before


def test_the_demo_is_loaded_all_or_nothing(tmp_path: Path) -> None:
    # No partners, so the demo may go in; but its last part meets an access the operator added: what
    # came before it (partners with public secrets, inventory) must not stay.
    db_path = tmp_path / "cli.db"
    assert cli(tmp_path, db_path, "migrate").returncode == 0
    assert cli(tmp_path, db_path, "access", "add", "access-free-3").returncode == 0
    result = cli(tmp_path, db_path, "demo-data")
    assert result.returncode == 1
    assert (
        result.stderr.strip()
        == "error: cannot load demo data: access access-free-3 exists already (nothing was written)"
    )
    assert demo_rows(db_path) == [[], [(0,)], [(0,)], [(0,)], [(0,)], [("access-free-3",)]]


def test_a_demo_database_keeps_taking_the_demo(tmp_path: Path) -> None:
    db_path = tmp_path / "cli.db"
    assert cli(tmp_path, db_path, "demo-data").stdout.strip() == "demo data loaded"
    again = cli(tmp_path, db_path, "demo-data")
    assert (again.returncode, again.stdout.strip()) == (0, "demo data was already there")
