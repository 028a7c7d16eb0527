"""Apply and inspect the Alembic migrations shipped inside the package.

Alembic is imported where it is used: it is a fifth of a CLI command's start-up, and most commands
(and every request but /readyz) never need it."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

if TYPE_CHECKING:
    from alembic.config import Config

_MIGRATIONS = Path(__file__).parent / "migrations"
# A PostgreSQL advisory lock key of orderhub's own ("orderhub" in ASCII, as a number).
MIGRATION_LOCK = 0x6F72646572687562


def _config(connection: sa.Connection | None = None) -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(_MIGRATIONS))
    config.attributes["connection"] = connection
    return config


class SchemaNewer(Exception):
    """The database is at a migration this orderhub does not know: a newer orderhub's. This one works on
    it (a release's migrations are additive) but can neither migrate it nor take it back."""

    def __init__(self, current: str, head: str) -> None:
        super().__init__(f"the database is at migration {current}, newer than this orderhub ({head}): upgrade orderhub")
        self.current = current
        self.head = head


class NotOrderhubDatabase(Exception):
    """The database records a migration that is neither one of this orderhub's nor a newer orderhub's
    (those are four digits, past this one's newest), or records none but holds tables: another
    application's database, which a mistyped setting pointed at. Nothing is done on it."""

    def __init__(self, revision: str | None, tables: tuple[str, ...] = ()) -> None:
        if revision is None:
            shown = ", ".join(tables[:5]) + (f" and {len(tables) - 5} more" if len(tables) > 5 else "")
            why = f"it holds tables but no migration of orderhub's: {shown}"
        else:
            why = f"its migration {revision} is not orderhub's"
        super().__init__(f"not an orderhub database ({why})")
        self.revision = revision
        self.tables = tables


def _refused(revision: str) -> Exception:
    """What a database at ``revision``, which this orderhub does not ship, is to it."""
    head = head_revision()
    if re.fullmatch(r"[0-9]{4}", revision) and revision > head:
        return SchemaNewer(revision, head)
    return NotOrderhubDatabase(revision)


@dataclass(frozen=True)
class Migrated:
    """What an upgrade did: the migration the database was at (None: no schema yet) and is at now."""

    before: str | None
    after: str | None

    def describe(self) -> str:
        if self.before == self.after:
            return f"database is at the newest migration ({self.after}): nothing to apply"
        if self.before is None:
            return f"migrated an empty database to {self.after}"
        return f"migrated {self.before} -> {self.after}"


@dataclass(frozen=True)
class SchemaState:
    """The database's migration against this orderhub's: ``current``, ``behind`` (None: no schema),
    ``newer`` (a newer orderhub's migration) or ``foreign`` (none of orderhub's: NotOrderhubDatabase)."""

    revision: str | None
    head: str
    # With no migration recorded: the tables the database holds all the same (another application's).
    foreign_tables: tuple[str, ...] = ()

    @property
    def status(self) -> str:
        if self.revision == self.head:
            return "current"
        if self.revision is None and self.foreign_tables:
            return "foreign"
        if self.revision is None or self.revision in known_revisions():
            return "behind"
        return "newer" if isinstance(_refused(self.revision), SchemaNewer) else "foreign"

    def refusal(self) -> NotOrderhubDatabase:
        """Why a ``foreign`` database is not worked on, in one line."""
        return NotOrderhubDatabase(self.revision, self.foreign_tables)


def upgrade(engine: sa.Engine, revision: str = "head") -> Migrated:
    """Migrates the database forward; raises ``SchemaNewer`` (and changes nothing) when a newer orderhub
    migrated it, ``NotOrderhubDatabase`` when its migration is none of orderhub's."""
    # The migration runs in plain (deferred) transactions; see store.database for why writers differ.
    with engine.connect() as connection:
        sqlite = connection.dialect.name == "sqlite"
        if sqlite:
            # Some migrations rebuild a table (SQLite cannot drop a NOT NULL otherwise): with foreign
            # keys on, dropping the old table would delete or refuse the rows that point at it. The
            # pragma only works outside a transaction, so it goes to the driver before anything begins.
            _driver(connection).execute("PRAGMA foreign_keys=OFF")
        else:
            # Several hosts may start at once: one migrates, the others wait and then find nothing to do.
            # The waits the service bounds (store.database: a lock ~1 s, a statement ~10 s) are not the
            # migration's: another host's migration, or one that rewrites a big table, may take minutes.
            bounds = _unbounded(connection)
            connection.exec_driver_sql(f"SELECT pg_advisory_lock({MIGRATION_LOCK})")
            connection.commit()
        try:
            # Read under the advisory lock: another host may have just migrated.
            before = after = _revision_on(connection)
            connection.commit()
            if before is not None and before not in known_revisions():
                raise _refused(before)
            if before is None and (tables := _tables_without_a_migration(connection)):
                # Migrating it would add orderhub's tables beside another application's.
                raise NotOrderhubDatabase(None, tables)
            if before != head_revision() or revision != "head":
                # Alembic is imported only when there is something to do: most starts find none.
                from alembic import command

                command.upgrade(_config(connection), revision)
                connection.commit()
                after = _revision_on(connection)
                connection.commit()
        finally:
            if not sqlite:
                connection.rollback()
                connection.exec_driver_sql(f"SELECT pg_advisory_unlock({MIGRATION_LOCK})")
                # The connection goes back to the service's pool: with the service's bounds.
                for setting, value in bounds.items():
                    connection.exec_driver_sql(f"SET {setting} = '{value}'")
                connection.commit()
            if sqlite:
                broken = _driver(connection).execute("PRAGMA foreign_key_check").fetchall()
                _driver(connection).execute("PRAGMA foreign_keys=ON")
                if broken:
                    raise RuntimeError(f"migration left rows pointing nowhere: {broken[:5]}")
    return Migrated(before, after)


def _unbounded(connection: sa.Connection) -> dict[str, str]:
    """Lifts this session's lock and statement timeouts; what they were, to put back."""
    bounds = {}
    for setting in ("lock_timeout", "statement_timeout"):
        bounds[setting] = str(connection.exec_driver_sql(f"SHOW {setting}").scalar_one())
        connection.exec_driver_sql(f"SET {setting} = 0")
    return bounds


def _driver(connection: sa.Connection) -> Any:
    return connection.connection.driver_connection


@cache
def known_revisions() -> tuple[str, ...]:
    """Every migration this orderhub ships, oldest first: a database at another one was migrated by a newer
    orderhub. Named by their files (``0014_….py`` is revision ``0014``, after ``0013``), so that knowing
    them costs no Alembic import; tests/unit/test_migration_files.py holds Alembic to the same reading."""
    names = (path.name for path in (_MIGRATIONS / "versions").glob("[0-9][0-9][0-9][0-9]_*.py"))
    return tuple(sorted(name[:4] for name in names))


def head_revision() -> str:
    return known_revisions()[-1]


# Alembic's own record of the revision a database is at. Read with a plain query: importing Alembic's
# migration runtime to read one row was a seventh of every CLI command's start-up.
_VERSION_TABLE = "alembic_version"


def _revision_on(connection: sa.Connection) -> str | None:
    if not sa.inspect(connection).has_table(_VERSION_TABLE):
        return None
    rows = connection.execute(sa.text(f"SELECT version_num FROM {_VERSION_TABLE}")).scalars().all()
    if len(rows) > 1:  # orderhub's migrations are one line of history: several heads are not its own
        raise RuntimeError(f"the database records several migrations at once: {sorted(rows)}")
    return rows[0] if rows else None


def _tables_without_a_migration(connection: sa.Connection) -> tuple[str, ...]:
    """The tables of a database that records no migration (in PostgreSQL's schema the connection works
    in): none in a new database, which orderhub may migrate."""
    return tuple(sorted(sa.inspect(connection).get_table_names()))


def current_revision(engine: sa.Engine) -> str | None:
    with engine.connect().execution_options(read_only=True) as connection:
        return _revision_on(connection)


def schema_state(engine: sa.Engine) -> SchemaState:
    with engine.connect().execution_options(read_only=True) as connection:
        revision = _revision_on(connection)
        foreign = _tables_without_a_migration(connection) if revision is None else ()
    return SchemaState(revision, head_revision(), foreign)
