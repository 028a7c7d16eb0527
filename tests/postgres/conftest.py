"""Tests that only mean something on PostgreSQL (several processes, row locks); ``./dev test`` runs
them in its PostgreSQL pass."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from orderhub.bootstrap import Services, build_services
from orderhub.settings import Settings
from tests.databases import on_postgres
from tests.demo_databases import demo_database_url
from tests.integration.support import OrderhubProcesses

if not on_postgres():
    pytest.skip("set ORDERHUB_TEST_POSTGRES to run the PostgreSQL tests", allow_module_level=True)


@pytest.fixture
def pg_url(tmp_path: Path) -> str:
    """A fresh PostgreSQL database with the schema and the demo data."""
    return demo_database_url(tmp_path / "pg.db", inventory_size=400)


@pytest.fixture
def pg_services(pg_url: str) -> Iterator[Services]:
    """One process's services on that database."""
    services = build_services(Settings(database_url=pg_url))
    try:
        yield services
    finally:
        services.close()


@pytest.fixture
def two_processes(pg_url: str) -> Iterator[tuple[Services, Services]]:
    """Two independent sets of services on one database: each with its own writer and connections, as
    two API processes have, so their transactions really run at the same time."""
    pair = tuple(build_services(Settings(database_url=pg_url)) for _ in range(2))
    try:
        yield pair  # type: ignore[misc]
    finally:
        for services in pair:
            services.close()


@pytest.fixture
def orderhub_procs(tmp_path: Path) -> Iterator[OrderhubProcesses]:
    processes = OrderhubProcesses(tmp_path)
    try:
        yield processes
    finally:
        processes.close()
