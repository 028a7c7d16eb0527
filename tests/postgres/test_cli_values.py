"""The values tests/integration/test_cli_values.py sees refused on SQLite are refused on PostgreSQL in the
same one line (the store's columns would refuse them there, with a DataError traceback, not a line)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.integration.test_cli_values import REFUSED, assert_refused_in_one_line, database_with_a_co


@pytest.mark.parametrize(("args", "line"), REFUSED)
def test_a_value_the_store_cannot_keep_is_refused_alike_on_postgres(
    tmp_path: Path, pg_url: str, args: list[str], line: str
) -> None:
    database_with_a_co(pg_url, tmp_path)
    assert_refused_in_one_line(pg_url, tmp_path, args, line)
