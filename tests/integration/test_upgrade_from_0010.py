"""An upgrade in place, as partners see it: a database the release at migration 0010 wrote through its own
APIs (tests/fixtures/upgrade_from_0010, made by make_fixture.py there, with what that release answered) is
served by this release. Every order reads back as it did, retries with the same keys answer the same
orders, other bodies with those keys are refused as before, the tokens it issued still work, the orders it
left in flight are finished, and the TMF622 listener it registered hears the events it had not heard."""

from __future__ import annotations

import json
import shutil
import sqlite3
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from functools import partial
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from orderhub.store.migrate import head_revision
from tests.integration.support import HOST, OrderhubProcesses, client, run_cli, wait_until

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "upgrade_from_0010"
ANSWERS: dict[str, Any] = json.loads((FIXTURE / "answers.json").read_text())
SENT: dict[str, Any] = ANSWERS["sent"]
TMF = "/tmf-api/productOrderingManagement/v4"
# Finished when the fixture was written: read back unchanged. The others were left in flight.
IN_FLIGHT = ("esim_accepted", "tmf_acknowledged")


@pytest.fixture
def listener() -> Iterator[tuple[str, list[dict[str, Any]]]]:
    """A TMF622 listener on this machine: its callback URL and the events it received, in order."""
    received: list[dict[str, Any]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            received.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer((HOST, 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://{HOST}:{server.server_address[1]}/listener", received
    finally:
        server.shutdown()
        server.server_close()


def _as_served_by(value: Any, base_url: str, callback: str) -> Any:
    """An old answer with its absolute links at this server (TMF622's hrefs name the address asked) and
    the listener where it moved."""
    old_callback = SENT["tmf_hub"]["body"]["callback"]
    return json.loads(json.dumps(value).replace(ANSWERS["base_url"], base_url).replace(old_callback, callback))


def _replay(http: Any, name: str) -> Any:
    sent = SENT[name]
    return http.request(sent["method"], sent["path"], headers=sent["headers"], json=sent["body"])


def _replay_settled(http: Any, name: str, due: bool) -> Any:
    """The retry's answer once the order is activated, if it is due (None until then)."""
    answer = _replay(http, name)
    return answer if answer.json()["status"] != "RECEIVED" or not due else None


def _heard(events: list[dict[str, Any]]) -> list[tuple[str, str, str]]:
    """Each event the listener received: its type, and its order's id and state."""
    return [
        (e["eventType"], e["event"]["productOrder"]["id"], e["event"]["productOrder"]["state"]) for e in list(events)
    ]


def _headers(who: str, tokens: dict[str, Any]) -> dict[str, str]:
    if who == "keys":
        return {"client_id": "demo-channel-1", "client_secret": "demo-channel-1-secret", "X-Correlation-ID": "up"}
    partner = "demo-reseller-1" if who == "reseller" else "demo-channel-1"
    return {"Authorization": f"Bearer {tokens[partner]['access_token']}", "X-Correlation-ID": "up"}


def test_a_database_of_the_release_at_0010_serves_its_partners_alike_after_the_upgrade(
    orderhub_procs: OrderhubProcesses, tmp_path: Path, listener: tuple[str, list[dict[str, Any]]]
) -> None:
    db = tmp_path / "orderhub.db"
    shutil.copyfile(FIXTURE / "orderhub.db", db)
    callback, events = listener
    # The listener the old release registered was never up (its events wait); it is now at this test's port.
    with sqlite3.connect(db) as connection:
        connection.execute("UPDATE hub_listeners SET callback = ?", (callback,))
    connection.close()
    server = orderhub_procs.serve(db, demo=False, env={"ORDERHUB_HUB_ALLOWED_NETWORKS": f"{HOST}/32"})
    tokens = ANSWERS["tokens"]
    with client(server.base_url) as http:
        assert http.get("/readyz").json()["migration"] == head_revision()

        # Each order as each API shows it: as before (but TMF622's orders in tmf-productorder's shape,
        # which now name the category they were given none of, as README says).
        for name, reads in ANSWERS["reads"].items():
            if name in IN_FLIGHT:
                continue
            for read in reads:
                now = http.get(read["path"], headers=_headers(read["as"], tokens)).json()
                if read["as"] == "keys" and "category" not in read["answer"]:
                    assert now.pop("category") == "esimPrepaid"
                assert now == _as_served_by(read["answer"], server.base_url, callback), read["path"]

        # A TMF622 order is found by the externalId its partner gave it then (migration 0025's index).
        by_external_id = http.get(
            f"{TMF}/productOrder", params={"externalId": "fx-ext-1"}, headers=_headers("channel", tokens)
        )
        assert [order["id"] for order in by_external_id.json()] == [SENT["tmf_completed"]["answer"]["id"]]

        # The orders left in flight are finished by this release's worker.
        esim_accepted = ANSWERS["reads"]["esim_accepted"][0]["path"]
        wait_until(
            lambda: http.get(esim_accepted, headers=_headers("reseller", tokens)).json()["status"] == "COMPLETED",
            timeout=10,
            message="the eSIM order accepted before the upgrade to complete",
        )
        line_order = http.get(ANSWERS["reads"]["tmf_acknowledged"][0]["path"], headers=_headers("channel", tokens))
        assert (line_order.json()["state"], line_order.json()["description"]) == ("completed", "patched before")

        # Retries with the same keys answer the first orders, now in their final state; another body
        # with a key used before is refused as it was.
        for name in ("esim_new", "esim_new_mixed_case", "esim_topup", "esim_accepted", "emida_dataplan"):
            again = _replay(http, name)
            assert again.status_code == 201, (name, again.text)
            assert again.headers["Idempotent-Replayed"] == "true"
            assert again.json()["id"] == SENT[name]["answer"]["id"]
        for name in ("onapi_scheduled", "onapi_now", "onapi_received", "onapi_unkeyed"):
            # Activated by now; the scheduled one from its requested time on (minutes after the fixture's).
            due = datetime.fromisoformat(SENT[name]["body"]["requestedDateTime"]) <= datetime.now(UTC)
            again = wait_until(partial(_replay_settled, http, name, due), timeout=10, message=f"{name} activated")
            expected = "ACTIVATED" if due else "RECEIVED"
            assert (again.status_code, again.json()["status"]) == (200, expected), (name, again.text)
            assert again.headers["Idempotent-Replayed"] == "true"
        # The same services ordered for another end customer are no retry of that order (its key, stored
        # before keys named the customer, names the services only): refused as already active.
        unkeyed = SENT["onapi_unkeyed"]
        other_customer = {**unkeyed["body"]["customerDetails"], "customerFirstname": "Berit"}
        refused = http.post(
            unkeyed["path"], headers=unkeyed["headers"], json={**unkeyed["body"], "customerDetails": other_customer}
        )
        assert refused.json()["status"] == "REJECTED" and "Idempotent-Replayed" not in refused.headers
        assert _replay(http, "esim_key_reused").json()["type"] == "IDEMPOTENCY_KEY_REUSED"
        assert _replay(http, "emida_reused").json()["code"] == "CONFLICT"
        assert _replay(http, "onapi_key_reused").status_code == 409

        # The tokens it issued: access tokens still let their partners in, refresh tokens still refresh.
        assert http.get("/esim/v1/product", headers=_headers("reseller", tokens)).status_code == 200
        for partner, issued in tokens.items():
            refreshed = http.post(
                "/oauth2/token",
                data={"grant_type": "refresh_token", "refresh_token": issued["refresh_token"]},
                auth=(partner, f"{partner}-secret"),
            )
            assert refreshed.status_code == 200, refreshed.text

    # The listener hears what it had not: the old release's events, then the completion of the order it left.
    completed = SENT["tmf_acknowledged"]["answer"]["id"]
    done = ("ProductOrderStateChangeEvent", completed, "completed")
    wait_until(lambda: done in _heard(events), timeout=10, message="the events of the orders placed before")
    heard = _heard(events)
    assert heard[0] == ("ProductOrderCreateEvent", SENT["tmf_completed"]["answer"]["id"], "acknowledged")
    assert ("ProductOrderCreateEvent", completed, "acknowledged") in heard
    assert heard[-1] == done

    # The operator's commands on the upgraded data.
    for command in (["order", "list"], ["partner", "list"], ["order", "show", completed]):
        assert run_cli(*command, "--db", f"sqlite:///{db}", cwd=tmp_path).returncode == 0, command
    erased = run_cli(
        "customer",
        "erase",
        "--partner",
        "demo-reseller-1",
        "--email",
        "john@doe.com",
        "--db",
        f"sqlite:///{db}",
        cwd=tmp_path,
    )
    assert erased.returncode == 0, erased.stdout + erased.stderr
    assert run_cli("backup", tmp_path / "backup.db", "--db", f"sqlite:///{db}", cwd=tmp_path).returncode == 0
    assert "Traceback" not in server.log(tail_chars=1_000_000)
