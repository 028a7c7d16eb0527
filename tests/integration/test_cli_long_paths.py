"""A path with a name longer than the file system takes (a script's variable pasted twice, a generated
name) is refused in one line naming it, exit 1, as a path that cannot be written is: not a traceback."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.integration.support import run_cli, sqlite_url

pytestmark = pytest.mark.integration

LONG = "o" * 300  # past NAME_MAX (255)


@pytest.fixture
def url(tmp_path: Path) -> str:
    url = sqlite_url(tmp_path / "orderhub.db")
    assert run_cli("migrate", "--db", url, cwd=tmp_path).returncode == 0
    return url


def test_a_database_path_too_long_is_named(tmp_path: Path) -> None:
    for command in (["partner", "list"], ["migrate"]):
        path = tmp_path / f"{LONG}.db"
        result = run_cli(*command, "--db", sqlite_url(path), cwd=tmp_path)
        expected = f"error: cannot use the database: {path}: File name too long\n"
        assert (result.returncode, result.stderr, result.stdout) == (1, expected, ""), command


def test_a_backup_or_export_target_too_long_is_named(tmp_path: Path, url: str) -> None:
    backup = run_cli("backup", tmp_path / f"{LONG}.db", "--db", url, cwd=tmp_path)
    assert (backup.returncode, backup.stderr) == (1, f"error: cannot write {tmp_path}/{LONG}.db: File name too long\n")
    export = ["customer", "export", "--partner", "p", "--id", "c", "--output", f"{LONG}.json"]
    exported = run_cli(*export, "--db", url, cwd=tmp_path)
    assert (exported.returncode, exported.stderr) == (1, f"error: cannot write {LONG}.json: File name too long\n")
