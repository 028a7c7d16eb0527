"""A name shown in lists and logs one line a thing (a partner's, a product's, a network offering's) is
refused with a newline, a tab or another control character in it, in one line naming the rule: such a
name split `partner list` and the products' listings in two, or drove the operator's terminal."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.integration.support import run_cli, sqlite_url

pytestmark = pytest.mark.integration

NOT_ONE_LINE = "name must be one line of text (no newline, tab or other control character)"


def test_names_with_control_characters_are_refused(tmp_path: Path) -> None:
    url = sqlite_url(tmp_path / "orderhub.db")

    def cli(*args: str) -> tuple[int, str]:
        result = run_cli(*args, "--db", url, cwd=tmp_path)
        return result.returncode, result.stderr

    assert cli("migrate")[0] == 0
    partner = ["--role", "COMMUNICATION_OPERATOR", "--currency", "SEK"]
    assert cli("partner", "create", "co", "--name", "Two\nlines", *partner) == (1, f"error: {NOT_ONE_LINE}\n")
    assert cli("partner", "create", "co", "--name", "Fibra Oy", *partner)[0] == 0
    assert cli("partner", "update", "co", "--name", "Esc\x1b[2J") == (1, f"error: {NOT_ONE_LINE}\n")
    assert cli("access", "add-product", "iptv", "--name", "IP\tTV")[0] == 1
    assert cli("access", "add-product", "iptv", "--name", "IPTV")[0] == 0
    assert cli("access", "add-offering", "iptv", "basic", "--name", "Basic\n") == (1, f"error: {NOT_ONE_LINE}\n")

    products = tmp_path / "products.json"
    products.write_text(json.dumps([{"id": "p1", "name": "Data\r\n5 GB"}, {"id": "p2", "name": "Data 5 GB — EU"}]))
    imported = run_cli("product", "import", products, "--db", url, cwd=tmp_path)
    assert imported.returncode == 2, imported.stderr
    assert NOT_ONE_LINE in imported.stdout and "1 product imported" in imported.stdout, imported.stdout
