"""The operators' audit trail on PostgreSQL: a command is recorded there as on SQLite, the password of
the URL it was given masked."""

from __future__ import annotations

import json
from pathlib import Path

from tests.integration.support import run_cli


def test_commands_are_recorded_with_the_urls_password_masked(tmp_path: Path, pg_url: str) -> None:
    with_password = pg_url.replace("://postgres@", "://postgres:hunter2@", 1)  # trust auth: not checked
    assert with_password != pg_url
    listed = run_cli("partner", "list", "--db", with_password, cwd=tmp_path)
    assert listed.returncode == 0, listed.stderr
    refused = run_cli("credential", "list", "nope", "--db", with_password, cwd=tmp_path)
    assert refused.returncode == 1

    shown = run_cli("audit", "list", "--json", "--db", pg_url, cwd=tmp_path)
    assert shown.returncode == 0, shown.stderr
    trail = json.loads(shown.stdout)
    assert [(entry["command"], entry["exit_code"]) for entry in trail] == [("credential list", 1), ("partner list", 0)]
    # Each recorded as it started, then completed in place.
    assert all(entry["started_at"] <= entry["at"] for entry in trail)
    narrowed = run_cli("audit", "list", "--json", "--command", "partner", "--db", pg_url, cwd=tmp_path)
    assert [entry["command"] for entry in json.loads(narrowed.stdout)] == ["partner list"]
    assert "hunter2" not in shown.stdout
    assert trail[1]["arguments"].startswith("--db 'postgresql://") and "@127.0.0.1:5432/" in trail[1]["arguments"]
