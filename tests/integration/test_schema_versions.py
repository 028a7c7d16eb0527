"""Rolling upgrades and rollbacks: a database a newer orderhub migrated (a migration this code does not
know) is served and worked on, never migrated; one that is behind is migrated by serve, worker and
migrate, and refused by the other commands; a SQLite file that is not there is created only by the
commands that create databases."""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest
import sqlalchemy as sa

from orderhub.store import migrate
from tests.integration.schema_support import (
    assert_migrate_refuses_a_newer_schema_in_one_line,
    assert_newer_schema_is_served,
    migrated_to_a_newer_orderhub,
    revision_of,
    set_revision,
)
from tests.integration.support import OrderhubProcesses, client, free_port, run_cli, sqlite_url, wait_until

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


def test_another_applications_database_is_named_in_one_line_by_every_command_and_left_untouched(
    orderhub_procs: OrderhubProcesses, tmp_path: Path
) -> None:
    """Its Alembic revision (ae1027a6acf: another application's) was taken for a newer orderhub's: migrate
    said "upgrade orderhub", serve warned, then died on a missing table with a traceback."""
    url = sqlite_url(tmp_path / "other-app.db")
    engine = sa.create_engine(url)
    with engine.begin() as connection:
        connection.exec_driver_sql("CREATE TABLE alembic_version (version_num VARCHAR(32) PRIMARY KEY)")
        connection.exec_driver_sql("INSERT INTO alembic_version VALUES ('ae1027a6acf')")
        connection.exec_driver_sql("CREATE TABLE invoices (id INTEGER PRIMARY KEY)")
    engine.dispose()
    line = "error: not an orderhub database (its migration ae1027a6acf is not orderhub's)\n"
    for command in (["migrate"], ["serve", "--port", str(free_port())], ["worker"], ["partner", "list"], ["demo-data"]):
        refused = run_cli(*command, "--db", url, cwd=tmp_path, timeout=30)
        assert (refused.returncode, refused.stderr, refused.stdout) == (1, line, ""), command
    assert revision_of(url) == "ae1027a6acf"
    engine = sa.create_engine(url)
    assert sa.inspect(engine).get_table_names() == ["alembic_version", "invoices"]  # nothing of orderhub's made
    engine.dispose()

    # A database that becomes one under a running server (restored from the wrong backup): not ready.
    served = tmp_path / "served.db"
    server = orderhub_procs.serve(served)
    set_revision(sqlite_url(served), "ae1027a6acf")
    with client(server.base_url) as http:
        answer = http.get("/readyz")
    assert answer.status_code == 503, answer.text
    assert answer.json() == {
        "status": "unavailable",
        "reason": "not an orderhub database (its migration ae1027a6acf is not orderhub's)",
    }


def test_another_applications_database_without_a_migration_record_is_refused_untouched(
    orderhub_procs: OrderhubProcesses, tmp_path: Path
) -> None:
    """A database with tables and no alembic_version at all (an application that does not use Alembic) was
    taken for a new one: `migrate` and `serve` added orderhub's tables beside its own."""
    url = sqlite_url(tmp_path / "other-app.db")
    engine = sa.create_engine(url)
    with engine.begin() as connection:
        connection.exec_driver_sql("CREATE TABLE invoices (id INTEGER PRIMARY KEY)")
        connection.exec_driver_sql("CREATE TABLE payments (id INTEGER PRIMARY KEY)")
    engine.dispose()
    line = "error: not an orderhub database (it holds tables but no migration of orderhub's: invoices, payments)\n"
    for command in (["migrate"], ["serve", "--port", str(free_port())], ["worker"], ["partner", "list"], ["demo-data"]):
        refused = run_cli(*command, "--db", url, cwd=tmp_path, timeout=30)
        assert (refused.returncode, refused.stderr, refused.stdout) == (1, line, ""), command
    engine = sa.create_engine(url)
    assert sa.inspect(engine).get_table_names() == ["invoices", "payments"]  # nothing of orderhub's made
    engine.dispose()

    # An empty database file is a new one: migrated.
    empty = tmp_path / "empty.db"
    sa.create_engine(sqlite_url(empty)).connect().close()
    assert empty.exists()
    assert run_cli("migrate", "--db", sqlite_url(empty), cwd=tmp_path).returncode == 0
    assert revision_of(sqlite_url(empty)) == migrate.head_revision()


def test_a_database_behind_is_refused_untouched_by_the_commands_that_operate_on_it(tmp_path: Path) -> None:
    url = sqlite_url(tmp_path / "x.db")
    assert run_cli("migrate", "--db", url, cwd=tmp_path).returncode == 0
    set_revision(url, "0012")  # its tables are newer: only the revision matters to the refusal

    refused = run_cli("partner", "list", "--db", url, cwd=tmp_path)
    assert refused.returncode == 1
    head = migrate.head_revision()
    assert refused.stderr == (
        f"error: the database is at migration 0012, behind this orderhub ({head}): run `orderhub migrate` first\n"
    )
    assert revision_of(url) == "0012"


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


def test_commands_that_operate_on_a_database_refuse_a_sqlite_file_that_is_not_there(tmp_path: Path) -> None:
    typo = tmp_path / "typo.db"
    url = sqlite_url(typo)
    for command in (["partner", "list"], ["inventory", "levels"], ["demo-credentials"], ["order", "show", "x"]):
        refused = run_cli(*command, "--db", url, cwd=tmp_path)
        assert refused.returncode == 1, (command, refused.stdout)
        assert refused.stderr == f"error: no database at {typo} (create it with: orderhub migrate --db {url})\n"
        assert refused.stdout == ""
        assert not typo.exists()
        assert not re.search(r"typo\.db-(wal|shm)", " ".join(p.name for p in tmp_path.iterdir()))
