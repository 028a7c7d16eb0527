"""tests/integration/test_listened_events.py's rolling upgrade on PostgreSQL, whose trigger is its own."""

from __future__ import annotations

from pathlib import Path

from tests.databases import database_url
from tests.integration.test_listened_events import events_stored_before_0024_and_inserted_by_an_older_release_are_found


def test_events_stored_before_0024_and_inserted_by_an_older_release_are_found_on_postgresql(tmp_path: Path) -> None:
    events_stored_before_0024_and_inserted_by_an_older_release_are_found(database_url(tmp_path / "events.db"))
