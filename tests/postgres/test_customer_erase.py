"""`orderhub customer erase` on PostgreSQL, run as the operator runs it, next to a server: a person's
orders through each API over HTTP, each partner's customer of them erased, and no column of any table
holds their data after; every API still answers the orders. The whole of it runs on SQLite in
tests/integration/test_customer_erase.py."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

from tests.integration.erasure_orders import (
    EMAIL,
    FIRST,
    LAST,
    PASSPORT,
    PERSONAL,
    PIN,
    check_answers,
    erase,
    onapi_order,
    one_line,
    personal_data_in,
    place_orders,
    post_esim,
)
from tests.integration.support import OrderhubProcesses, client, get_token, run_cli
from tests.integration.test_customer_erase import (
    cancellation_events_sent_after_an_erasure_hold_none_of_the_customers_data,
)


def test_each_apis_customer_is_erased_and_the_database_holds_none_of_their_data(
    pg_url: str, tmp_path: Path, orderhub_procs: OrderhubProcesses
) -> None:
    server = orderhub_procs.serve(tmp_path / "unused.db", demo=False, db_url=pg_url)
    placed = place_orders(server.base_url)
    tomorrow = (datetime.now(UTC) + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    with client(server.base_url) as http:
        assert onapi_order(http, "access-free-2", tomorrow).json()["status"] == "RECEIVED"
    assert {p for hits in personal_data_in(pg_url).values() for p in hits} == set(PERSONAL)
    refused = one_line(erase(pg_url, tmp_path, "--partner", "demo-co-acme", "--identity", "personalIdentityNumber",
                             PIN), code=1)  # fmt: skip
    scheduled = re.search(r"not final yet \(1\): (\S+);", refused)
    assert scheduled is not None, refused
    cancelled = run_cli("order", "cancel", scheduled[1], "--reason", f"{FIRST} {LAST} moved abroad", "--db", pg_url,
                        cwd=tmp_path)  # fmt: skip
    assert cancelled.returncode == 0, cancelled.stderr

    done = [
        one_line(erase(pg_url, tmp_path, "--partner", "demo-reseller-1", "--email", EMAIL.upper())),
        one_line(erase(pg_url, tmp_path, "--partner", "demo-channel-1", "--identity", "Passport", PASSPORT)),
        one_line(erase(pg_url, tmp_path, "--partner", "demo-co-acme", "--identity", "personalIdentityNumber",
                       "8507093477")),
    ]  # fmt: skip

    assert done[2].endswith(", 0 event snapshots and 4 reasons given with changes")  # the cancellation's
    assert [re.sub(r"customer \S+ ", "customer <id> ", line).split(";")[0] for line in done] == [
        "customer <id> of demo-reseller-1 erased: its e-mail z***@example.org, country",
        "customer <id> of demo-channel-1 erased: its identity Passport *******91, name",
        "customer <id> of demo-co-acme erased: its identity personalIdentityNumber **********77, name",
    ]
    assert personal_data_in(pg_url) == {}
    check_answers(server.base_url, placed)
    with client(server.base_url) as http:  # the erased customer's e-mail finds no eSIM any more
        topup = post_esim(http, get_token(server.base_url), "TOPUP", EMAIL, placed.iccid)
    assert (topup.status_code, topup.json()["type"]) == (422, "CUSTOMER_MUST_EXIST"), topup.text


def test_a_cancellation_requests_events_sent_after_an_erasure_hold_none_of_the_customers_data(
    tmp_path: Path,
) -> None:
    cancellation_events_sent_after_an_erasure_hold_none_of_the_customers_data(tmp_path)
