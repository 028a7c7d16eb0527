"""Rolling upgrades and rollbacks: a database a newer orderhub migrated (a migration this code does not
know) is served and worked on, never migrated; `orderhub migrate` says what it applied."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
import sqlalchemy as sa

from orderhub.store import migrate
from tests.integration.schema_support import (
    assert_migrate_refuses_a_newer_schema_in_one_line,
    assert_newer_schema_is_served,
    migrated_to_a_newer_orderhub,
)
from tests.integration.support import OrderhubProcesses, run_cli, sqlite_url, wait_until

pytestmark = pytest.mark.integration


def test_a_newer_schema_is_served_and_worked_on_but_never_migrated(
    orderhub_procs: OrderhubProcesses, tmp_path: Path
) -> None:
    url = sqlite_url(tmp_path / "x.db")
    migrated_to_a_newer_orderhub(url, tmp_path)
    assert_migrate_refuses_a_newer_schema_in_one_line(url, tmp_path)
    assert_newer_schema_is_served(orderhub_procs, url)

    listed = run_cli("partner", "list", "--db", url, cwd=tmp_path)
    assert listed.returncode == 0, listed.stderr
    assert "demo-reseller-1" in listed.stdout
    assert listed.stderr.count("\n") == 1 and "newer than this orderhub" in listed.stderr

    worker = orderhub_procs.spawn(["worker", "--db", url])
    wait_until(lambda: "newer than this orderhub" in worker.log(), timeout=20, message="the worker's warning")
    time.sleep(0.5)
    assert worker.popen.poll() is None, worker.log()
    assert worker.terminate(timeout=15) == 0, worker.log()
    assert "Traceback" not in worker.log()


def test_migrate_says_which_migrations_it_applied(tmp_path: Path) -> None:
    url = sqlite_url(tmp_path / "x.db")
    head = migrate.head_revision()
    assert run_cli("migrate", "--db", url, cwd=tmp_path).stdout == f"migrated an empty database to {head}\n"
    assert run_cli("migrate", "--db", url, cwd=tmp_path).stdout == (
        f"database is at the newest migration ({head}): nothing to apply\n"
    )
    # Back to 0012 for real: a fresh database migrated that far only.
    older = sqlite_url(tmp_path / "older.db")
    engine = sa.create_engine(older)
    migrate.upgrade(engine, "0012")
    engine.dispose()
    assert run_cli("migrate", "--db", older, cwd=tmp_path).stdout == f"migrated 0012 -> {head}\n"
