"""The additive-migrations rule (tests/integration/test_additive_migrations.py) on PostgreSQL, whose
schema says more than SQLite's (types and lengths as declared, constraints as created)."""

from __future__ import annotations

from pathlib import Path

from tests.databases import database_url
from tests.integration.test_additive_migrations import NOT_ADDITIVE, non_additive_steps


def test_every_migration_keeps_what_an_older_release_uses_or_says_why_not_on_postgresql(tmp_path: Path) -> None:
    steps = non_additive_steps(database_url(tmp_path / "steps.db"))
    assert {revision: found for revision, found in steps.items() if found and revision not in NOT_ADDITIVE} == {}
    assert [revision for revision in NOT_ADDITIVE if not steps[revision]] == []
