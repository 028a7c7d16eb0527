"""What the operator typed or a file holds is shown as it is, [brackets] and all: the console reads
"[red]x" as its markup, which would show "x", naming another file, id or value than the one given
(a database path that names a file that is there, an ICCID the file does not hold)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.integration.support import run_cli, sqlite_url

pytestmark = pytest.mark.integration

# (the command's arguments, the one line it prints to stderr), on a migrated database.
REFUSED = [
    (["inventory", "set-state", "8944000000000000001", "[red]x"],
     "error: unknown state '[red]x': downloaded or installed (as the SM-DP+ reports it)"),
    (["inventory", "set-state", "[red]1", "installed"], "error: no eSIM profile [red]1"),
    (["line", "show", "CR", "[red]1[/red]"], "error: [red]1[/red] is not a line of business unit CR"),
    (["access", "show", "[b]a"], "error: no access [b]a"),
    (["access", "set-state", "[b]a", "blocked"], "error: no access [b]a"),
    (["partner", "set-offerings", "co", "--offering", "[b]x"], "error: '[b]x': expected product_id/offering_id"),
]  # fmt: skip


@pytest.fixture
def url(tmp_path: Path) -> str:
    url = sqlite_url(tmp_path / "orderhub.db")
    co = ["partner", "create", "co", "--name", "Co", "--role", "COMMUNICATION_OPERATOR", "--currency", "SEK"]
    for setup in (["migrate"], co):
        assert run_cli(*setup, "--db", url, cwd=tmp_path).returncode == 0
    return url


@pytest.mark.parametrize(("args", "line"), REFUSED)
def test_a_value_in_brackets_is_named_as_given(tmp_path: Path, url: str, args: list[str], line: str) -> None:
    result = run_cli(*args, "--db", url, cwd=tmp_path)
    assert (result.returncode, result.stderr, result.stdout) == (1, f"{line}\n", "")


def test_a_database_path_in_brackets_is_not_another_file(tmp_path: Path) -> None:
    (tmp_path / "x.db").write_bytes(b"")  # what "[red]x.db" would read as: a file that is there
    result = run_cli("partner", "list", "--db", sqlite_url(tmp_path / "[red]x.db"), cwd=tmp_path)
    assert result.returncode == 1
    assert result.stderr.startswith(f"error: no database at {tmp_path}/[red]x.db (create it with"), result.stderr


def test_a_backup_names_the_file_it_wrote_or_refused(tmp_path: Path, url: str) -> None:
    (tmp_path / "[b]backups").mkdir()
    target = tmp_path / "[b]backups" / "b.db"
    written = run_cli("backup", target, "--db", url, cwd=tmp_path)
    assert written.returncode == 0, written.stderr
    assert written.stdout.startswith(f"backup written: {target} ("), written.stdout
    again = run_cli("backup", target, "--db", url, cwd=tmp_path)
    assert (again.returncode, again.stderr) == (1, f"error: {target} already exists: choose a new file\n")


def test_an_inventory_import_quotes_a_rejected_line_as_the_file_has_it(tmp_path: Path, url: str) -> None:
    csv = tmp_path / "profiles.csv"
    csv.write_text("iccid,matching_id,smdp_address\n[red]123[/red],M,smdp.example.com\n")
    result = run_cli("inventory", "import", csv, "--batch", "b1", "--db", url, cwd=tmp_path)
    assert result.returncode == 2, result.stderr
    assert "  line 2: bad ICCID '[red]123[/red]': an ICCID has only digits" in result.stdout, result.stdout


def test_a_database_the_command_cannot_use_is_named_as_given(tmp_path: Path) -> None:
    (tmp_path / "[red]d.db").mkdir()  # a directory where the database file should be
    result = run_cli("partner", "list", "--db", sqlite_url(tmp_path / "[red]d.db"), cwd=tmp_path)
    assert result.returncode == 1
    assert result.stderr.startswith(f"error: cannot use the database: {tmp_path}/[red]d.db is a directory"), (
        result.stderr
    )
    # A setting's value holding a newline stays on the one line of its refusal.
    refused = run_cli(
        "partner", "list", "--db", sqlite_url(tmp_path / "x.db"), cwd=tmp_path, env={"ORDERHUB_PORT": "8\n0"}
    )
    assert (refused.returncode, refused.stderr.count("\n")) == (1, 1), refused.stderr
