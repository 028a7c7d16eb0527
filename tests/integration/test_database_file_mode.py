"""The SQLite database holds customers' personal data: the files orderhub creates for it are its owner's only."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from orderhub.store.database import create_engine
from tests.integration.support import run_cli, sqlite_url

pytestmark = pytest.mark.integration


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_a_database_orderhub_creates_and_its_wal_and_shm_are_owner_only(tmp_path: Path) -> None:
    db_path = tmp_path / "orderhub.db"
    migrated = run_cli("migrate", "--db", sqlite_url(db_path), cwd=tmp_path)
    assert migrated.returncode == 0, migrated.stderr
    assert _mode(db_path) == 0o600

    engine = create_engine(sqlite_url(tmp_path / "other.db"))
    try:
        with engine.connect() as connection:  # open: the -wal and -shm files are there
            connection.exec_driver_sql("CREATE TABLE t (x INTEGER)")
            connection.commit()
            for name in ("other.db", "other.db-wal", "other.db-shm"):
                assert _mode(tmp_path / name) == 0o600, name
    finally:
        engine.dispose()


def test_a_database_file_the_operator_set_up_keeps_its_mode(tmp_path: Path) -> None:
    db_path = tmp_path / "shared.db"
    db_path.touch()
    db_path.chmod(0o640)
    migrated = run_cli("migrate", "--db", sqlite_url(db_path), cwd=tmp_path)
    assert migrated.returncode == 0, migrated.stderr
    assert _mode(db_path) == 0o640
