"""Upgrading a PostgreSQL database to migration 0025 (the index on a TMF order's externalId) where a release
before 2026-12-06 kept a NUL character (\\u0000) in a TMF order's request, as those releases took one in
any string of a tmf-productorder or TMF622 body: PostgreSQL reads no JSON text holding it as text, and
the index reads every line order's request."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa

from orderhub.store.migrate import head_revision
from tests.api.test_tmf622 import BASE, order_body
from tests.databases import database_url
from tests.integration.schema_support import downgraded_to, revision_of
from tests.integration.support import OrderhubProcesses, client, get_token, run_cli

DEMO_CHANNEL = ("demo-channel-1", "demo-channel-1-secret")


def _as_a_release_before_the_refusal_of_nul_left_it(url: str) -> None:
    """The database at migration 0024, the order's request holding a NUL as such a release wrote it
    (its JSON text spells it \\u0000), in a value and in a member's name."""
    downgraded_to(url, "0024")
    engine = sa.create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
    try:
        with engine.begin() as connection:
            connection.execute(
                sa.text("UPDATE orders SET request = CAST(replace(CAST(request AS text), :was, :now) AS json)"),
                {"was": "gift wrap", "now": "gift\\u0000wrap"},
            )
            connection.execute(
                sa.text("UPDATE orders SET request = CAST(replace(CAST(request AS text), :was, :now) AS json)"),
                {"was": '"category":', "now": '"cate\\u0000gory":'},
            )
    finally:
        engine.dispose()


def test_an_order_a_release_kept_with_a_nul_upgrades_and_is_found_by_its_external_id(
    orderhub_procs: OrderhubProcesses, tmp_path: Path
) -> None:
    url = database_url(tmp_path / "nul.db")
    server = orderhub_procs.serve(tmp_path / "nul.db", db_url=url)
    token = get_token(server.base_url, *DEMO_CHANNEL)
    with client(server.base_url) as http:
        placed = http.post(
            f"{BASE}/productOrder",
            json=order_body(externalId="PO-NUL-1", description="gift wrap", category="retail"),
            headers={"Authorization": f"Bearer {token}"},
        )
        assert placed.status_code == 201, placed.text
    server.terminate()
    order_id = placed.json()["id"]
    _as_a_release_before_the_refusal_of_nul_left_it(url)

    migrated = run_cli("migrate", "--db", url, cwd=tmp_path)

    assert migrated.returncode == 0, migrated.stderr
    assert revision_of(url) == head_revision()
    server = orderhub_procs.serve(tmp_path / "nul.db", db_url=url)
    with client(server.base_url) as http:
        found = http.get(
            f"{BASE}/productOrder",
            params={"externalId": "PO-NUL-1", "fields": "externalId,description"},
            headers={"Authorization": f"Bearer {get_token(server.base_url, *DEMO_CHANNEL)}"},
        )
    assert found.status_code == 200, found.text
    # PostgreSQL's text cannot hold the NUL: the order keeps the replacement character in its place.
    assert [(order["id"], order["description"]) for order in found.json()] == [(order_id, "gift\ufffdwrap")]
