"""A partner's product list is its esim-v1 catalog: eSIM data products only. The partner commands refuse
a line offering or a network product in it, and esim-v1 neither lists nor sells one that a database
stored before they did."""

from __future__ import annotations

import sqlite3
import uuid
from pathlib import Path

import pytest

from tests.integration.support import OrderhubProcesses, api_headers, client, db_rows, get_token, new_esim_body
from tests.integration.test_cli import cli, ok

pytestmark = pytest.mark.integration


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "kinds.db"


def test_partner_commands_refuse_products_that_are_not_esim_data_products(tmp_path: Path, db_path: Path) -> None:
    ok(cli(tmp_path, db_path, "demo-data"))
    listed_before = db_rows(db_path, "SELECT partner_id, product_id FROM partner_products ORDER BY 1, 2")

    refused = cli(tmp_path, db_path, "partner", "set-products", "demo-reseller-2", "--product", "iptv")
    assert refused.returncode == 1, refused
    assert refused.stderr == (
        "error: a partner's product list (its esim-v1 catalog) holds eSIM data products only:"
        " iptv is a network_service product\n"
    )
    refused = cli(tmp_path, db_path, "partner", "create", "it-shop", "--name", "Shop", "--role", "RESELLER",
                  "--currency", "USD", "--product", "OFFER-PLAN-002", "--product", "a3u3z000000PZBhAAO")  # fmt: skip
    assert refused.returncode == 1, refused
    assert "OFFER-PLAN-002 is a line_offering product" in refused.stderr and refused.stderr.count("\n") == 1
    assert db_rows(db_path, "SELECT count(*) FROM partners WHERE id = 'it-shop'") == [(0,)]
    assert db_rows(db_path, "SELECT partner_id, product_id FROM partner_products ORDER BY 1, 2") == listed_before


def test_esim_v1_neither_lists_nor_sells_a_line_offering_or_network_product_stored_in_a_list(
    tmp_path: Path, db_path: Path, orderhub_procs: OrderhubProcesses
) -> None:
    ok(cli(tmp_path, db_path, "demo-data"))
    # As a database holds it when partner set-products took any product.
    with sqlite3.connect(db_path) as db:
        db.execute("INSERT INTO partner_products (partner_id, product_id) VALUES ('demo-reseller-1', 'iptv')")
    available = "SELECT count(*) FROM esim_profiles WHERE state = 'available'"
    profiles_before = db_rows(db_path, available)
    server = orderhub_procs.serve(db_path)
    token = get_token(server.base_url)
    with client(server.base_url) as http:
        body = new_esim_body(f"{uuid.uuid4().hex}@example.com", product_id="iptv")
        ordered = http.post("/esim/v1/order", json=body, headers=api_headers(token))
        assert ordered.status_code == 422, ordered.text
        assert ordered.json()["type"] == "PRODUCT_NOT_FOUND"
        assert "product iptv is not an eSIM data product" in ordered.text
        assert db_rows(db_path, available) == profiles_before

        listed = http.get("/esim/v1/product", headers=api_headers(token))
        assert listed.status_code == 200, listed.text
        assert "iptv" not in [p["id"] for p in listed.json()]
        assert http.get("/esim/v1/product/iptv", headers=api_headers(token)).status_code == 404
