"""Fixtures of the integration tests; the helpers themselves live in support.py."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.integration.support import OrderhubProcesses


@pytest.fixture
def orderhub_procs(tmp_path: Path) -> Iterator[OrderhubProcesses]:
    processes = OrderhubProcesses(tmp_path)
    try:
        yield processes
    finally:
        processes.close()
