"""`orderhub customer export` (GDPR art. 15 and 20) on a demo server's SQLite file, run while it serves: a
person orders through each API over HTTP, and each partner's customer of them is given the one JSON
document of what is held about them, unmasked, with their orders and no one else's; wrong names are
refused as `customer erase` refuses them; after an erasure the export shows what is left."""

from __future__ import annotations

import json
import stat
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from orderhub.domain.erasure import ERASED, ERASURE_REASON
from orderhub.store.backup import backup_sqlite
from tests.integration.erasure_orders import (
    CHANNEL,
    CUSTOMER_PARTY,
    EMAIL,
    FIRST,
    LAST,
    ONAPI_CUSTOMER,
    PASSPORT,
    PIN,
    TMF622,
    PlacedOrders,
    erase,
    line_item,
    one_line,
    place_orders,
    post_esim,
)
from tests.integration.support import (
    OrderhubProcess,
    OrderhubProcesses,
    client,
    db_rows,
    get_token,
    place_order,
    run_cli,
    sqlite_url,
)

pytestmark = pytest.mark.integration

DOCUMENT_KEYS = ["exportedAt", "partner", "customer", "orders"]
CUSTOMER_KEYS = ["id", "createdAt", "email", "name", "identity", "countryOfResidence", "erasedAt"]
ORDER_KEYS = ["id", "api", "operation", "reference", "externalId", "correlationId", "state", "createdAt", "updatedAt",
              "request", "result", "history"]  # fmt: skip
EXTERNAL_ID = "shop-7-order-42"
SOMEONE_ELSE = "someone.else@example.org"


@dataclass(frozen=True)
class Served:
    server: OrderhubProcess
    db_path: Path
    url: str
    placed: PlacedOrders
    tmf_external: str  # the number of a TMF622 order of the passport customer that gave an externalId
    onapi: str
    others: list[str]  # another customer's order of demo-reseller-1; the person's order with demo-reseller-2


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """One server for every case (it keeps serving while the exports read): the person's orders through
    each API, and orders of others."""
    processes = OrderhubProcesses(tmp_path_factory.mktemp("export"))
    try:
        db_path = processes.tmp_path / "orderhub.db"
        server = processes.serve(db_path)
        placed = place_orders(server.base_url)
        channel_token = get_token(server.base_url, CHANNEL["client_id"], CHANNEL["client_secret"])
        with client(server.base_url) as http:
            body = {"productOrderItem": [line_item("DataPlan")], "relatedParty": [CUSTOMER_PARTY],
                    "externalId": EXTERNAL_ID}  # fmt: skip
            tmf = http.post(TMF622, json=body, headers={"Authorization": f"Bearer {channel_token}"})
            assert tmf.status_code == 201, tmf.text
            other_partner = post_esim(http, get_token(server.base_url, "demo-reseller-2", "demo-reseller-2-secret"),
                                      "NEW_ESIM", EMAIL)  # fmt: skip
            assert other_partner.status_code == 201, other_partner.text
        someone_else = place_order(server.base_url, get_token(server.base_url), SOMEONE_ELSE)
        ((onapi,),) = db_rows(db_path, "SELECT id FROM orders WHERE dialect = 'onapi-order'")
        others = [someone_else, other_partner.json()["id"]]
        yield Served(server, db_path, sqlite_url(db_path), placed, tmf.json()["id"], str(onapi), others)
    finally:
        processes.close()


def export(url: str, cwd: Path, *options: str) -> subprocess.CompletedProcess[str]:
    """`orderhub customer export OPTIONS` run to its end."""
    return run_cli("customer", "export", *options, "--db", url, cwd=cwd)


def exported(url: str, cwd: Path, *options: str) -> dict[str, Any]:
    """The one JSON document the export printed, checked for its shape; nothing said on stderr."""
    done = export(url, cwd, *options)
    assert (done.returncode, done.stderr) == (0, ""), f"exit {done.returncode}\n{done.stderr}"
    document = json.loads(done.stdout)
    assert list(document) == DOCUMENT_KEYS and list(document["customer"]) == CUSTOMER_KEYS
    assert all(list(order) == ORDER_KEYS for order in document["orders"]), document["orders"]
    assert datetime.fromisoformat(document["exportedAt"]).utcoffset() == timedelta(0)
    assert "***" not in done.stdout  # nothing masked
    return dict(document)


