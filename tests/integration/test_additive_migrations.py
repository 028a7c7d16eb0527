"""Each migration keeps what the migration before it had, so that the processes of the previous release
keep working while and after it is applied (README, "Upgrading"): no table or column goes, no column a
release wrote NULL into becomes NOT NULL, a column an older release does not know can be left out of its
inserts (nullable or with a default), no text column gets shorter, no unique rule is added to a table an
older release writes. A migration that cannot be additive is listed below with why; its release notes
must say that every process stops before it is applied."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa

from orderhub.store import migrate
from orderhub.store.database import create_engine

# Migrations that are not additive, each with what it does that an older release could trip on.
NOT_ADDITIVE: dict[str, str] = {
    "0003": "orders.target_iccid is gone: an order's eSIM became one of its subjects (generalised orders)",
}


@dataclass(frozen=True)
class Column:
    nullable: bool
    has_default: bool
    length: int | None


@dataclass(frozen=True)
class Schema:
    columns: dict[str, dict[str, Column]]
    # Per table, the column sets that must be unique (unique constraints and unique indexes).
    unique: dict[str, set[tuple[str, ...]]]


def read_schema(engine: sa.Engine) -> Schema:
    inspector = sa.inspect(engine)
    columns: dict[str, dict[str, Column]] = {}
    unique: dict[str, set[tuple[str, ...]]] = {}
    for table in inspector.get_table_names():
        if table == "alembic_version":
            continue
        columns[table] = {
            column["name"]: Column(
                nullable=bool(column["nullable"]),
                has_default=column.get("default") is not None or bool(column.get("autoincrement") is True),
                length=getattr(column["type"], "length", None),
            )
            for column in inspector.get_columns(table)
        }
        rules = {tuple(c["column_names"]) for c in inspector.get_unique_constraints(table)}
        rules |= {tuple(i["column_names"]) for i in inspector.get_indexes(table) if i["unique"]}
        unique[table] = rules
    return Schema(columns, unique)


def breaks(before: Schema, after: Schema) -> list[str]:
    """What an older release, written against ``before``, could trip on in ``after``."""
    found = []
    for table, old_columns in before.columns.items():
        new_columns = after.columns.get(table)
        if new_columns is None:
            found.append(f"table {table} is gone")
            continue
        for name, old in old_columns.items():
            new = new_columns.get(name)
            if new is None:
                found.append(f"column {table}.{name} is gone")
            elif old.nullable and not new.nullable:
                found.append(f"column {table}.{name} became NOT NULL")
            elif old.length is not None and new.length is not None and new.length < old.length:
                found.append(f"column {table}.{name} got shorter ({old.length} -> {new.length})")
        for name in new_columns.keys() - old_columns.keys():
            if not new_columns[name].nullable and not new_columns[name].has_default:
                found.append(f"new column {table}.{name} is NOT NULL without a default")
        for rule in after.unique.get(table, set()) - before.unique.get(table, set()):
            # A rule with a column the older release does not write (NULL in its rows: never equal) or
            # made weaker than one that was there already cannot refuse what the older release writes.
            if set(rule) <= old_columns.keys() and not any(set(r) <= set(rule) for r in before.unique[table]):
                found.append(f"new unique rule on {table}{rule}")
    return found


def non_additive_steps(url: str) -> dict[str, list[str]]:
    engine = create_engine(url)
    try:
        steps: dict[str, list[str]] = {}
        revisions = migrate.known_revisions()
        migrate.upgrade(engine, revisions[0])
        before = read_schema(engine)
        for revision in revisions[1:]:
            migrate.upgrade(engine, revision)
            after = read_schema(engine)
            steps[revision] = breaks(before, after)
            before = after
        return steps
    finally:
        engine.dispose()


def test_every_migration_keeps_what_an_older_release_uses_or_says_why_not(tmp_path: Path) -> None:
    steps = non_additive_steps(f"sqlite:///{tmp_path / 'steps.db'}")
    assert {revision: found for revision, found in steps.items() if found and revision not in NOT_ADDITIVE} == {}
    # A listed migration that turns out additive is listed for nothing.
    assert [revision for revision in NOT_ADDITIVE if not steps[revision]] == []
