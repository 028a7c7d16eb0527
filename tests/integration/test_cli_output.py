"""What the CLI prints to a pipe or a log collector (not a terminal): a line is never wrapped and a table
never cuts a value short, however narrow a terminal would be."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.integration.support import base_env, sqlite_url

pytestmark = pytest.mark.integration


def orderhub_to_a_pipe(*args: str | Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {key: value for key, value in base_env().items() if key not in ("COLUMNS", "LINES")}
    return subprocess.run(
        [sys.executable, "-m", "orderhub", *map(str, args)],
        cwd=cwd,
        env=env,
        capture_output=True,  # pipes, not a terminal
        text=True,
        timeout=120,
        stdin=subprocess.DEVNULL,
    )


def test_an_error_line_is_one_line_and_a_table_shows_whole_values(tmp_path: Path) -> None:
    url = sqlite_url(tmp_path / "a-database-with-a-rather-long-name-for-a-rather-long-line.db")
    assert orderhub_to_a_pipe("migrate", "--db", url, cwd=tmp_path).returncode == 0

    refused = orderhub_to_a_pipe("demo-credentials", "--db", url, cwd=tmp_path)
    assert refused.returncode == 1
    assert len(refused.stderr.strip().splitlines()) == 1, refused.stderr
    assert len(refused.stderr.strip()) > 80  # it would have wrapped at 80 columns

    assert orderhub_to_a_pipe("demo-data", "--db", url, cwd=tmp_path).returncode == 0
    table = orderhub_to_a_pipe("demo-credentials", "--db", url, cwd=tmp_path)
    assert table.returncode == 0, table.stderr
    assert "demo-account-manager-secret" in table.stdout, table.stdout
    assert "…" not in table.stdout, table.stdout
