"""`orderhub customer erase` (GDPR art. 17) on a demo server's SQLite file: a person orders through each
API over HTTP, each partner's customer of them is erased through the real command, and then the database
holds none of their data in any column of any table, while every order still answers in its documented
shape, with its products, eSIM and history; the person ordering again is a new customer."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from orderhub.domain.erasure import ERASED, ERASURE_REASON
from tests.api.support import get_token as api_token
from tests.api.support import running_server
from tests.api.test_tmf622 import BASE as TMF622_BASE
from tests.api.test_tmf622 import Listener as Receiver
from tests.api.test_tmf622 import auth, create
from tests.api.test_tmf622_events import LOOPBACK
from tests.integration.erasure_orders import (
    CHANNEL,
    CO,
    CUSTOMER_PARTY,
    EMAIL,
    FIRST,
    LAST,
    ONAPI,
    ONAPI_CUSTOMER,
    PASSPORT,
    PERSONAL,
    PIN,
    check_answers,
    erase,
    line_item,
    onapi_order,
    one_line,
    personal_data_in,
    place_orders,
    post_esim,
    texts,
    without_audit_trail,
)
from tests.integration.support import (
    OrderhubProcesses,
    api_headers,
    client,
    db_rows,
    get_token,
    place_order,
    run_cli,
    sqlite_url,
)

pytestmark = pytest.mark.integration


def test_a_customer_of_each_api_is_erased_and_the_database_holds_none_of_their_data(
    tmp_path: Path, orderhub_procs: OrderhubProcesses
) -> None:
    db_path = tmp_path / "orderhub.db"
    url = sqlite_url(db_path)
    server = orderhub_procs.serve(db_path)
    placed = place_orders(server.base_url)
    token = get_token(server.base_url)
    with client(server.base_url) as http:  # read once: the answer is kept for the order's version
        assert http.get(f"/esim/v1/order/{placed.esim}", headers=api_headers(token)).json()["input"]["customer"][
            "email"] == EMAIL  # fmt: skip
    before = personal_data_in(url)
    assert {p for hits in before.values() for p in hits} == set(PERSONAL), before  # the search finds each
    assert {"customers.email", "customers.name", "customers.identity_value", "orders.request", "order_events.snapshot",
            "orders.correlation_id", "idempotency_keys.key"} <= before.keys(), before  # fmt: skip

    # The CO's customer has an order to be activated tomorrow: refused, naming it and what to do.
    with client(server.base_url) as http:
        tomorrow = (datetime.now(UTC) + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
        assert onapi_order(http, "access-free-2", tomorrow).json()["status"] == "RECEIVED"
    ((scheduled,),) = db_rows(db_path, "SELECT id FROM orders WHERE state = 'scheduled'")
    refused = one_line(erase(url, tmp_path, "--partner", "demo-co-acme", "--identity", "personalIdentityNumber",
                             PIN), code=1)  # fmt: skip
    assert refused.startswith("error: customer ") and f"has orders not final yet (1): {scheduled}; " in refused
    assert "orderhub order cancel <order>" in refused
    # Called off, with a reason that names the customer: the history and the cancellation keep it.
    one_line(run_cli("order", "cancel", str(scheduled), "--reason", f"{FIRST} {LAST} moved abroad", "--db", url,
                     cwd=tmp_path))  # fmt: skip

    # A dry run says what it would erase, and changes nothing.
    whole = texts(url)
    kept = {column: whole[column] for column in ("order_items.product_id", "order_items.state", "orders.state",
                                                "subscriptions.iccid", "esim_profiles.customer_id")}  # fmt: skip
    dry = one_line(erase(url, tmp_path, "--partner", "demo-reseller-1", "--email", EMAIL.upper(), "--dry-run"))
    assert re.fullmatch(r"dry run, nothing changed: would erase customer \S+ of demo-reseller-1: its e-mail "
                        r"z\*\*\*@example\.org, country; its data in 2 orders \(\S+, \S+\), 0 event snapshots and "
                        r"0 reasons given with changes, and in 3 correlation ids and idempotency keys",
                        dry), dry  # fmt: skip
    assert without_audit_trail(texts(url)) == without_audit_trail(whole)

    # Each partner's customer, named each way: e-mail in any case, a TMF identification, an identity
    # number in another spelling.
    esim_done = one_line(erase(url, tmp_path, "--partner", "demo-reseller-1", "--email", EMAIL.upper()))
    assert esim_done == dry.removeprefix("dry run, nothing changed: would erase ").replace(
        " of demo-reseller-1:", " of demo-reseller-1 erased:")  # fmt: skip
    tmf_done = one_line(erase(url, tmp_path, "--partner", "demo-channel-1", "--identity", "Passport", PASSPORT))
    tmf_pattern = (
        r"customer \S+ of demo-channel-1 erased: its identity Passport \*+91, name; its data in 2 orders"
        r" \(ORD-\S+, ORD-\S+\), [1-9][0-9]* event snapshots? and 0 reasons given with changes, and in 3"
        r" correlation ids and idempotency keys"
    )  # the line orders' events keep snapshots; tmf-productorder keeps its correlation id as a key too
    assert re.fullmatch(tmf_pattern, tmf_done), tmf_done
    co_done = one_line(erase(url, tmp_path, "--partner", "demo-co-acme", "--identity", "personalIdentityNumber",
                             "850709-3477"))  # fmt: skip
    assert re.fullmatch(
        r"customer \S+ of demo-co-acme erased: its identity personalIdentityNumber \*+77, name; "
        r"its data in 2 orders \(\S+, \S+\), 0 event snapshots and 4 reasons given with changes",
        co_done,
    ), co_done  # the cancellation's reason, kept by it, by the order and by two of the order's events

    assert personal_data_in(url) == {}
    # The ids that held the e-mail are ids still: "erased-" and a keyed hash, the same for the same id sent.
    ((key,),) = db_rows(db_path, f"SELECT key FROM idempotency_keys WHERE order_id = '{placed.esim}'")
    esim_orders = f"('{placed.esim}', '{placed.topup}')"
    ((new_cid,), (topup_cid,)) = db_rows(
        db_path, f"SELECT correlation_id FROM orders WHERE id IN {esim_orders} ORDER BY created_at"
    )
    assert new_cid == key != topup_cid and re.fullmatch(r"erased-[0-9a-f]{32}", topup_cid), (key, topup_cid)
    after = texts(url)
    assert {column: after[column] for column in kept} == kept  # orders, products, eSIMs: as they were
    customers = db_rows(db_path, "SELECT partner_id, email, name, identity_type, identity_value, country_of_residence,"
                                 " erased_at IS NOT NULL FROM customers WHERE id IN (SELECT customer_id FROM orders)"
                                 " ORDER BY partner_id")  # fmt: skip
    assert customers == [(partner, None, None, None, None, None, 1)
                         for partner in ("demo-channel-1", "demo-co-acme", "demo-reseller-1")]  # fmt: skip
    erased_ids = {row[0] for row in db_rows(db_path, "SELECT id FROM customers WHERE erased_at IS NOT NULL")}
    assert {row[0] for row in db_rows(db_path, "SELECT DISTINCT customer_id FROM orders")} == erased_ids
    check_answers(server.base_url, placed)

    # Their e-mail no longer finds the eSIM; ordering again, the person is a new customer, not the erased one.
    with client(server.base_url) as http:
        topup = post_esim(http, token, "TOPUP", EMAIL, placed.iccid)
        assert (topup.status_code, topup.json()["type"]) == (422, "CUSTOMER_MUST_EXIST"), topup.text
        assert post_esim(http, token, "NEW_ESIM", EMAIL).status_code == 201
        topup = post_esim(http, token, "TOPUP", EMAIL, placed.iccid)
        assert (topup.status_code, topup.json()["type"]) == (422, "EMAIL_AND_ICCID_DO_NOT_MATCH"), topup.text
    ((new_customer,),) = db_rows(db_path, f"SELECT id FROM customers WHERE email = '{EMAIL.lower()}'")
    assert new_customer not in erased_ids

    # Run again on an erased customer (by id: nothing else finds them), it finds nothing left to erase.
    erased_id = esim_done.split()[1]
    again = one_line(erase(url, tmp_path, "--partner", "demo-reseller-1", "--id", erased_id))
    assert re.fullmatch(rf"customer {erased_id} of demo-reseller-1 was erased at \S+; its data erased now in 0 "
                        r"orders, 0 event snapshots and 0 reasons given with changes", again), again  # fmt: skip
    show = run_cli("order", "show", placed.esim, "--json", "--db", url, cwd=tmp_path)
    assert show.returncode == 0, show.stderr
    shown = json.loads(show.stdout)
    assert shown["customer"] | {"erased": None} == {"id": erased_id, "name": None, "email": None, "identity": None,
                                                   "erased": None}  # fmt: skip
    assert shown["history"][-1]["reason"] == ERASURE_REASON and shown["state"] == "completed"


@pytest.fixture
def demo_db(tmp_path: Path) -> str:
    url = sqlite_url(tmp_path / "demo.db")
    assert run_cli("demo-data", "--db", url, cwd=tmp_path).returncode == 0
    return url


@pytest.mark.parametrize(
    ("options", "error"),
    [
        ([], "error: name the customer by exactly one of --email, --identity or --id (given: none)"),
        (["--email", "john@doe.com", "--id", "x"], "exactly one of --email, --identity or --id (given: --email, --id)"),
        (["--email", "nobody@doe.com"], "error: partner demo-reseller-1 has no customer of that e-mail (an erased "
                                        "customer's is gone: name them by --id)"),
        (["--identity", "personalIdentityNumber", "19850709-3478"],
         "error: --identity personalIdentityNumber: not a valid Swedish personal identity number"),
        (["--identity", "Passport", " "], "error: --identity takes a kind and a number"),
        (["--identity", "Passport", "QX1"],
         "error: partner demo-reseller-1 has no customer of that identity (Passport;"),
        (["--id", "no-such-customer"], "error: partner demo-reseller-1 has no customer of id no-such-customer"),
    ],
)  # fmt: skip
def test_a_customer_named_wrong_is_refused_in_one_line(
    demo_db: str, tmp_path: Path, options: list[str], error: str
) -> None:
    done = erase(demo_db, tmp_path, "--partner", "demo-reseller-1", *options)
    assert error in one_line(done, code=1)
    assert "19850709" not in done.stderr and "nobody@" not in done.stderr


def test_another_partners_customer_and_an_unknown_partner_are_refused(demo_db: str, tmp_path: Path) -> None:
    shown = erase(demo_db, tmp_path, "--partner", "demo-reseller-1", "--email", "john@doe.com", "--dry-run")
    john = one_line(shown).split()[7]
    assert one_line(erase(demo_db, tmp_path, "--partner", "demo-reseller-2", "--id", john), code=1) == (
        f"error: partner demo-reseller-2 has no customer of id {john}"
    )
    assert one_line(erase(demo_db, tmp_path, "--partner", "nobody", "--email", "john@doe.com"), code=1) == (
        "error: no partner nobody"
    )


def test_a_cancellation_requests_events_sent_after_an_erasure_hold_none_of_the_customers_data(
    tmp_path: Path,
) -> None:
    cancellation_events_sent_after_an_erasure_hold_none_of_the_customers_data(tmp_path)


def cancellation_events_sent_after_an_erasure_hold_none_of_the_customers_data(tmp_path: Path) -> None:
    """A TMF622 cancellation whose reason names the customer, its events still waiting for a listener that
    is down when the customer is erased: each event is rendered from what is stored when it is sent, so
    none of them brings the data back (tests.postgres runs it too)."""
    down = Receiver()
    down.failing = True
    try:
        with running_server(tmp_path / "cancel.db", **LOOPBACK) as server, server.client() as http:
            token = api_token(http, CHANNEL["client_id"], CHANNEL["client_secret"])
            registered = http.post(f"{TMF622_BASE}/hub", json={"callback": down.url}, headers=auth(token))
            assert registered.status_code == 201, registered.text
            later = (datetime.now(UTC) + timedelta(days=3)).strftime("%Y-%m-%dT%H:%M:%SZ")
            body = {"productOrderItem": [line_item("Addon")], "relatedParty": [CUSTOMER_PARTY],
                    "requestedStartDate": later}  # fmt: skip
            order = create(http, token, body)
            reason = {"cancellationReason": f"{FIRST} {LAST} moved abroad"}
            asked = http.post(f"{TMF622_BASE}/cancelProductOrder", json={"productOrder": {"id": order["id"]}, **reason},
                              headers=auth(token))  # fmt: skip
            assert asked.status_code == 201 and asked.json()["state"] == "done", asked.text
            url = server.services.settings.database_url
            one_line(erase(url, tmp_path, "--partner", str(CHANNEL["client_id"]), "--identity", "Passport", PASSPORT))
            hub = server.services.hub
            listener = hub.listeners(str(CHANNEL["client_id"]))[0]
            bodies = [hub.body_for(listener, pending) for pending in hub.pending(listener, limit=100)]
    finally:
        down.close()

    types = [body["eventType"] for body in bodies if body is not None]
    assert types.count("CancelProductOrderCreateEvent") == types.count("CancelProductOrderStateChangeEvent") == 1
    sent = json.dumps(bodies).casefold()
    assert [personal for personal in PERSONAL if personal in sent] == []
    requests = [
        body["event"]["cancelProductOrder"] for body in bodies if body and "cancelProductOrder" in body["event"]
    ]
    assert [request["cancellationReason"] for request in requests] == [ERASED] * 2


def test_the_erasure_of_a_customer_with_one_order_says_one_order(
    orderhub_procs: OrderhubProcesses, tmp_path: Path
) -> None:
    db_path = tmp_path / "one.db"
    server = orderhub_procs.serve(db_path)
    order_id = place_order(server.base_url, get_token(server.base_url), "one.order@example.org")
    dry = one_line(erase(sqlite_url(db_path), tmp_path, "--partner", "demo-reseller-1", "--email",
                         "one.order@example.org", "--dry-run"))  # fmt: skip
    assert re.fullmatch(r"dry run, nothing changed: would erase customer \S+ of demo-reseller-1: its e-mail "
                        rf"o\*\*\*@example\.org, country; its data in 1 order \({order_id}\), 0 event snapshots and "
                        r"0 reasons given with changes", dry), dry  # fmt: skip


def test_a_refusal_kept_under_a_key_that_names_the_customer_goes_with_the_erasure(
    tmp_path: Path, orderhub_procs: OrderhubProcesses
) -> None:
    """An onapi-order refusal kept under its Idempotency-Key (migration 0023) is linked to no order: the
    erasure, which looked only at the keys of the customer's orders, left a key that named them, with the
    fingerprint of the refused request's body (its customerDetails included) beside it."""
    db_path = tmp_path / "orderhub.db"
    url = sqlite_url(db_path)
    server = orderhub_procs.serve(db_path)
    with client(server.base_url) as http:
        assert onapi_order(http, "access-free-1", "2026-01-01T00:00:00Z").json()["status"] == "ACTIVATED"
        body = {"coId": "Acme", "coAccessId": "access-free-1", "operation": "ACTIVATE",
                "orderDateTime": "2026-01-02T00:00:00Z", "requestedDateTime": "2026-01-02T00:00:00Z",
                "products": [{"productId": "fiber-internet", "offeringId": "1000-1000"}],
                "customerDetails": ONAPI_CUSTOMER}  # fmt: skip
        retry_key = {"Idempotency-Key": f"again-{PIN}"}  # the CO's key names the customer
        refused = http.post(ONAPI, json=body, auth=CO, headers=retry_key)
        assert refused.json()["status"] == "REJECTED", refused.text
        replayed = http.post(ONAPI, json=body, auth=CO, headers=retry_key)
        assert replayed.headers.get("idempotent-replayed") == "true", replayed.headers
    assert db_rows(db_path, "SELECT key, refusal FROM idempotency_keys WHERE order_id IS NULL") == [
        (f"again-{PIN}", "already_active")
    ]

    done = one_line(erase(url, tmp_path, "--partner", "demo-co-acme", "--identity", "personalIdentityNumber", PIN))
    assert done.endswith("and 0 reasons given with changes, and in 1 correlation id or idempotency key"), done
    assert personal_data_in(url) == {}
    # The kept refusal went whole, its fingerprint with it: nothing needs it (no order stands for it).
    assert db_rows(db_path, "SELECT key FROM idempotency_keys WHERE order_id IS NULL") == []
    with client(server.base_url) as http:  # the same request with that key again is decided anew
        again = http.post(ONAPI, json=body, auth=CO, headers=retry_key)
    assert again.json()["status"] == "REJECTED" and "idempotent-replayed" not in again.headers, again.headers