def ids(document: dict[str, Any]) -> list[str]:
    return [order["id"] for order in document["orders"]]


def test_the_esim_customer_by_email_gets_their_data_unmasked_and_their_orders_only(
    served: Served, tmp_path: Path
) -> None:
    document = exported(served.url, tmp_path, "--partner", "demo-reseller-1", "--email", EMAIL.upper())
    assert document["partner"] == "demo-reseller-1"
    customer = document["customer"]
    assert customer | {"id": None, "createdAt": None} == {
        "id": None, "createdAt": None, "email": EMAIL.lower(), "name": None, "identity": None,
        "countryOfResidence": "SE", "erasedAt": None,
    }  # fmt: skip
    # Oldest first; another customer's order and the same e-mail's order with another partner are absent.
    assert ids(document) == [served.placed.esim, served.placed.topup]
    assert not [other for other in served.others if other in json.dumps(document)]
    new, topup = document["orders"]
    assert [new[key] for key in ("api", "operation", "state", "correlationId")] == ["esim-v1", "NEW_ESIM",
                                                                                   "completed", EMAIL]  # fmt: skip
    sent = {"email": EMAIL, "countryOfResidence": "SE", "name": f"{FIRST} {LAST}"}
    assert new["request"]["input"]["customer"] == sent
    assert topup["request"]["input"]["customer"]["email"] == EMAIL.upper()  # as the partner sent it
    assert new["result"]["iccid"] == topup["result"]["iccid"] == served.placed.iccid
    assert new["result"]["subscriptionIds"] and list(new["result"]) == ["iccid", "subscriptionIds"]
    assert [step["status"] for step in new["history"]][-1] == "completed" and new["history"][0]["status"] == "accepted"
    assert new["createdAt"] <= topup["createdAt"] and new["updatedAt"] is not None


def test_the_onapi_customer_by_identity_number_in_another_spelling(served: Served, tmp_path: Path) -> None:
    document = exported(served.url, tmp_path, "--partner", "demo-co-acme", "--identity", "personalIdentityNumber",
                        "850709-3477")  # fmt: skip
    assert document["customer"]["identity"] == {"kind": "personalIdentityNumber", "number": "198507093477"}
    assert document["customer"]["name"] == f"{FIRST} {LAST}"
    assert ids(document) == [served.onapi]
    (order,) = document["orders"]
    assert (order["api"], order["state"]) == ("onapi-order", "completed")
    assert order["request"]["customerDetails"] == ONAPI_CUSTOMER  # phone, e-mail, address: as sent
    assert PIN in json.dumps(document)


def test_the_tmf_customer_by_identity_with_their_externalid(served: Served, tmp_path: Path) -> None:
    document = exported(served.url, tmp_path, "--partner", "demo-channel-1", "--identity", "Passport", PASSPORT)
    assert document["customer"]["identity"] == {"kind": "Passport", "number": PASSPORT}
    # The TMF APIs name their orders by number (ORD-...).
    numbers = [order["reference"] for order in document["orders"]]
    assert numbers == [served.placed.vendor, served.placed.tmf622, served.tmf_external]
    assert [order["api"] for order in document["orders"]] == ["tmf-productorder", "tmf622", "tmf622"]
    assert [order["externalId"] for order in document["orders"]] == [None, None, EXTERNAL_ID]
    assert CUSTOMER_PARTY in document["orders"][1]["request"]["order"]["relatedParty"]


def test_a_customer_by_id_is_the_same_document(served: Served, tmp_path: Path) -> None:
    by_email = exported(served.url, tmp_path, "--partner", "demo-reseller-1", "--email", EMAIL)
    by_id = exported(served.url, tmp_path, "--partner", "demo-reseller-1", "--id", by_email["customer"]["id"])
    assert by_id | {"exportedAt": None} == by_email | {"exportedAt": None}


