"""Values as the hand-written statements store them (store.fastsql) read back as SQLAlchemy reads them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
import sqlalchemy as sa

from orderhub.store.database import create_engine
from orderhub.store.fastsql import FastSql, read_time

pytestmark = pytest.mark.integration

INSTANTS = [
    datetime(2026, 11, 24, 21, 45, 18, 573842, tzinfo=UTC),
    datetime(2026, 11, 24, 21, 45, 18, tzinfo=UTC),  # no microseconds: still six digits
    datetime(2027, 3, 1, 1, 30, tzinfo=timezone(timedelta(hours=2))),  # 23:30 UTC the day before
    datetime(2026, 12, 31, 23, 59, 59, 999999, tzinfo=timezone(timedelta(hours=-5, minutes=-30))),
]


def test_instants_are_stored_in_utc_and_read_back_as_the_same_instants(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'values.db'}")
    columns = [sa.Column("n", sa.Integer, primary_key=True), sa.Column("at", sa.DateTime)]
    table = sa.Table("stamps", sa.MetaData(), *columns)
    table.create(engine)
    try:
        with engine.begin() as connection:
            sql = FastSql(connection)
            for n, instant in enumerate(INSTANTS):
                sql.execute("INSERT INTO stamps (n, at) VALUES (?, ?)", (n, sql.time(instant)))
                sql.execute("INSERT INTO stamps (n, at) VALUES (?, ?)", (100 + n, sql.time(instant)))  # converted once
            raw = dict(connection.execute(sa.text("SELECT n, at FROM stamps")).all())
            read_by_sqlalchemy = dict(connection.execute(sa.select(table.c.n, table.c.at)).all())
        for n, instant in enumerate(INSTANTS):
            utc = instant.astimezone(UTC)
            assert raw[n] == raw[100 + n] == utc.strftime("%Y-%m-%d %H:%M:%S.%f")
            assert read_time(raw[n]) == instant
            assert read_by_sqlalchemy[n] == utc.replace(tzinfo=None)
    finally:
        engine.dispose()


def test_the_same_instant_in_two_zones_is_stored_alike_and_a_naive_time_is_refused(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'values.db'}")
    try:
        with engine.connect() as connection:
            sql = FastSql(connection)
            utc = datetime(2026, 11, 24, 22, 0, tzinfo=UTC)
            tokyo = utc.astimezone(timezone(timedelta(hours=9)))
            assert sql.time(utc) == sql.time(tokyo) == "2026-11-24 22:00:00.000000"
            with pytest.raises(ValueError, match="naive datetime"):
                sql.time(datetime(2026, 11, 24, 22, 0))  # naive: the point of the test
            assert sql.time(None) is None
    finally:
        engine.dispose()
