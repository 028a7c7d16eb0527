"""/metrics when the inventory cannot be read: the levels last read, never a 500."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
import sqlalchemy as sa

from tests.api.support import running_server


def test_metrics_keep_the_last_levels_when_the_database_cannot_be_opened(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with running_server(tmp_path / "m.db") as server, server.client() as http:
        first = http.get("/metrics")
        assert first.status_code == 200
        levels = [line for line in first.text.splitlines() if line.startswith("orderhub_esim_profiles{")]
        assert levels

        def no_descriptor_left() -> dict[str, int]:
            # What the store raises, raw, when SQLite finds no file descriptor to open the database with.
            cause = sqlite3.OperationalError("unable to open database file")
            raise sa.exc.OperationalError("SELECT state, count(*) FROM esim_profiles", {}, cause)

        monkeypatch.setattr(server.services.inventory, "levels", no_descriptor_left)
        answer = http.get("/metrics")
    assert answer.status_code == 200, answer.text
    assert [line for line in answer.text.splitlines() if line.startswith("orderhub_esim_profiles{")] == levels
