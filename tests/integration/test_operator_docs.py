"""What operators read: the README's demo credentials and the CLI's help."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from orderhub.domain.partners import Role
from orderhub.services.demo import demo_credentials
from tests.integration.support import run_cli

pytestmark = pytest.mark.integration

README = Path(__file__).resolve().parents[2] / "README.md"


def test_the_readme_lists_every_demo_credential_in_one_table() -> None:
    lines = README.read_text().splitlines()
    start = lines.index("| partner | client_id | client_secret | role |")
    table = []
    for line in lines[start + 2 :]:
        if not line.startswith("|"):
            break  # a blank line ends a Markdown table: what follows is no longer part of it
        table.append(line)
    rows = {cells[2].strip("` "): cells[3].strip("` ") for cells in (row.split("|") for row in table)}
    expected = {
        str(entry.get("client_id", entry.get("username"))): str(entry.get("client_secret", entry.get("password")))
        for entries in demo_credentials().values()
        for entry in entries
    }
    assert {client_id: rows.get(client_id) for client_id in expected} == expected


def test_partner_create_help_names_every_role(tmp_path: Path) -> None:
    result = run_cli("partner", "create", "--help", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    flat = re.sub(r"[│\s]+", " ", result.stdout)
    role_help = flat[flat.index("--role ") : flat.index("--currency ")]  # the option's help, however wrapped
    for role in Role:
        assert role.value in role_help
