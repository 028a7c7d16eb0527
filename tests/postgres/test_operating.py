"""Operating orderhub on PostgreSQL: migrations from several hosts at once, a database that is not
there."""

from __future__ import annotations

import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import sqlalchemy as sa

from orderhub.bootstrap import build_services
from orderhub.settings import Settings
from orderhub.store import migrate
from tests.databases import database_url, nested_savepoints_undo_only_the_inner_one
from tests.integration.schema_support import (
    assert_migrate_refuses_a_newer_schema_in_one_line,
    assert_newer_schema_is_served,
    migrated_to_a_newer_orderhub,
)
from tests.integration.support import OrderhubProcesses, base_env


def orderhub(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "orderhub", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env=base_env({"COLUMNS": "300", "NO_COLOR": "1"}),
        stdin=subprocess.DEVNULL,
    )


def test_migrations_started_on_several_hosts_at_once_all_succeed(tmp_path: Path) -> None:
    url = database_url(tmp_path / "migrate.db")
    with ThreadPoolExecutor(4) as pool:
        runs = list(pool.map(lambda _: orderhub("migrate", "--db", url), range(4)))
    assert [run.returncode for run in runs] == [0, 0, 0, 0], [run.stderr for run in runs]
    engine = sa.create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
    with engine.connect() as connection:
        assert connection.exec_driver_sql("SELECT count(*) FROM alembic_version").scalar_one() == 1
    engine.dispose()


def test_a_host_waits_for_another_hosts_long_migration_and_the_pool_keeps_its_bounds(tmp_path: Path) -> None:
    # Another host migrating holds the advisory lock for longer than the service's lock timeout (1 s at
    # the default 2 s write bound): this host must wait for it, not fail, as README promises.
    url = database_url(tmp_path / "long.db")
    engine = sa.create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
    with engine.connect() as other_host:
        other_host.exec_driver_sql(f"SELECT pg_advisory_lock({migrate.MIGRATION_LOCK})")
        with ThreadPoolExecutor(1) as pool:
            waiting = pool.submit(orderhub, "migrate", "--db", url)
            time.sleep(3)
            assert not waiting.done(), waiting.result().stderr
            other_host.exec_driver_sql(f"SELECT pg_advisory_unlock({migrate.MIGRATION_LOCK})")
            run = waiting.result()
    assert run.returncode == 0, run.stderr
    engine.dispose()
    # In a serving process the migration runs on a pooled connection, which keeps the service's bounds.
    services = build_services(Settings(database_url=url))
    services.migrate()
    with services.engine.connect() as connection:
        assert connection.exec_driver_sql("SHOW lock_timeout").scalar_one() == "1s"
        assert connection.exec_driver_sql("SHOW statement_timeout").scalar_one() == "10s"
    services.close()


def test_a_database_that_is_not_there_is_one_clear_line_and_a_failing_exit() -> None:
    for url in ("postgresql://postgres@127.0.0.1:1/nowhere", "postgresql://postgres@127.0.0.1:5432/no_such_db"):
        for command in (["migrate"], ["worker"], ["demo-data"]):
            run = orderhub(*command, "--db", url)
            assert run.returncode == 1, (command, run.stdout, run.stderr)
            assert "Traceback" not in run.stderr and "cannot use the database" in run.stderr
            assert len(run.stderr.strip().splitlines()) <= 2, run.stderr


def test_another_applications_tables_without_a_migration_record_are_not_migrated(tmp_path: Path) -> None:
    url = database_url(tmp_path / "other-app.db")
    engine = sa.create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
    with engine.begin() as connection:
        connection.exec_driver_sql("CREATE TABLE invoices (id INTEGER PRIMARY KEY)")
    for command in (["migrate"], ["demo-data"], ["partner", "list"]):
        run = orderhub(*command, "--db", url)
        assert (run.returncode, run.stderr) == (
            1,
            "error: not an orderhub database (it holds tables but no migration of orderhub's: invoices)\n",
        ), command
    assert sa.inspect(engine).get_table_names() == ["invoices"]
    engine.dispose()


def test_a_failing_savepoint_inside_another_undoes_only_its_own_writes(pg_url: str) -> None:
    assert nested_savepoints_undo_only_the_inner_one(pg_url) == [1, 101]


def test_a_schema_migrated_by_a_newer_orderhub_is_served_and_not_migrated(
    tmp_path: Path, orderhub_procs: OrderhubProcesses
) -> None:
    # A rolling upgrade: one host ran the new version's migrate; this (older) code keeps serving.
    url = database_url(tmp_path / "newer.db")
    migrated_to_a_newer_orderhub(url, tmp_path)
    assert_migrate_refuses_a_newer_schema_in_one_line(url, tmp_path)
    assert_newer_schema_is_served(orderhub_procs, url)
