"""A setting orderhub cannot use stops every command with one line naming it, before anything is done."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.integration.support import free_port, run_cli, sqlite_url

pytestmark = pytest.mark.integration


@pytest.mark.parametrize(
    ("variable", "value", "line"),
    [
        (
            "ORDERHUB_SQLITE_SYNCHRONOUS",
            "bogus",
            "error: ORDERHUB_SQLITE_SYNCHRONOUS must be one of FULL, EXTRA, NORMAL (got 'bogus')",
        ),
        ("ORDERHUB_PORT", "abc", "error: ORDERHUB_PORT must be a whole number from 1 to 65535 (got 'abc')"),
        (
            "ORDERHUB_LOG_LEVEL",
            "bogus",
            "error: ORDERHUB_LOG_LEVEL must be one of DEBUG, INFO, WARNING, ERROR, CRITICAL (got 'bogus')",
        ),
        (
            "ORDERHUB_FULFIL_INLINE",
            "maybe",
            "error: ORDERHUB_FULFIL_INLINE must be true or false (or 1/0, yes/no, on/off) (got 'maybe')",
        ),
    ],
)
@pytest.mark.parametrize("command", [["serve", "--port", "0"], ["worker"], ["partner", "list"]])
def test_a_bad_setting_stops_the_command_with_one_line(
    tmp_path: Path, command: list[str], variable: str, value: str, line: str
) -> None:
    if command[0] == "serve":
        command = ["serve", "--port", str(free_port())]
    db_path = tmp_path / "cli.db"
    result = run_cli(*command, "--db", sqlite_url(db_path), cwd=tmp_path, env={variable: value}, timeout=30)
    assert (result.returncode, result.stderr.strip(), result.stdout) == (1, line, "")
    assert not db_path.exists()  # refused before the database was touched


def test_a_database_url_without_a_scheme_is_named_not_a_traceback(tmp_path: Path) -> None:
    result = run_cli("migrate", cwd=tmp_path, env={"ORDERHUB_DATABASE_URL": str(tmp_path / "file.db")})
    assert result.returncode == 1
    assert result.stderr.startswith("error: ORDERHUB_DATABASE_URL must be a database URL, such as sqlite:///")
    assert result.stderr.strip().endswith(f"(got '{tmp_path / 'file.db'}')")
    assert len(result.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "file.db").exists()


def test_a_misspelled_variable_is_named_with_the_setting_it_was_meant_to_be(tmp_path: Path) -> None:
    typo = sqlite_url(tmp_path / "meant.db")
    result = run_cli("migrate", "--db", sqlite_url(tmp_path / "cli.db"), cwd=tmp_path,
                     env={"ORDERHUB_DATABSE_URL": typo, "ORDERHUB_COLOUR": "blue"})  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert result.stderr.splitlines() == [
        "warning: ORDERHUB_COLOUR is not an orderhub setting: ignored",
        "warning: ORDERHUB_DATABSE_URL is not an orderhub setting (did you mean ORDERHUB_DATABASE_URL?): ignored",
    ]
    assert not (tmp_path / "meant.db").exists()


_IN_MEMORY = (
    "must be a database file or server, not an in-memory SQLite database, which loses every order when"
    " orderhub stops (such as sqlite:///path/to/orderhub.db)"
)
_NOT_SQLITE = "error: cannot use the database: {path} is not a SQLite database"
_NO_DIRECTORY = "error: cannot use the database: {missing} does not exist: create it, or check the database's path"
_SERVE_PORT = "error: --port must be a whole number from 1 to 65535 (got '{}')"
_WORKER_PORT = "error: --port must be a whole number from 0 to 65535 (got '{}')"


@pytest.mark.parametrize(
    ("args", "env", "line"),
    [
        # A file that is not a SQLite database is named, for every command that opens it.
        (["partner", "list", "--db", "{not_a_db}"], {}, _NOT_SQLITE),
        (["migrate", "--db", "{not_a_db}"], {}, _NOT_SQLITE),
        (["serve", "--port", "{port}", "--db", "{not_a_db}"], {}, _NOT_SQLITE),
        # A directory that is not there is a mistyped path, not a place to start an empty database.
        (["migrate", "--db", "{mistyped}"], {}, _NO_DIRECTORY),
        (["serve", "--port", "{port}", "--db", "{mistyped}"], {}, _NO_DIRECTORY),
        # An in-memory database would be a new, empty one in each process, gone when it stops.
        (["partner", "list", "--db", "sqlite://"], {}, f"error: --db {_IN_MEMORY} (got 'sqlite://')"),
        (["partner", "list", "--db", "sqlite:///:memory:"], {}, f"error: --db {_IN_MEMORY} (got 'sqlite:///:memory:')"),
        (["migrate"], {"ORDERHUB_DATABASE_URL": "sqlite://"}, f"error: ORDERHUB_DATABASE_URL {_IN_MEMORY} (got 'sqlite://')"),
        # --port follows ORDERHUB_PORT's rule; the worker's 0 (its default) means no operations endpoint.
        (["serve", "--port", "73840", "--db", "{db}"], {}, _SERVE_PORT.format(73840)),
        (["serve", "--port", "0", "--db", "{db}"], {}, _SERVE_PORT.format(0)),
        (["serve", "--port", "-1", "--db", "{db}"], {}, _SERVE_PORT.format(-1)),
        (["worker", "--port", "73841", "--db", "{db}"], {}, _WORKER_PORT.format(73841)),
        (["worker", "--port", "-1", "--db", "{db}"], {}, _WORKER_PORT.format(-1)),
    ],
)  # fmt: skip
def test_a_database_or_port_orderhub_cannot_use_is_refused_in_one_line(
    tmp_path: Path, args: list[str], env: dict[str, str], line: str
) -> None:
    not_a_db = tmp_path / "x.db"
    not_a_db.write_text("hi\n")
    missing = tmp_path / "orderhbu"
    values = {"not_a_db": sqlite_url(not_a_db), "db": sqlite_url(tmp_path / "cli.db"), "port": str(free_port())}
    values["mistyped"] = sqlite_url(missing / "orderhub.db")
    result = run_cli(*[arg.format(**values) for arg in args], cwd=tmp_path, env=env, timeout=30)
    expected = line.format(path=not_a_db, missing=missing)
    assert (result.returncode, result.stderr.strip(), result.stdout) == (1, expected, "")
    assert not_a_db.read_text() == "hi\n"
    assert not missing.exists()
    assert not (tmp_path / "cli.db").exists()  # refused before a database was made


_HOST_AND_PORT = (
    "must be a database URL whose host is followed by a port from 1 to 65535, if any (host:5432, or [::1]:5432"
    " for an IPv6 address), such as postgresql://user@host:5432/name"
)
_NO_DATABASE_URL = "must be a database URL, such as sqlite:///path/to/orderhub.db or postgresql://user@host:5432/name"


@pytest.mark.parametrize(
    ("args", "env", "line"),
    [
        # A port that is no number, or an IPv6 address without its closing bracket, is named (it was a
        # 60-line traceback from int()), its password masked as in logs.
        (["partner", "list", "--db", "postgresql://u:S3cretPW@127.0.0.1:54x2/db"], {},
         f"error: --db {_HOST_AND_PORT} (got 'postgresql://***@127.0.0.1:54x2/db')"),
        (["partner", "list", "--db", "postgresql://u:S3cretPW@[::1:5432/db"], {},
         f"error: --db {_HOST_AND_PORT} (got 'postgresql://***@[::1:5432/db')"),
        (["serve", "--port", "{port}"], {"ORDERHUB_DATABASE_URL": "postgresql://u:S3cretPW@127.0.0.1:54x2/db"},
         f"error: ORDERHUB_DATABASE_URL {_HOST_AND_PORT} (got 'postgresql://***@127.0.0.1:54x2/db')"),
        (["migrate"], {"ORDERHUB_DATABASE_URL": "postgresql://u:S3cretPW@127.0.0.1:99999/db"},
         f"error: ORDERHUB_DATABASE_URL {_HOST_AND_PORT} (got 'postgresql://***@127.0.0.1:99999/db')"),
        # A scheme orderhub does not serve: the user and password are not shown (SECURITY.md), whatever
        # they hold, nor a password given as a parameter.
        (["serve", "--port", "{port}"], {"ORDERHUB_DATABASE_URL": "mysql://orderhub:S3cret/PW@db.internal:3306/orderhub"},
         f"error: ORDERHUB_DATABASE_URL {_NO_DATABASE_URL} (got 'mysql://***@db.internal:3306/orderhub')"),
        (["worker"], {"ORDERHUB_DATABASE_URL": "postgresql//orderhub:S3cretPW@db.internal/orderhub"},
         f"error: ORDERHUB_DATABASE_URL {_NO_DATABASE_URL} (got 'postgresql//***@db.internal/orderhub')"),
        (["migrate", "--db", "mysql://db.internal/orderhub?user=orderhub&password=S3cretPW"], {},
         f"error: --db {_NO_DATABASE_URL} (got 'mysql://db.internal/orderhub?user=orderhub&password=***')"),
        (["serve", "--port", "{port}", "--db", "{db}"],
         {"ORDERHUB_PUBLIC_URL": "https//partner:S3cretPW@orders.example.com"},
         "error: ORDERHUB_PUBLIC_URL must be empty or an http:// or https:// URL, such as https://orders.example.com"
         " (got 'https//***@orders.example.com')"),
        # postgres:// (what many platforms hand out) is PostgreSQL: tried, and the password not shown.
        (["serve", "--port", "{port}"], {"ORDERHUB_DATABASE_URL": "postgres://orderhub:S3cretPW@127.0.0.1:1/orderhub"},
         'error: cannot use the database: connection failed: connection to server at "127.0.0.1", port 1 failed:'
         " Connection refused"),
    ],
)  # fmt: skip
def test_a_database_url_orderhub_cannot_use_is_named_in_one_line_without_its_password(
    tmp_path: Path, args: list[str], env: dict[str, str], line: str
) -> None:
    values = {"port": str(free_port()), "db": sqlite_url(tmp_path / "cli.db")}
    result = run_cli(*[arg.format(**values) for arg in args], cwd=tmp_path, env=env, timeout=30)
    assert (result.returncode, result.stderr.strip(), result.stdout) == (1, line, "")
    assert "S3cret" not in result.stderr + result.stdout
    assert not (tmp_path / "cli.db").exists()


@pytest.mark.parametrize("command", [["migrate"], ["partner", "list"], ["serve", "--port", "{port}"], ["worker"]])
def test_a_database_url_naming_a_directory_says_so(tmp_path: Path, command: list[str]) -> None:
    """SQLite said only "unable to open database file"."""
    args = [arg.format(port=free_port()) for arg in command]
    result = run_cli(*args, "--db", sqlite_url(tmp_path), cwd=tmp_path, timeout=30)
    line = (
        f"error: cannot use the database: {tmp_path} is a directory, not a SQLite database file"
        f" (such as {tmp_path / 'orderhub.db'})"
    )
    assert (result.returncode, result.stderr.strip(), result.stdout) == (1, line, "")
    assert list(tmp_path.iterdir()) == []


def test_a_backup_of_a_directory_says_so(tmp_path: Path) -> None:
    result = run_cli("backup", tmp_path / "copy.db", "--db", sqlite_url(tmp_path), cwd=tmp_path, timeout=30)
    expected = f"error: {tmp_path} is a directory, not a SQLite database file"
    assert (result.returncode, result.stderr.strip(), result.stdout) == (1, expected, "")
