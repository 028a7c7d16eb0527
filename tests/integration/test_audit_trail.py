"""The operators' audit trail: every command that reached the database is recorded there once it ended
(who, on which host, what, how it ended), with personal data, passwords and free text masked, and
`orderhub audit list` shows it."""

from __future__ import annotations

import getpass
import json
import socket
import sqlite3
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.integration.support import run_cli, sqlite_url

pytestmark = pytest.mark.integration


def cli(db_path: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return run_cli(*args, "--db", sqlite_url(db_path), cwd=db_path.parent, env=env)


def trail(db_path: Path, *options: str) -> list[dict[str, Any]]:
    listed = cli(db_path, "audit", "list", "--json", *options)
    assert listed.returncode == 0, listed.stderr
    return list(json.loads(listed.stdout))


def test_each_command_that_reached_the_database_is_recorded_with_who_where_what_and_how_it_ended(
    tmp_path: Path,
) -> None:
    db_path = tmp_path / "audit.db"
    assert cli(db_path, "migrate").returncode == 0
    created = cli(db_path, "partner", "create", "acme-travel", "--name", "Acme Travel", "--role", "RESELLER",
                  "--currency", "USD", env={"SUDO_USER": "alice"})  # fmt: skip
    assert created.returncode == 0, created.stderr
    assert cli(db_path, "credential", "list", "nope").returncode == 1
    assert cli(db_path, "partner", "create", "no-name").returncode == 2  # refused before the database: not recorded
    cancelled = cli(db_path, "order", "cancel", "ord-404", "--reason", "Anna Berg moved abroad")
    assert cancelled.returncode == 1
    erased = cli(db_path, "customer", "erase", "--partner", "acme-travel", "--email", "Anna.Berg@example.org",
                 "--dry-run")  # fmt: skip
    assert erased.returncode == 1

    listed = trail(db_path)
    url = sqlite_url(db_path)
    assert [(entry["command"], entry["arguments"], entry["exit_code"]) for entry in listed] == [
        ("customer erase", f"--partner acme-travel --email 'A***@example.org' --dry-run --db {url}", 1),
        ("order cancel", f"ord-404 --reason '<22 characters>' --db {url}", 1),
        ("credential list", f"nope --db {url}", 1),
        ("partner create", f"acme-travel --name 'Acme Travel' --role RESELLER --currency USD --db {url}", 0),
        ("migrate", f"--db {url}", 0),
    ]
    login = getpass.getuser()
    assert [entry["actor"] for entry in listed] == [login, login, login, f"alice (as {login})", login]
    assert {entry["host"] for entry in listed} == {socket.gethostname()}
    ended = [entry["at"] for entry in listed]
    assert ended == sorted(ended, reverse=True)
    assert "Anna" not in json.dumps(listed) and "Berg" not in json.dumps(listed)

    # Listing is a command too, recorded once it ended; --since and --limit narrow it.
    assert [entry["command"] for entry in trail(db_path, "--limit", "2")] == ["audit list", "customer erase"]
    assert trail(db_path, "--since", "2999-01-01") == []
    assert [entry["command"] for entry in trail(db_path, "--since", ended[1])][-2:] == [
        "customer erase",
        "order cancel",
    ]
    table = cli(db_path, "audit", "list")
    assert table.returncode == 0 and "partner create" in table.stdout and "alice (as" in table.stdout
    refused = cli(db_path, "audit", "list", "--limit", "0")
    assert (refused.returncode, refused.stderr) == (1, "error: --limit '0': expected a whole number from 1 to 10000\n")


def test_a_command_that_worked_but_could_not_be_recorded_says_so(tmp_path: Path) -> None:
    db_path = tmp_path / "audit.db"
    assert cli(db_path, "migrate").returncode == 0
    with sqlite3.connect(db_path) as connection:
        connection.execute("DROP TABLE operator_commands")
    listed = cli(db_path, "partner", "list")
    assert listed.returncode == 0
    assert listed.stderr == "warning: the command was not recorded in the audit trail (OperationalError)\n"
