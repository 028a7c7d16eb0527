"""Session-wide test set-up: PostgreSQL databases made for the run are dropped at its end."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.databases import drop_created


@pytest.fixture(autouse=True, scope="session")
def _drop_test_databases() -> Iterator[None]:
    yield
    drop_created()
