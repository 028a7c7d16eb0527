"""Rotating a partner's secret with `orderhub credential list`: each credential's last sign-in, by every
way a secret reaches a running server, tells the operator when the old one is no longer used."""

from __future__ import annotations

import json
import subprocess
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from tests.integration.support import OrderhubProcesses, client, get_token, run_cli, sqlite_url

pytestmark = pytest.mark.integration

CHANNEL = ("demo-channel-1", "demo-channel-1-secret")
ACME = ("demo-co-acme", "demo-co-acme-secret")


def cli(db_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return run_cli(*args, "--db", sqlite_url(db_path), cwd=db_path.parent)


def ok(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 0, f"exit {result.returncode}\nstdout:\n{result.stdout}\nstderr:\n{result.stderr}"
    return result.stdout


def last_sign_ins(db_path: Path, partner: str | None = None) -> dict[str, datetime | None]:
    listed: list[dict[str, Any]] = json.loads(
        ok(cli(db_path, "credential", "list", *([partner] if partner else []), "--json"))
    )
    assert all(
        set(entry) == {"client_id", "partner", "issued_at", "last_signed_in_at", "revoked_at"} for entry in listed
    )
    return {
        entry["client_id"]: datetime.fromisoformat(entry["last_signed_in_at"]) if entry["last_signed_in_at"] else None
        for entry in listed
    }


def test_every_way_a_secret_is_checked_records_its_last_sign_in_and_a_wrong_secret_does_not(
    tmp_path: Path, orderhub_procs: OrderhubProcesses
) -> None:
    db_path = tmp_path / "rotation.db"
    server = orderhub_procs.serve(db_path)
    before = last_sign_ins(db_path)
    assert set(before) >= {"demo-reseller-1", CHANNEL[0], ACME[0]}
    assert set(before.values()) == {None}, "the demo's credentials have not signed in yet"
    started = datetime.now(UTC)

    with client(server.base_url) as http:
        wrong = http.post("/oauth2/token", data={"grant_type": "client_credentials", "client_id": "demo-reseller-2",
                                                 "client_secret": "not-its-secret"})  # fmt: skip
        assert wrong.status_code == 401, wrong.text
        get_token(server.base_url)  # demo-reseller-1, at /oauth2/token
        headers = {"client_id": CHANNEL[0], "client_secret": CHANNEL[1], "X-Correlation-ID": str(uuid.uuid4())}
        unknown = http.get("/emida-ux-lcr/emida-ux/v1/CR/productOrder/ORD-none", headers=headers)
        assert unknown.status_code == 404, unknown.text  # past its credentials: checked
        products = http.get("/2.5/sp_spec/products/", auth=ACME)
        assert products.status_code == 200, products.text

    after = last_sign_ins(db_path)
    for client_id in ("demo-reseller-1", CHANNEL[0], ACME[0]):
        signed_in = after[client_id]
        assert signed_in is not None and started <= signed_in <= datetime.now(UTC), client_id
    assert after["demo-reseller-2"] is None and after["demo-co-fibra"] is None
    assert set(last_sign_ins(db_path, ACME[0])) == {ACME[0]}


def test_a_secret_rotated_shows_the_old_credential_unused_and_revoking_one_in_use_is_said(
    tmp_path: Path, orderhub_procs: OrderhubProcesses
) -> None:
    db_path = tmp_path / "rotation.db"
    server = orderhub_procs.serve(db_path)
    get_token(server.base_url)  # the partner on its old secret
    issued = json.loads(ok(cli(db_path, "credential", "issue", "demo-reseller-1", "--json")))
    assert last_sign_ins(db_path, "demo-reseller-1")[issued["client_id"]] is None

    get_token(server.base_url, issued["client_id"], issued["client_secret"])  # the partner moved to the new one
    rotated = last_sign_ins(db_path, "demo-reseller-1")
    old, new = rotated["demo-reseller-1"], rotated[issued["client_id"]]
    assert old is not None and new is not None and old < new
    table = ok(cli(db_path, "credential", "list", "demo-reseller-1"))
    assert issued["client_id"] in table and "demo-reseller-1" in table and "never" not in table
    assert issued["client_secret"] not in table

    revoked = cli(db_path, "credential", "revoke", "demo-reseller-1")
    assert f"credential demo-reseller-1 revoked (last signed in: {old.isoformat(timespec='seconds')})" in ok(revoked)
    assert "signed in within the last day" in revoked.stderr
    unused = cli(db_path, "credential", "revoke", "demo-reseller-2")
    assert "credential demo-reseller-2 revoked (last signed in: never)" in ok(unused)
    assert unused.stderr == ""
    listed = json.loads(ok(cli(db_path, "credential", "list", "--json")))
    revoked_at = {entry["client_id"]: entry["revoked_at"] for entry in listed}
    assert revoked_at["demo-reseller-1"] and revoked_at["demo-reseller-2"] and revoked_at[issued["client_id"]] is None


def test_listing_the_credentials_of_a_partner_that_is_not_there_is_one_line(tmp_path: Path) -> None:
    db_path = tmp_path / "empty.db"
    ok(cli(db_path, "migrate"))
    assert json.loads(ok(cli(db_path, "credential", "list", "--json"))) == []
    refused = cli(db_path, "credential", "list", "nope")
    assert refused.returncode == 1
    assert refused.stderr.strip() == "error: no partner nope"
