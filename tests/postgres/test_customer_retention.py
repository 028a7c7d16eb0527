"""`orderhub customer erase --inactive-since` on PostgreSQL, next to a server: a person's orders through
each API over HTTP, ended "long ago" (their times set in the database), and each partner's customer of
them erased in one run; no column of any table holds their data after, and every API still answers the
orders. The whole of it runs on SQLite in tests/integration/test_customer_retention.py."""

from __future__ import annotations

import re
from pathlib import Path

from tests.integration.erasure_orders import (
    EMAIL,
    PASSPORT,
    backdate,
    check_answers,
    customer_ids,
    erase,
    one_line,
    personal_data_in,
    place_orders,
)
from tests.integration.support import OrderhubProcesses
from tests.integration.test_customer_retention import LONG_AGO, SINCE


def test_customers_no_longer_active_are_erased_and_the_database_holds_none_of_their_data(
    pg_url: str, tmp_path: Path, orderhub_procs: OrderhubProcesses
) -> None:
    server = orderhub_procs.serve(tmp_path / "unused.db", demo=False, db_url=pg_url)
    placed = place_orders(server.base_url)
    ids = customer_ids(pg_url)
    person = {ids[EMAIL.lower()], ids[PASSPORT], ids["198507093477"]}
    backdate(pg_url, person, LONG_AGO)

    dry = one_line(erase(pg_url, tmp_path, "--inactive-since", SINCE, "--dry-run"))
    named = re.fullmatch(
        rf"dry run, nothing changed: would erase 3 customers \(of every partner\), inactive since {SINCE}: "
        r"(\S+), (\S+), (\S+)",
        dry,
    )
    assert named is not None and set(named.groups()) == person, dry
    done = one_line(erase(pg_url, tmp_path, "--inactive-since", SINCE))
    assert re.fullmatch(rf"3 customers erased \(of every partner\), inactive since {SINCE}: their data in 5 orders, "
                        r"[1-9][0-9]* event snapshots? and 0 reasons given with changes, and in 6 correlation ids and "
                        r"idempotency keys", done), done  # fmt: skip
    assert personal_data_in(pg_url) == {}
    check_answers(server.base_url, placed)
    again = one_line(erase(pg_url, tmp_path, "--inactive-since", SINCE))
    assert again == f"no customer inactive since {SINCE} (of every partner)"
