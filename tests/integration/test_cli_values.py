"""Values the store could not keep as given (longer than a column, beyond its integers) or that no partner
could ever order on are refused before the store, in one line, exit 1, and alike on SQLite and PostgreSQL
(tests/postgres/test_cli_values.py runs the same cases there)."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa

from orderhub.store.database import create_engine
from tests.integration.support import run_cli, sqlite_url

pytestmark = pytest.mark.integration

_ACCESS_ID = "must be 1-36 characters of A-Z, a-z, 0-9, '-', '.'"
_RATE_LIMIT = "error: the rate limit must be a whole number of requests a minute from 1 to 1000000"
_NAME = "error: name must be at most 200 characters"
_CO = ["--role", "COMMUNICATION_OPERATOR", "--currency", "SEK"]

# (the command's arguments, the one line it prints); each runs on a database where partner acme is a CO.
REFUSED = [
    # onapi-order's coAccessId is ^[-0-9a-zA-Z.]{1,36}$: an access of any other id could never be ordered on.
    (["access", "add", ""], f"error: access id '' {_ACCESS_ID}"),
    (["access", "add", "a b"], f"error: access id 'a b' {_ACCESS_ID}"),
    (["access", "add", "a" * 65], f"error: access id '{'a' * 65}' {_ACCESS_ID}"),
    (["access", "add", "a" * 500], f"error: access id '{'a' * 500}' {_ACCESS_ID}"),
    (["access", "add", "x\x1b[31m"], f"error: access id 'x\\x1b[31m' {_ACCESS_ID}"),  # shown, not obeyed
    # Product names: the store's 200 characters.
    (["line", "add-product", "LPX", "--name", "N" * 300], _NAME),
    (["access", "add-product", "NP1", "--name", "N" * 300], _NAME),
    # Rate limits: beyond SQLite's 64-bit and PostgreSQL's 32-bit integers alike, and below 1.
    (["partner", "set-rate-limit", "acme", "99999999999999999999"], _RATE_LIMIT),
    (["partner", "set-rate-limit", "acme", "2147483648"], _RATE_LIMIT),
    (["partner", "set-rate-limit", "acme", "0"], _RATE_LIMIT),
    (["partner", "create", "big", "--name", "Big", *_CO, "--rate-limit", "99999999999999999999"], _RATE_LIMIT),
    # A profile's batch name: the store's 100 characters, given or the file's name (read before the file).
    (["inventory", "import", "p.csv", "--batch", "b" * 101], "error: --batch is 101 characters long: at most 100"),
    (["inventory", "import", "s" * 101 + ".csv"],
     f"error: the batch name (the file's, without --batch) '{'s' * 101}' is 101 characters long: at most 100"),
]  # fmt: skip


def database_with_a_co(url: str, cwd: Path) -> None:
    """Migrated, with the communication operator acme the rate-limit cases change."""
    for args in (["migrate"], ["partner", "create", "acme", "--name", "Acme", *_CO]):
        result = run_cli(*args, "--db", url, cwd=cwd)
        assert result.returncode == 0, result.stderr


def _kept(url: str) -> list[object]:
    """What the commands would have written: accesses, products with their names, rate limits."""
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            return [
                connection.execute(sa.text(query)).all()
                for query in (
                    "SELECT ref FROM accesses ORDER BY ref",
                    "SELECT id, name FROM products ORDER BY id",
                    "SELECT id, rate_limit_per_minute FROM partners ORDER BY id",
                )
            ]
    finally:
        engine.dispose()


def assert_refused_in_one_line(url: str, cwd: Path, args: list[str], line: str) -> None:
    before = _kept(url)
    result = run_cli(*args, "--db", url, cwd=cwd)
    assert (result.returncode, result.stderr, result.stdout) == (1, f"{line}\n", "")
    assert _kept(url) == before


@pytest.mark.parametrize(("args", "line"), REFUSED)
def test_a_value_the_store_cannot_keep_is_refused_in_one_line(tmp_path: Path, args: list[str], line: str) -> None:
    url = sqlite_url(tmp_path / "orderhub.db")
    database_with_a_co(url, tmp_path)
    assert_refused_in_one_line(url, tmp_path, args, line)


def test_a_partner_given_a_limit_above_the_range_by_an_earlier_version_can_still_be_changed(tmp_path: Path) -> None:
    """The range is checked where a limit is set: a partner stored with more (earlier versions took up to
    2**31 - 1) keeps it while its other fields change."""
    url = sqlite_url(tmp_path / "orderhub.db")
    database_with_a_co(url, tmp_path)
    engine = create_engine(url)
    try:
        with engine.begin() as connection:
            connection.execute(sa.text("UPDATE partners SET rate_limit_per_minute = 5000000 WHERE id = 'acme'"))
    finally:
        engine.dispose()
    result = run_cli("partner", "update", "acme", "--language", "sv", "--db", url, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert _kept(url)[2] == [("acme", 5000000)]
