"""Migrations as the operator sees them: `orderhub migrate` says what it applied."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa

from orderhub.store import migrate
from tests.integration.support import run_cli, sqlite_url

pytestmark = pytest.mark.integration


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
