"""orderhub knows its migrations from their file names, without importing Alembic: Alembic must agree."""

from __future__ import annotations

from alembic.config import Config
from alembic.script import ScriptDirectory

from orderhub.store import migrate


def _alembic_history() -> list[tuple[str, str | None]]:
    config = Config()
    config.set_main_option("script_location", str(migrate._MIGRATIONS))
    scripts = reversed(list(ScriptDirectory.from_config(config).walk_revisions()))
    return [(script.revision, script.down_revision) for script in scripts]  # type: ignore[misc]


def test_the_migrations_named_by_their_files_are_alembics_one_line_of_history_in_order() -> None:
    history = _alembic_history()
    assert [revision for revision, _ in history] == list(migrate.known_revisions())
    # One line: each migration follows the one before it, so the last file is the head.
    assert [down for _, down in history] == [None, *migrate.known_revisions()[:-1]]
    assert migrate.head_revision() == history[-1][0]
