"""Loads a benchmark database fast: eSIM profiles, and completed orders by the million.

Written straight into SQLite with the values exactly as orderhub's store writes them (timestamps as
``YYYY-MM-DD HH:MM:SS.ffffff`` UTC, JSON as text, money as text), so the service reads them as its own.
"""

from __future__ import annotations

import json
import sqlite3
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

CHUNK = 50_000
PARTNER = "demo-reseller-1"
PRODUCT = "a3u3z000000PZBhAAO"
SMDP = "smdp.bench.orderhub.dev"


def _time(moment: datetime) -> str:
    return moment.astimezone(UTC).replace(tzinfo=None).isoformat(" ", "microseconds")


def _luhn_digit(digits: str) -> str:
    total = 0
    for index, char in enumerate(reversed(digits)):
        value = int(char)
        if index % 2 == 0:
            value *= 2
            value -= 9 if value > 9 else 0
        total += value
    return str((10 - total % 10) % 10)


def _iccid(prefix: str, number: int) -> str:
    body = f"89{prefix}{number:013d}"  # 18 digits, then the Luhn check digit
    return body + _luhn_digit(body)


def _connect(db_path: Path) -> sqlite3.Connection:
    connection = sqlite3.connect(db_path, isolation_level=None)
    connection.execute("PRAGMA journal_mode=WAL")
    # The loader's own connection only: a crash mid-load just means loading again.
    connection.execute("PRAGMA synchronous=OFF")
    return connection


def _chunks(count: int) -> Iterator[range]:
    for start in range(0, count, CHUNK):
        yield range(start, min(start + CHUNK, count))


# Free network accesses for the onapi-order scenario: an open order for a product on an access makes a
# second one for it REJECTED, so each order of the scenario names an access of its own.
ACCESS_PREFIX = "bench-access-"


def load_accesses(db_path: Path, count: int) -> None:
    """``count`` free accesses, ``bench-access-0`` …, that take orders."""
    now = _time(datetime.now(UTC) - timedelta(days=1))
    connection = _connect(db_path)
    try:
        for numbers in _chunks(count):
            rows = [(f"bench-acc-{n:012d}", f"{ACCESS_PREFIX}{n}", "free", now, now) for n in numbers]
            connection.execute("BEGIN")
            connection.executemany(
                "INSERT INTO accesses (id, ref, state, created_at, updated_at) VALUES (?, ?, ?, ?, ?)", rows
            )
            connection.execute("COMMIT")
    finally:
        connection.close()


def load_profiles(db_path: Path, count: int, *, prefix: str = "999") -> None:
    """``count`` available profiles (ICCIDs 89<prefix>…, unique matching ids)."""
    now = _time(datetime.now(UTC) - timedelta(days=1))
    connection = _connect(db_path)
    try:
        for numbers in _chunks(count):
            rows = [
                (_iccid(prefix, n), f"BENCH-{prefix}-{n:09d}", SMDP, "available", None, None, 1, "bench", now, now)
                for n in numbers
            ]
            connection.execute("BEGIN")
            connection.executemany(
                "INSERT INTO esim_profiles (iccid, matching_id, smdp_address, state, order_id, customer_id, luhn_ok,"
                " batch, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                rows,
            )
            connection.execute("COMMIT")
    finally:
        connection.close()


def load_completed_orders(db_path: Path, count: int, *, customers: int = 1000) -> list[str]:
    """``count`` completed NEW_ESIM orders of demo-reseller-1, each with its released profile, assignment
    and subscription; returns a sample of their ids (for the GET scenario)."""
    started = datetime.now(UTC) - timedelta(days=30)
    connection = _connect(db_path)
    sample: list[str] = []
    try:
        customer_ids = [str(uuid.uuid4()) for _ in range(customers)]
        connection.execute("BEGIN")
        connection.executemany(
            "INSERT INTO customers (id, partner_id, email, country_of_residence, created_at) VALUES (?, ?, ?, ?, ?)",
            [(cid, PARTNER, f"bulk-{k}@example.com", "US", _time(started)) for k, cid in enumerate(customer_ids)],
        )
        connection.execute("COMMIT")
        for numbers in _chunks(count):
            orders, items, events, profiles, assignments, subscriptions = [], [], [], [], [], []
            for n in numbers:
                order_id = str(uuid.uuid4())
                customer_id = customer_ids[n % customers]
                at = _time(started + timedelta(microseconds=n * 1000))
                ends = _time(started + timedelta(days=60))
                iccid = _iccid("888", n)
                matching_id = f"BULK-{n:010d}"
                request = {
                    "input": {"operationType": "NEW_ESIM", "customer": {"email": f"bulk-{n % customers}@example.com"}}
                }
                output = {
                    "kind": "esim",
                    "iccid": iccid,
                    "smdp_address": SMDP,
                    "subscription_ids": [f"sub-{order_id}"],
                    "matching_id": matching_id,
                }
                orders.append(
                    (order_id, PARTNER, "esim-v1", "NEW_ESIM", "completed", customer_id, "esim", iccid,
                     json.dumps(request), json.dumps(output), None, f"bulk-{n}", at, at, at, None, None, 1)
                )  # fmt: skip
                items.append((order_id, 1, PRODUCT, "10", "USD", at))
                events += [
                    (order_id, at, None, "accepted", None),
                    (order_id, at, "accepted", "in_progress", None),
                    (order_id, at, "in_progress", "completed", None),
                ]
                profiles.append((iccid, matching_id, SMDP, "released", order_id, customer_id, 1, "bulk", at, at))
                assignments.append((iccid, order_id, at))
                subscriptions.append((f"sub-{order_id}", iccid, order_id, 1, PRODUCT, at, ends, at))
                if n % 100 == 0 and len(sample) < 10_000:
                    sample.append(order_id)
            connection.execute("BEGIN")
            connection.executemany(
                "INSERT INTO orders (id, partner_id, dialect, operation, state, customer_id, subject_kind, subject_ref,"
                " request, output, failure_reason, correlation_id, created_at, updated_at, due_at, lease_owner,"
                " lease_until, attempts) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                orders,
            )
            connection.executemany(
                "INSERT INTO order_items (order_id, seq, product_id, price, currency, activation_at)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                items,
            )
            connection.executemany(
                "INSERT INTO order_events (order_id, at, from_state, to_state, reason) VALUES (?, ?, ?, ?, ?)", events
            )
            connection.executemany(
                "INSERT INTO esim_profiles (iccid, matching_id, smdp_address, state, order_id, customer_id, luhn_ok,"
                " batch, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                profiles,
            )
            connection.executemany(
                "INSERT INTO esim_assignments (iccid, order_id, assigned_at) VALUES (?, ?, ?)", assignments
            )
            connection.executemany(
                "INSERT INTO subscriptions (id, iccid, order_id, item_seq, product_id, starts_at, ends_at, created_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                subscriptions,
            )
            connection.execute("COMMIT")
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        connection.execute("ANALYZE")
    finally:
        connection.close()
    return sample
