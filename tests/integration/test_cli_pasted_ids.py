"""An id the operator pasted with a newline, a tab or a terminal escape in it (a copied table cell, a
script's unquoted variable) is refused in one line that shows it, written out, not obeyed: a log collector
reads one error as one line, and the terminal is not driven by what the operator typed."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.integration.support import run_cli, sqlite_url

pytestmark = pytest.mark.integration

# (the command's arguments, the one line it prints), on a migrated database with the communication operator acme.
REFUSED = [
    (["partner", "update", "no\nsuch", "--name", "N"], "error: no partner no\\nsuch"),
    (["partner", "set-roles", "a\tb\x1b[31m", "--role", "RESELLER"], "error: no partner a\\tb\\x1b[31m"),
    (["partner", "set-products", "acme", "--product", "p\r\nq"], "error: unknown products: p\\r\\nq"),
    (["order", "list", "--partner", "\u202eno"], "error: no partner \\u202eno"),
    (["customer", "export", "--partner", "acme", "--id", "x\ny"], "error: partner acme has no customer of id x\\ny"),
]


@pytest.mark.parametrize(("args", "line"), REFUSED)
def test_a_pasted_id_is_refused_in_one_line_that_shows_it(tmp_path: Path, args: list[str], line: str) -> None:
    url = sqlite_url(tmp_path / "orderhub.db")
    acme = ["partner", "create", "acme", "--name", "Acme", "--role", "RESELLER", "--currency", "USD"]
    for setup in (["migrate"], acme):
        assert run_cli(*setup, "--db", url, cwd=tmp_path).returncode == 0
    result = run_cli(*args, "--db", url, cwd=tmp_path)
    assert (result.returncode, result.stderr, result.stdout) == (1, f"{line}\n", "")
