"""Databases at other migrations than this orderhub's, for the tests of rolling upgrades (SQLite and
PostgreSQL)."""

from __future__ import annotations

import json
from pathlib import Path

import sqlalchemy as sa

from orderhub.store import migrate
from tests.integration.support import OrderhubProcesses, client, run_cli

NEWER = "9001"  # a migration of an orderhub to come


def set_revision(url: str, revision: str) -> None:
    engine = sa.create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
    try:
        with engine.begin() as connection:
            connection.execute(sa.text("UPDATE alembic_version SET version_num = :r"), {"r": revision})
    finally:
        engine.dispose()


def downgraded_to(url: str, revision: str) -> None:
    """The database taken back to ``revision`` by the migrations' own downgrades: as the release at that
    migration left its schema, whatever migrations came after it."""
    from alembic import command

    engine = sa.create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
    try:
        with engine.begin() as connection:
            command.downgrade(migrate._config(connection), revision)
    finally:
        engine.dispose()


def revision_of(url: str) -> str | None:
    engine = sa.create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
    try:
        with engine.connect() as connection:
            return connection.execute(sa.text("SELECT version_num FROM alembic_version")).scalar_one_or_none()
    finally:
        engine.dispose()


def migrated_to_a_newer_orderhub(url: str, cwd: Path) -> None:
    ran = run_cli("demo-data", "--db", url, cwd=cwd)
    assert ran.returncode == 0, ran.stderr
    set_revision(url, NEWER)


def assert_newer_schema_is_served(orderhub_procs: OrderhubProcesses, url: str) -> None:
    """serve starts on it without migrating (one warning line) and /readyz stays ready, saying so."""
    head = migrate.head_revision()
    server = orderhub_procs.serve(Path("unused"), db_url=url, demo=False)
    with client(server.base_url) as http:
        answer = http.get("/readyz")
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"status": "ready", "migration": NEWER, "schema": f"newer than this version ({head})"}
    warnings = [line for line in server.log().splitlines() if "newer than this orderhub" in line]
    assert len(warnings) == 1, server.log()
    assert json.loads(warnings[0])["level"] == "WARNING"
    assert "Traceback" not in server.log()
    assert revision_of(url) == NEWER


def assert_migrate_refuses_a_newer_schema_in_one_line(url: str, cwd: Path) -> None:
    refused = run_cli("migrate", "--db", url, cwd=cwd)
    assert refused.returncode == 1
    head = migrate.head_revision()
    expected = f"error: the database is at migration {NEWER}, newer than this orderhub ({head}): upgrade orderhub\n"
    assert refused.stderr == expected, refused.stderr
    assert revision_of(url) == NEWER
