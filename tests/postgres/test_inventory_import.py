"""A large eSIM inventory import on PostgreSQL: each chunk looks its rows up among the profiles already
stored, and those look-ups must keep using the unique indexes as the table grows. A plan made while the
table was nearly empty (a scan) stayed in use: 200,000 profiles took minutes, 70,000 of them in the
first three, where they now take ~12 s (autovacuum, which would have refreshed the statistics, is off
on this machine and may be late anywhere)."""

from __future__ import annotations

import sqlalchemy as sa

from orderhub.bootstrap import build_services
from orderhub.services.inventory import IMPORT_CHUNK, ProfileRow
from orderhub.settings import Settings


def _luhn_completed(body: str) -> str:
    total = 0
    for position, digit in enumerate(reversed(body)):
        value = int(digit) * (2 if position % 2 == 0 else 1)
        total += value - 9 if value > 9 else value
    return body + str((10 - total % 10) % 10)


def _rows(count: int, prefix: str) -> list[ProfileRow]:
    return [
        ProfileRow(n + 2, _luhn_completed(f"8944{prefix}{n:013d}"), f"IMP{prefix}-{n:08d}", "smdp.example.com")
        for n in range(count)
    ]


def test_an_import_keeps_the_planners_count_of_profiles_current_and_still_refuses_duplicates(pg_url: str) -> None:
    services = build_services(Settings(database_url=pg_url))
    engine = sa.create_engine(pg_url.replace("postgresql://", "postgresql+psycopg://", 1))
    try:
        with engine.connect() as connection:
            stored_before = connection.execute(sa.text("SELECT count(*) FROM esim_profiles")).scalar_one()
        count = 12 * IMPORT_CHUNK
        report = services.inventory.import_profiles(_rows(count, "7"))
        assert report.accepted == count and not report.rejected

        with engine.connect() as connection:
            (planned,) = connection.execute(
                sa.text("SELECT reltuples FROM pg_class WHERE relname = 'esim_profiles'")
            ).one()
        # The planner's count was refreshed during the import: at least half of what is stored now
        # (never counted, PostgreSQL reports -1).
        assert planned >= (stored_before + count) / 2, planned

        again = services.inventory.import_profiles(_rows(IMPORT_CHUNK + 3, "7"))
        assert again.accepted == 0 and len(again.rejected) == IMPORT_CHUNK + 3
        assert all("already in inventory" in reason for _line, reason in again.rejected)
    finally:
        services.close()
        engine.dispose()
