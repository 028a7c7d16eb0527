"""`orderhub customer erase --inactive-since DATE` (GDPR art. 5(1)(e), storage limitation) on a demo
server's SQLite file: people order through the APIs over HTTP; those whose orders all ended long before
the cut-off are erased in bulk through the real command, each as `customer erase --id` erases one, and the
others kept: one active since, one with an order not final, one of another partner when --partner names
one. "Long ago" is made by setting the times in the database (test set-up, erasure_orders.backdate)."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from orderhub.bootstrap import build_services
from orderhub.dialects import DIALECTS
from orderhub.services.customer_retention import CustomerRetention, Retention
from orderhub.settings import Settings
from tests.integration.erasure_orders import (
    EMAIL,
    PASSPORT,
    backdate,
    check_answers,
    customer_ids,
    erase,
    onapi_order,
    one_line,
    personal_data_in,
    place_orders,
    texts,
    without_audit_trail,
)
from tests.integration.support import (
    OrderhubProcesses,
    client,
    db_rows,
    get_token,
    place_order,
    run_cli,
    sqlite_url,
    wait_until,
)

pytestmark = pytest.mark.integration

LONG_AGO = datetime(2024, 3, 1, 9, 0, tzinfo=UTC)
# The retention policy's cut-off: a month before today (a day's start, UTC).
SINCE = (datetime.now(UTC) - timedelta(days=30)).date().isoformat()
PIN = "198507093477"  # the person's identity number as the CO's customer record keeps it
# Who is kept: one who ordered today; one whose order ended long ago but whose history moved on since (a
# partner's deletion of it, say); one whose order, placed long ago, waits for its date.
ACTIVE, NOTED = "kept.active@example.org", "kept.noted@example.org"
WAITING_PIN = "199102134567"
WAITING = {
    "identifiedCustomer": True, "personalIdentityNumber": "19910213-4567", "customerFirstname": "Ottilia",
    "customerLastName": "Brandqvist", "customerPhone": "+46702223344", "customerEmail": "ottilia.b@example.org",
    "invoiceDetails": {"streetName": "Lingonstigen", "streetNumber": "3", "postalCode": "12345", "city": "Ekby"},
}  # fmt: skip


def final_but_one(db_path: Path) -> bool:
    """Every order has ended but the one waiting for its date (the worker provisions the others)."""
    open_orders = db_rows(db_path, "SELECT count(*) FROM orders WHERE state NOT IN ('completed', 'partial', 'failed',"
                                   " 'rejected', 'cancelled')")  # fmt: skip
    return open_orders == [(1,)]


def test_customers_no_longer_active_are_erased_and_the_others_kept(
    tmp_path: Path, orderhub_procs: OrderhubProcesses
) -> None:
    db_path = tmp_path / "orderhub.db"
    url = sqlite_url(db_path)
    server = orderhub_procs.serve(db_path)
    placed = place_orders(server.base_url)  # the person, a customer of three partners
    token = get_token(server.base_url)
    tomorrow = (datetime.now(UTC) + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    for email in (ACTIVE, NOTED):
        place_order(server.base_url, token, email)  # no name: nothing the person's search would find
    with client(server.base_url) as http:
        assert onapi_order(http, "access-free-2", tomorrow, WAITING).json()["status"] == "RECEIVED"
    wait_until(lambda: final_but_one(db_path), timeout=30, message="the orders to end")
    ids = customer_ids(url)
    person = {ids[EMAIL.lower()], ids[PASSPORT], ids[PIN]}
    john = ids["john@doe.com"]  # the demo's customer, who has an eSIM but never ordered
    backdate(url, [*person, john, ids[WAITING_PIN]], LONG_AGO)
    backdate(url, [ids[NOTED]], LONG_AGO, history_too=False)

    # A cut-off in the future is a typo that would erase everyone active: refused. So is naming a customer too.
    future = one_line(erase(url, tmp_path, "--inactive-since", "2999-01-01"), code=1)
    assert future.startswith("error: --inactive-since 2999-01-01 is later than now: it would erase customers"), future
    assert one_line(erase(url, tmp_path, "--inactive-since", SINCE, "--email", EMAIL, "--id", "x"), code=1) == (
        "error: --inactive-since selects the customers itself: it takes no --email, --identity or --id (given: "
        "--email, --id)"
    )
    unknown = erase(url, tmp_path, "--partner", "nobody", "--inactive-since", SINCE)
    assert one_line(unknown, code=1) == "error: no partner nobody"
    bad = one_line(erase(url, tmp_path, "--inactive-since", "last month"), code=1)
    assert bad.startswith("error: --inactive-since 'last month': expected an ISO-8601 date or date-time"), bad

    # A dry run names whom it would erase, by id, counts whom it keeps for an order not final, and
    # changes nothing.
    whole = texts(url)
    dry = one_line(erase(url, tmp_path, "--inactive-since", SINCE, "--dry-run"))
    named = re.fullmatch(rf"dry run, nothing changed: would erase 4 customers \(of every partner\), inactive since "
                         rf"{SINCE}: (\S+), (\S+), (\S+), (\S+); 1 kept: orders not final", dry)  # fmt: skip
    assert named is not None, dry
    assert set(named.groups()) == {*person, john}
    assert without_audit_trail(texts(url)) == without_audit_trail(whole)

    # --partner: its customers alone; the person stays the other partners' customer, data and all.
    reseller = one_line(erase(url, tmp_path, "--partner", "demo-reseller-1", "--inactive-since", SINCE))
    assert reseller == (
        f"2 customers erased (of demo-reseller-1), inactive since {SINCE}: their data in 2 orders, 0 event snapshots "
        "and 0 reasons given with changes, and in 3 correlation ids and idempotency keys"
    )  # as `customer erase --email` says it of the person (test_customer_erase.py); john has no order
    assert erased(db_path) == {ids[EMAIL.lower()], john}
    assert {"customers.identity_value", "customers.name"} <= personal_data_in(url).keys()

    done = one_line(erase(url, tmp_path, "--inactive-since", SINCE))
    assert re.fullmatch(rf"2 customers erased \(of every partner\), inactive since {SINCE}: their data in 3 orders, "
                        r"[1-9][0-9]* event snapshots? and 0 reasons given with changes, and in 3 correlation ids and "
                        r"idempotency keys; 1 kept: orders not final", done), done  # fmt: skip
    # Nothing of the person in any column of any table; every API answers their orders as after an erasure.
    assert personal_data_in(url) == {}
    check_answers(server.base_url, placed)
    # Those kept keep their data: the one active since, the one touched since, the one whose order waits.
    assert erased(db_path) == {*person, john}
    assert {ACTIVE, NOTED} <= set(texts(url)["customers.email"])
    assert db_rows(db_path, f"SELECT name FROM customers WHERE identity_value = '{WAITING_PIN}'") == [
        ("Ottilia Brandqvist",)
    ]

    # Run again (next month's cron): nothing left to erase, and said so.
    again = one_line(erase(url, tmp_path, "--inactive-since", SINCE))
    assert again == f"no customer inactive since {SINCE} (of every partner); 1 kept: orders not final"

    # The audit trail records each run that reached the database (a refusal of its options did not).
    listed = run_cli("audit", "list", "--json", "--db", url, cwd=tmp_path)
    assert listed.returncode == 0, listed.stderr
    runs = [(entry["arguments"], entry["exit_code"]) for entry in json.loads(listed.stdout)
            if entry["command"] == "customer erase"]  # fmt: skip
    assert runs == [
        (f"--inactive-since {SINCE} --db {url}", 0),
        (f"--inactive-since {SINCE} --db {url}", 0),
        (f"--partner demo-reseller-1 --inactive-since {SINCE} --db {url}", 0),
        (f"--inactive-since {SINCE} --dry-run --db {url}", 0),
        (f"--partner nobody --inactive-since {SINCE} --db {url}", 1),
        (f"--inactive-since 2999-01-01 --db {url}", 1),
    ]


def erased(db_path: Path) -> set[str]:
    return {str(row[0]) for row in db_rows(db_path, "SELECT id FROM customers WHERE erased_at IS NOT NULL")}


def test_a_customer_active_or_erased_since_the_selection_is_skipped_and_counted(
    tmp_path: Path, orderhub_procs: OrderhubProcesses
) -> None:
    """Each customer is erased in a transaction of its own, after the selection: one that ordered again,
    or was erased, in between is left as it is (not erased, not erased twice)."""
    db_path = tmp_path / "orderhub.db"
    url = sqlite_url(db_path)
    server = orderhub_procs.serve(db_path)
    token = get_token(server.base_url)
    emails = ("again@example.org", "erased@example.org", "gone@example.org")
    for email in emails:
        place_order(server.base_url, token, email)
    wait_until(lambda: db_rows(db_path, "SELECT count(*) FROM orders WHERE state <> 'completed'") == [(0,)],
               timeout=30, message="the orders to complete")  # fmt: skip
    ids = customer_ids(url)
    again, erased_meanwhile, gone = (ids[email] for email in emails)
    backdate(url, [again, erased_meanwhile, gone], LONG_AGO)

    erasers = {dialect.name: dialect.erase_customer for dialect in DIALECTS if dialect.erase_customer is not None}
    services = build_services(Settings(database_url=url))
    try:
        retention = CustomerRetention(services.uow_factory, erasers)
        since = datetime.fromisoformat(SINCE).replace(tzinfo=UTC)
        selected = retention.inactive("demo-reseller-1", since)
        assert {customer.id for customer in selected} == {again, erased_meanwhile, gone}
        place_order(server.base_url, token, emails[0])  # the customer orders again
        one_line(erase(url, tmp_path, "--partner", "demo-reseller-1", "--id", erased_meanwhile))
        done = Retention(since, "demo-reseller-1", dry_run=False)
        retention.erase_selected(selected, done)
    finally:
        services.close()

    assert (done.customers, done.skipped, done.kept) == ([gone], 2, 0)
    assert erased(db_path) == {erased_meanwhile, gone}
    assert db_rows(db_path, f"SELECT email FROM customers WHERE id = '{again}'") == [(emails[0],)]
