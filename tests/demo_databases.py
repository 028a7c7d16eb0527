"""Databases with the schema and the demo data, for tests that start from them.

Migrating and loading the demo (its secrets' scrypt hashes included) took about a second of CPU for each
of the suite's hundreds of databases. So each process makes one such database per inventory size, with
orderhub's own migrations and demo loader, and every new test database starts as a copy of it
(tests.databases: orderhub's own backup on SQLite, a template on PostgreSQL). A test that migrates or
loads the demo itself still can: both find the work done.
"""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from pathlib import Path

from orderhub.bootstrap import build_services
from orderhub.services.demo import load_demo_data
from orderhub.settings import Settings
from tests.databases import database_url

_made: dict[int, str] = {}


def demo_database_url(db_path: Path, inventory_size: int) -> str:
    """The database for ``db_path`` (tests.databases.database_url): when new, a copy of a migrated one with
    the demo data and ``inventory_size`` eSIM profiles; when there already, as it is."""
    return database_url(db_path, copy_of=_original(inventory_size))


def _original(inventory_size: int) -> str:
    if inventory_size not in _made:
        folder = Path(tempfile.mkdtemp(prefix="orderhub-demo-"))
        atexit.register(shutil.rmtree, folder, ignore_errors=True)
        url = database_url(folder / f"demo-{os.getpid()}-{inventory_size}.db")
        services = build_services(Settings(database_url=url, demo_inventory_size=inventory_size))
        try:
            services.migrate()
            load_demo_data(services.uow_factory, inventory_size=inventory_size)
        finally:
            services.close()  # a PostgreSQL template must have no one connected
        _made[inventory_size] = url
    return _made[inventory_size]
