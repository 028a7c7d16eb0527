"""Where tests keep their data: a SQLite file by default; a fresh PostgreSQL database per test server
when ``ORDERHUB_TEST_POSTGRES`` names a PostgreSQL server (``./dev test`` runs the API tests both ways).
"""

from __future__ import annotations

import hashlib
import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import sqlalchemy as sa

from orderhub.store.backup import backup_sqlite

POSTGRES = os.environ.get("ORDERHUB_TEST_POSTGRES", "")
# How the databases made for tests are named: runs that share a server may each keep to names of their own.
PREFIX = os.environ.get("ORDERHUB_TEST_POSTGRES_PREFIX", "oh_")
_created: set[str] = set()


def on_postgres() -> bool:
    return bool(POSTGRES)


def database_url(db_path: Path, *, copy_of: str | None = None) -> str:
    """The database for a test that would use the SQLite file ``db_path``. On PostgreSQL: a database of
    its own, named after the path, so that the same path (a restart) finds the same data again.

    ``copy_of``: the URL of a database this run made (and no longer uses) that a new database starts as a
    copy of; one that is there already is left as it is."""
    if not POSTGRES:
        if copy_of is not None and not db_path.exists():
            backup_sqlite(copy_of, db_path)  # orderhub's own copy: consistent, owner-only
        return f"sqlite:///{db_path}"
    name = PREFIX + hashlib.sha1(str(db_path).encode()).hexdigest()[:20]
    if name not in _created:
        _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        template = f' TEMPLATE "{sa.make_url(copy_of).database}"' if copy_of is not None else ""
        _admin(f'CREATE DATABASE "{name}"{template}')
        _created.add(name)
    return str(sa.make_url(POSTGRES).set(database=name))


def drop_created() -> None:
    # Side by side: each DROP DATABASE waits for a checkpoint, and PostgreSQL serves drops that wait
    # together with one checkpoint (a run's hundreds of drops took a minute one by one).
    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(lambda name: _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'), sorted(_created)))
    _created.clear()


def _admin(statement: str) -> None:
    engine = sa.create_engine(sa.make_url(POSTGRES).set(drivername="postgresql+psycopg"), isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as connection:
            connection.exec_driver_sql(statement)
    finally:
        engine.dispose()


def nested_savepoints_undo_only_the_inner_one(url: str) -> list[int]:
    """Runs a write in a savepoint, inside it a failing one in another (both share one name, as
    store.fastsql names every savepoint), then one more write; returns how far the config version
    moved after the outer savepoint and after the transaction."""
    from orderhub.store.database import create_engine
    from orderhub.store.fastsql import FastSql

    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            sql = FastSql(connection)
            seen = []
            start = connection.exec_driver_sql("SELECT version FROM config_version").scalar_one()
            connection.rollback()
            with connection.begin():
                with sql.savepoint():
                    sql.execute("UPDATE config_version SET version = version + 1")
                    try:
                        with sql.savepoint():
                            sql.execute("UPDATE config_version SET version = version + 10")
                            raise ValueError("undo me")
                    except ValueError:
                        pass
                    seen.append(sql.one("SELECT version FROM config_version")[0] - start)  # type: ignore[index]
                sql.execute("UPDATE config_version SET version = version + 100")
            seen.append(sql.one("SELECT version FROM config_version")[0] - start)  # type: ignore[index]
            return seen
    finally:
        engine.dispose()
