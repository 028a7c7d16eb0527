"""The operators' audit trail: every command that reached the database is recorded there when it starts
and completed once it ended (who, on which host, what, how it ended), with personal data, passwords and
free text masked, and `orderhub audit list` shows it."""

from __future__ import annotations

import getpass
import json
import os
import re
import socket
import sqlite3
import subprocess
import sys
import time
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest

from tests.integration.schema_support import downgraded_to
from tests.integration.support import CLI_TERMINAL, base_env, run_cli, sqlite_url

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


def test_a_command_is_recorded_when_it_starts_so_one_killed_before_it_ended_still_shows(tmp_path: Path) -> None:
    db_path = tmp_path / "audit.db"
    assert cli(db_path, "migrate").returncode == 0
    # A file no one writes yet: the import opens the database, then waits to read it.
    profiles = tmp_path / "profiles.csv"
    os.mkfifo(profiles)
    importing = subprocess.Popen(
        [sys.executable, "-m", "orderhub", "inventory", "import", str(profiles), "--db", sqlite_url(db_path)],
        cwd=tmp_path, env=base_env(CLI_TERMINAL), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while not started_rows(db_path) and time.monotonic() < deadline and importing.poll() is None:
            time.sleep(0.05)
        assert started_rows(db_path) == [("inventory import", None)]
    finally:
        importing.kill()  # SIGKILL: nothing of it runs after this
        importing.wait()

    killed = trail(db_path, "--command", "inventory")
    assert [(entry["command"], entry["at"], entry["exit_code"]) for entry in killed] == [
        ("inventory import", None, None)
    ]
    assert killed[0]["started_at"] is not None
    assert killed[0]["arguments"] == f"{profiles} --db {sqlite_url(db_path)}"
    table = cli(db_path, "audit", "list").stdout
    assert "inventory import" in table and "not ended" in table

    # A command that ends is completed in place: one row, with when it started and when it ended.
    assert cli(db_path, "partner", "list").returncode == 0
    listed = trail(db_path, "--command", "partner list")
    assert [(entry["command"], entry["exit_code"]) for entry in listed] == [("partner list", 0)]
    assert listed[0]["started_at"] <= listed[0]["at"]
    assert [(entry["command"], entry["exit_code"]) for entry in trail(db_path, "--command", "migrate")] == [
        ("migrate", 0)
    ]  # recorded whole once it ended: before it, there was no trail to record its start in
    assert trail(db_path, "--command", "migrate")[0]["started_at"] is not None


def test_the_trail_is_narrowed_to_a_command_and_to_who_ran_it(tmp_path: Path) -> None:
    db_path = tmp_path / "audit.db"
    assert cli(db_path, "migrate", env={"LOGNAME": "alice"}).returncode == 0
    assert cli(db_path, "partner", "list", env={"LOGNAME": "alice"}).returncode == 0
    assert cli(db_path, "partner", "list", env={"LOGNAME": "root", "SUDO_USER": "alice"}).returncode == 0
    assert cli(db_path, "credential", "list", env={"LOGNAME": "alice", "SUDO_USER": "bob"}).returncode == 0
    assert cli(db_path, "order", "list", env={"LOGNAME": "alice_b"}).returncode == 0

    def listed(*options: str) -> list[tuple[str, str]]:
        return [(entry["command"], entry["actor"]) for entry in trail(db_path, *options)]

    assert listed("--command", "partner") == [("partner list", "alice (as root)"), ("partner list", "alice")]
    assert listed("--command", " partner   list ") == listed("--command", "partner")
    assert listed("--command", "part") == []  # words, not the start of one
    assert listed("--actor", "alice", "--command", "credential") == [("credential list", "bob (as alice)")]
    assert listed("--actor", "bob") == [("credential list", "bob (as alice)")]
    assert listed("--actor", "alice_") == []  # a login, not a pattern: "_" is no wildcard
    assert [command for command, _ in listed("--actor", "alice")] == [
        "credential list", "partner list", "partner list", "migrate",
    ]  # fmt: skip
    # `audit list` does not list itself while it runs (it is recorded, and shows from the next listing on).
    assert listed("--command", "audit list", "--limit", "1") == [("audit list", getpass.getuser())]


def started_rows(db_path: Path) -> list[tuple[str, int | None]]:
    with closing(sqlite3.connect(db_path)) as connection:
        return list(connection.execute("SELECT command, exit_code FROM operator_commands WHERE command != 'migrate'"))


def test_the_previous_releases_trail_survives_the_upgrade_and_a_never_ended_command_the_downgrade(
    tmp_path: Path,
) -> None:
    db_path = tmp_path / "audit.db"
    url = sqlite_url(db_path)
    assert cli(db_path, "migrate").returncode == 0
    downgraded_to(url, "0028")
    with closing(sqlite3.connect(db_path)) as connection, connection:
        # As the release at 0028 wrote it: once the command ended, no start.
        connection.execute(
            "INSERT INTO operator_commands (at, actor, host, command, arguments, exit_code)"
            " VALUES ('2026-12-07 10:00:00.000000', 'alice', 'ops-1', 'partner list', '', 0)"
        )
    assert cli(db_path, "migrate").returncode == 0
    earlier = trail(db_path, "--command", "partner list")
    assert [(entry["started_at"], entry["at"], entry["exit_code"]) for entry in earlier] == [
        (None, "2026-12-07T10:00:00+00:00", 0)
    ]
    assert "partner list" in cli(db_path, "audit", "list").stdout

    with closing(sqlite3.connect(db_path)) as connection, connection:
        connection.execute("UPDATE operator_commands SET exit_code = NULL WHERE command = 'partner list'")
    downgraded_to(url, "0028")
    with closing(sqlite3.connect(db_path)) as connection:
        assert list(connection.execute("SELECT exit_code FROM operator_commands WHERE command = 'partner list'")) == [
            (-1,)
        ]


def test_each_entry_is_also_sent_to_the_syslog_the_settings_name(tmp_path: Path) -> None:
    db_path = tmp_path / "audit.db"
    assert cli(db_path, "migrate").returncode == 0
    with closing(socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)) as syslog:
        syslog.bind(str(tmp_path / "log"))
        syslog.settimeout(10)
        erased = cli(db_path, "customer", "erase", "--partner", "nope", "--email", "Anna.Berg@example.org",
                     env={"ORDERHUB_AUDIT_SYSLOG": str(tmp_path / "log")})  # fmt: skip
        assert erased.returncode == 1 and "warning" not in erased.stderr
        lines = [syslog.recv(65536).decode(), syslog.recv(65536).decode()]

    prefix = re.compile(r"<85>orderhub\[(\d+)\]: audit ")  # authpriv.notice, as sudo's lines
    assert all(prefix.match(line) for line in lines), lines
    started, ended = (json.loads(prefix.sub("", line, count=1)) for line in lines)
    trail_id = started["trail_id"]
    assert isinstance(trail_id, int)
    arguments = f"--partner nope --email 'A***@example.org' --db {sqlite_url(db_path)}"
    common = {"trail_id": trail_id, "database": sqlite_url(db_path), "actor": getpass.getuser(),
              "host": socket.gethostname(), "command": "customer erase", "arguments": arguments}  # fmt: skip
    assert started == {"event": "started", **common}
    assert ended == {"event": "ended", **common, "exit_code": 1}
    assert "Anna" not in "".join(lines)
    assert [entry["arguments"] for entry in trail(db_path, "--command", "customer")] == [arguments]


def test_a_syslog_that_cannot_be_reached_is_said_once_and_the_command_goes_on(tmp_path: Path) -> None:
    db_path = tmp_path / "audit.db"
    assert cli(db_path, "migrate").returncode == 0
    listed = cli(db_path, "partner", "list", env={"ORDERHUB_AUDIT_SYSLOG": str(tmp_path / "no-log")})
    assert listed.returncode == 0
    assert (
        listed.stderr
        == f"warning: the command was not sent to the syslog at {tmp_path / 'no-log'} (No such file or directory)\n"
    )
    assert [entry["command"] for entry in trail(db_path, "--command", "partner")] == ["partner list"]
    refused = cli(db_path, "partner", "list", env={"ORDERHUB_AUDIT_SYSLOG": "dev/log"})
    assert refused.returncode == 1
    assert "ORDERHUB_AUDIT_SYSLOG must be empty or the absolute path of a syslog socket" in refused.stderr
