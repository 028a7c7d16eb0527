"""`orderhub customer export` on PostgreSQL, next to a server: a person's orders through each API, each
partner's customer of them exported unmasked with their orders, and again once erased. The whole of it
runs on SQLite in tests/integration/test_customer_export.py."""

from __future__ import annotations

from pathlib import Path

from orderhub.domain.erasure import ERASED
from tests.integration.erasure_orders import EMAIL, ONAPI_CUSTOMER, PASSPORT, erase, one_line, place_orders
from tests.integration.support import OrderhubProcesses
from tests.integration.test_customer_export import exported, ids


def test_each_apis_customer_is_exported_and_again_once_erased(
    pg_url: str, tmp_path: Path, orderhub_procs: OrderhubProcesses
) -> None:
    server = orderhub_procs.serve(tmp_path / "unused.db", demo=False, db_url=pg_url)
    placed = place_orders(server.base_url)

    esim = exported(pg_url, tmp_path, "--partner", "demo-reseller-1", "--email", EMAIL.upper())
    assert esim["customer"]["email"] == EMAIL.lower() and ids(esim) == [placed.esim, placed.topup]
    assert esim["orders"][0]["request"]["input"]["customer"]["email"] == EMAIL
    tmf = exported(pg_url, tmp_path, "--partner", "demo-channel-1", "--identity", "Passport", PASSPORT)
    assert [order["reference"] for order in tmf["orders"]] == [placed.vendor, placed.tmf622]
    onapi = exported(pg_url, tmp_path, "--partner", "demo-co-acme", "--identity", "personalIdentityNumber",
                     "8507093477")  # fmt: skip
    assert [order["request"]["customerDetails"] for order in onapi["orders"]] == [ONAPI_CUSTOMER]

    one_line(erase(pg_url, tmp_path, "--partner", "demo-reseller-1", "--email", EMAIL))
    after = exported(pg_url, tmp_path, "--partner", "demo-reseller-1", "--id", esim["customer"]["id"])
    assert after["customer"]["erasedAt"] is not None and after["customer"]["email"] is None
    assert ids(after) == ids(esim)
    assert [order["request"]["input"]["customer"]["email"] for order in after["orders"]] == [ERASED, ERASED]
