"""A consistent copy of a SQLite database, taken while orderhub serves from it (``orderhub backup``).

Copying the file is not a backup: in WAL mode the newest commits live in ``-wal`` beside it, and a copy
made while a commit runs may hold half of it. SQLite's backup API reads the database the way a query
does, in one read transaction, so the copy is the database as of one commit; in WAL mode writers go on
meanwhile, so orders keep being accepted while it runs.
"""

from __future__ import annotations

import os
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path

from orderhub.store.database import sqlite_path


class BackupRefused(Exception):
    """Nothing was written: the source or the target is not what a backup needs."""


@dataclass(frozen=True)
class BackupReport:
    target: Path
    size_bytes: int
    orders: int
    migration: str | None
    seconds: float


def backup_sqlite(url: str, target: Path) -> BackupReport:
    """Copies the SQLite database at ``url`` to ``target``, a new file readable by its owner only
    (it holds customers' personal data and the partners' hashed secrets)."""
    source_path = sqlite_path(url)
    if source_path is None:
        raise BackupRefused("backup copies a SQLite database file; for PostgreSQL use pg_dump")
    if source_path.is_dir():
        raise BackupRefused(f"{source_path} is a directory, not a SQLite database file")
    if not source_path.is_file():
        raise BackupRefused(f"no database at {source_path}")
    target = target.expanduser().resolve()
    if target == source_path:
        raise BackupRefused("the target is the database itself")
    try:
        there = target.exists()
    except OSError as exc:  # a name too long for the file system
        raise BackupRefused(f"cannot write {target}: {exc.strerror}") from exc
    if there:
        raise BackupRefused(f"{target} already exists: choose a new file")
    if not target.parent.is_dir():
        raise BackupRefused(f"no directory {target.parent}")
    started = time.monotonic()
    # Written beside the target and renamed at the end, so a target that exists is a whole backup.
    partial = target.with_name(f".{target.name}.{os.getpid()}.partial")
    try:
        os.close(os.open(partial, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
    except OSError as exc:
        # A directory orderhub may not write (another owner, read-only, /proc): refused, nothing written.
        raise BackupRefused(f"cannot write in {target.parent}: {exc.strerror}") from exc
    try:
        orders, migration = _copy(source_path, partial)
        _fsync(partial)
        os.rename(partial, target)
        _fsync(target.parent)
    except OSError as exc:
        partial.unlink(missing_ok=True)
        raise BackupRefused(f"cannot write {target}: {exc.strerror}") from exc
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    return BackupReport(target, target.stat().st_size, orders, migration, time.monotonic() - started)


def _copy(source_path: Path, partial: Path) -> tuple[int, str | None]:
    # Read-only: the backup never creates, migrates or writes the database it copies.
    source = sqlite3.connect(f"{source_path.as_uri()}?mode=ro", uri=True, timeout=30)
    try:
        copy = sqlite3.connect(partial)
        try:
            # All pages in one step, so in one read transaction: page by page, every commit made
            # meanwhile would start the copy over, and under steady orders it might never end.
            source.backup(copy, pages=-1)
            # One self-contained file, whatever the source's journal mode (a served database is WAL).
            copy.execute("PRAGMA journal_mode=DELETE")
            (check,) = copy.execute("PRAGMA quick_check").fetchone()
            if check != "ok":
                raise BackupRefused(f"the copy failed its integrity check: {check}")
            (orders,) = copy.execute("SELECT count(*) FROM orders").fetchone()
            migration = copy.execute("SELECT version_num FROM alembic_version").fetchone()
        finally:
            copy.close()
    except sqlite3.DatabaseError as exc:
        raise BackupRefused(f"cannot copy {source_path}: {exc}") from exc
    finally:
        source.close()
    return int(orders), migration[0] if migration else None


def _fsync(path: Path) -> None:
    descriptor = os.open(path, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