def test_output_writes_a_new_owner_only_file_and_never_overwrites_one(served: Served, tmp_path: Path) -> None:
    target = tmp_path / "export.json"
    options = ("--partner", "demo-reseller-1", "--email", EMAIL, "--output", str(target))
    written = one_line(export(served.url, tmp_path, *options))
    customer_id = json.loads(target.read_text(encoding="utf-8"))["customer"]["id"]
    assert written == f"customer {customer_id} of demo-reseller-1: 2 orders written to {target}"
    assert EMAIL.lower() not in written
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    document = json.loads(target.read_text(encoding="utf-8"))
    assert ids(document) == [served.placed.esim, served.placed.topup] and document["customer"]["email"] == EMAIL.lower()
    before = target.read_bytes()
    refused = one_line(export(served.url, tmp_path, *options), code=1)
    assert refused == f"error: {target} already exists: choose a new file"
    assert target.read_bytes() == before
    missing = tmp_path / "no-such-dir" / "export.json"
    assert one_line(export(served.url, tmp_path, *options[:-1], str(missing)), code=1) == (
        f"error: cannot write {missing}: No such file or directory"
    )
    # Nobody to export: no file either.
    nobody = tmp_path / "nobody.json"
    one_line(export(served.url, tmp_path, "--partner", "demo-reseller-1", "--email", "no@body.org", "--output",
                    str(nobody)), code=1)  # fmt: skip
    assert not nobody.exists()


@pytest.mark.parametrize(
    "options",
    [
        ["--partner", "demo-reseller-1"],
        ["--partner", "demo-reseller-1", "--email", EMAIL, "--id", "x"],
        ["--partner", "demo-reseller-1", "--email", "nobody@doe.com"],
        ["--partner", "demo-reseller-1", "--identity", "personalIdentityNumber", "19850709-3478"],
        ["--partner", "demo-reseller-1", "--identity", "Passport", " "],
        ["--partner", "demo-channel-1", "--identity", "Passport", "QX1"],
        ["--partner", "demo-reseller-1", "--id", "no-such-customer"],
        ["--partner", "demo-reseller-2", "--identity", "Passport", PASSPORT],  # another partner's customer
        ["--partner", "nobody", "--email", EMAIL],
    ],
)
def test_a_customer_named_wrong_is_refused_in_erases_words(served: Served, tmp_path: Path, options: list[str]) -> None:
    refused = one_line(export(served.url, tmp_path, *options), code=1)
    assert refused == one_line(erase(served.url, tmp_path, *options, "--dry-run"), code=1)
    assert refused.startswith("error: ") and "{" not in refused


def test_an_erased_customer_is_exported_with_what_is_left(served: Served, tmp_path: Path) -> None:
    # Erased in a copy: the other cases read the served database as placed.
    url = sqlite_url(tmp_path / "erased.db")
    backup_sqlite(served.url, tmp_path / "erased.db")
    before = exported(url, tmp_path, "--partner", "demo-reseller-1", "--email", EMAIL)
    one_line(erase(url, tmp_path, "--partner", "demo-reseller-1", "--email", EMAIL))
    assert one_line(export(url, tmp_path, "--partner", "demo-reseller-1", "--email", EMAIL), code=1) == (
        "error: partner demo-reseller-1 has no customer of that e-mail (an erased customer's is gone: name them by"
        " --id)"
    )
    after = exported(url, tmp_path, "--partner", "demo-reseller-1", "--id", before["customer"]["id"])
    customer = after["customer"]
    assert customer["erasedAt"] is not None and customer["createdAt"] == before["customer"]["createdAt"]
    assert [customer[key] for key in ("email", "name", "identity", "countryOfResidence")] == [None] * 4
    assert ids(after) == ids(before)
    for order in after["orders"]:
        assert order["request"]["input"]["customer"] == {"email": ERASED, "countryOfResidence": ERASED, "name": ERASED}
        assert order["history"][-1]["reason"] == ERASURE_REASON
        assert order["result"] == before["orders"][ids(before).index(order["id"])]["result"]  # the eSIM stays
    assert EMAIL.lower() not in json.dumps(after).casefold()
