"""One person's orders through each API of a demo server, over HTTP, and what the database holds as text:
for `orderhub customer erase` on SQLite (test_customer_erase.py, test_customer_retention.py) and
PostgreSQL (tests/postgres)."""

from __future__ import annotations

import subprocess
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import jsonschema_rs
import sqlalchemy as sa

from orderhub.domain.erasure import ERASED, ERASURE_REASON
from orderhub.store.database import create_engine
from orderhub.store.tables import customers, order_events, orders
from tests.integration.support import DEMO_PRODUCT_ID, api_headers, client, get_token, run_cli

# One person, as each partner's customer: made-up values that nothing else in a demo database holds.
EMAIL = "Zlatanka.Quixfeld@Example.org"
FIRST, LAST = "Zlatanka", "Quixfeld"
PASSPORT = "QX7734491"
PIN = "19850709-3477"  # a Swedish personal identity number; kept as 198507093477
PHONE, MOBILE = "+46701112233", "+46709998877"
STREET, POSTAL_CODE, CITY = "Quokkavägen", "98765", "Xylbo"
# What must be found nowhere once the person is erased, in any case; each spelling of the identity number
# holds one of the two. The postal code is looked for as the JSON text it stands as (five digits alone
# could be part of an ICCID).
PERSONAL = (EMAIL.lower(), FIRST.lower(), LAST.lower(), PASSPORT.lower(), "8507093477", "850709-3477", PHONE, MOBILE,
            STREET.lower(), CITY.lower(), f'"{POSTAL_CODE}"')  # fmt: skip

TMF622 = "/tmf-api/productOrderingManagement/v4/productOrder"
VENDOR = "/emida-ux-lcr/emida-ux/v1/CR/productOrder"
ONAPI = "/2.5/sp_spec/order/"
CHANNEL = {"client_id": "demo-channel-1", "client_secret": "demo-channel-1-secret"}
CO = ("demo-co-acme", "demo-co-acme-secret")
CUSTOMER_PARTY = {
    "id": PASSPORT, "role": "Customer", "name": f"{FIRST} {LAST}", "@referredType": "Individual",
    "characteristic": [{"name": "identificationType", "value": "Passport"}],
}  # fmt: skip
SELLER_PARTY = {"id": "shop-7", "role": "Seller", "name": "Corner shop"}
ONAPI_CUSTOMER = {
    "identifiedCustomer": True, "personalIdentityNumber": PIN, "customerFirstname": FIRST, "customerLastName": LAST,
    "customerPhone": PHONE, "customerMobilePhone": MOBILE, "customerEmail": EMAIL,
    "invoiceDetails": {"streetName": STREET, "streetNumber": "17", "postalCode": POSTAL_CODE, "city": CITY},
}  # fmt: skip


@dataclass(frozen=True)
class PlacedOrders:
    esim: str  # esim-v1 NEW_ESIM, by e-mail
    topup: str  # esim-v1 TOPUP of that eSIM
    iccid: str
    vendor: str  # tmf-productorder's number, its Customer party identified by passport
    tmf622: str  # TMF622's number: the same customer, and a note that names them
    # And an onapi-order order (its answer names no order), its customer identified by personal identity number.


def esim_body(operation: str, email: str, iccid: str | None = None) -> dict[str, Any]:
    activation = (datetime.now(UTC) + timedelta(days=2)).strftime("%Y-%m-%dT%H:%M:%SZ")
    body: dict[str, Any] = {"input": {
        "operationType": operation, "countryCode": "PT",
        # A field esim-v1 does not know is kept as sent, and echoed: the customer's name, here.
        "customer": {"email": email, "countryOfResidence": "SE", "name": f"{FIRST} {LAST}"},
        "device": {"product_id": "123456789", "model": "iPhone", "type": "ios"},
        "subscriptions": [{"id": DEMO_PRODUCT_ID, "activationDate": activation, "price": 10, "currency": "USD"}],
    }}  # fmt: skip
    if iccid is not None:
        body["input"]["esim"] = {"iccid": iccid}
    return body


def post_esim(
    http: httpx.Client, token: str, operation: str, email: str, iccid: str | None = None, **headers: str
) -> httpx.Response:
    return http.post("/esim/v1/order", json=esim_body(operation, email, iccid), headers={**api_headers(token),
                                                                                      **headers})  # fmt: skip


def line_item(plan_type: str) -> dict[str, Any]:
    """An item on the demo's line 69877689, the offering where both APIs take it (in the product)."""
    return {"id": "1", "action": "add", "product": {"productOffering": {"id": "OFFER-DP-001"},
        "productCharacteristic": [{"name": "MSISDN", "value": "69877689"}, {"name": "planType", "value": plan_type}],
    }}  # fmt: skip


def onapi_order(
    http: httpx.Client, access: str, when: str, customer: dict[str, Any] = ONAPI_CUSTOMER
) -> httpx.Response:
    body = {"coId": "Acme", "coAccessId": access, "operation": "ACTIVATE", "orderDateTime": "2026-01-01T00:00:00Z",
            "requestedDateTime": when, "products": [{"productId": "fiber-internet", "offeringId": "1000-1000"}],
            "customerDetails": customer}  # fmt: skip
    return http.post(ONAPI, json=body, auth=CO)


def place_orders(base_url: str) -> PlacedOrders:
    """The person's orders through each API, each final when answered."""
    with client(base_url) as http:
        token = get_token(base_url)
        # A partner's ids may be the customer's e-mail or passport number (each API keeps them as sent).
        new = post_esim(http, token, "NEW_ESIM", EMAIL, **{"X-Correlation-ID": EMAIL, "Idempotency-Key": EMAIL})
        assert new.status_code == 201, new.text
        esim = new.json()["id"]
        iccid = http.get(f"/esim/v1/order/{esim}", headers=api_headers(token)).json()["output"]["iccid"]
        topup = post_esim(http, token, "TOPUP", EMAIL.upper(), iccid, **{"X-Correlation-ID": EMAIL.upper()})
        assert topup.status_code == 201, topup.text

        vendor = http.post(
            VENDOR,
            json={"category": "esimPrepaid", "productOrderItem": [line_item("DataPlan")],
                  "relatedParty": [CUSTOMER_PARTY, SELLER_PARTY]},
            headers={**CHANNEL, "X-Correlation-ID": f"id-{PASSPORT}"},
        )  # fmt: skip
        assert (vendor.status_code, vendor.json()["state"]) == (201, "completed"), vendor.text
        channel_token = get_token(base_url, CHANNEL["client_id"], CHANNEL["client_secret"])
        tmf = http.post(
            TMF622,
            json={"productOrderItem": [line_item("Addon")], "relatedParty": [CUSTOMER_PARTY],
                  "note": [{"text": f"{FIRST} {LAST} asked to be called back", "author": "Corner shop"}]},
            headers={"Authorization": f"Bearer {channel_token}", "Idempotency-Key": PASSPORT},
        )  # fmt: skip
        assert (tmf.status_code, tmf.json()["state"]) == (201, "completed"), tmf.text

        activated = onapi_order(http, "access-free-1", "2026-01-01T00:00:00Z")
        assert activated.json()["status"] == "ACTIVATED", activated.text
    return PlacedOrders(esim, topup.json()["id"], iccid, vendor.json()["id"], tmf.json()["id"])


def texts(url: str) -> dict[str, list[str]]:
    """Every value of every column of every table, as text, by ``table.column``: what a search of the
    whole database reads."""
    engine = create_engine(url)
    try:
        inspector = sa.inspect(engine)
        found: dict[str, list[str]] = {}
        with engine.connect().execution_options(read_only=True) as connection:  # no write lock: a server runs
            for table in inspector.get_table_names():
                for column in inspector.get_columns(table):
                    name = f'"{column["name"]}"'
                    rows = connection.exec_driver_sql(f'SELECT CAST({name} AS TEXT) FROM "{table}"').all()
                    found[f"{table}.{column['name']}"] = [str(value) for (value,) in rows if value is not None]
        return found
    finally:
        engine.dispose()


def customer_ids(url: str) -> dict[str, str]:
    """Each customer's id by the key their partner knows them by: their e-mail (lower case) or identity."""
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            rows = connection.execute(sa.select(customers.c.id, customers.c.email, customers.c.identity_value))
            return {str(email or identity): str(customer_id) for customer_id, email, identity in rows}
    finally:
        engine.dispose()


def backdate(url: str, customer_ids: Iterable[str], at: datetime, *, history_too: bool = True) -> None:
    """Test set-up, for a retention policy's cut-off without waiting months: the customers made, and their
    orders made and last changed, at ``at``; their orders' history too (``history_too``), else it stays
    as it happened (an order changed long ago that the partner touched since)."""
    ids = list(customer_ids)
    engine = create_engine(url)
    try:
        with engine.begin() as connection:
            connection.execute(sa.update(customers).where(customers.c.id.in_(ids)).values(created_at=at))
            theirs = orders.c.customer_id.in_(ids)
            connection.execute(sa.update(orders).where(theirs).values(created_at=at, updated_at=at))
            if history_too:
                their_orders = sa.select(orders.c.id).where(theirs)
                connection.execute(
                    sa.update(order_events).where(order_events.c.order_id.in_(their_orders)).values(at=at)
                )
    finally:
        engine.dispose()


def without_audit_trail(found: dict[str, list[str]]) -> dict[str, list[str]]:
    """``texts`` but the operators' audit trail, which records every command, a dry run's too."""
    return {where: values for where, values in found.items() if not where.startswith("operator_commands.")}


def personal_data_in(url: str) -> dict[str, list[str]]:
    """Where the database holds any of the person's data: ``table.column`` -> what it holds of it."""
    held: dict[str, list[str]] = {}
    for where, values in texts(url).items():
        hits = sorted({personal for value in values for personal in PERSONAL if personal in value.casefold()})
        if hits:
            held[where] = hits
    return held


def erase(url: str, cwd: Path, *options: str) -> subprocess.CompletedProcess[str]:
    """`orderhub customer erase OPTIONS` run to its end."""
    done = run_cli("customer", "erase", *options, "--db", url, cwd=cwd)
    # Whatever it says, it says nothing of the person but masked.
    assert not [p for p in PERSONAL if p in (done.stdout + done.stderr).casefold()], done.stdout + done.stderr
    return done


def one_line(done: subprocess.CompletedProcess[str], code: int = 0) -> str:
    """The one line the command printed: on stdout when it exits 0, on stderr else."""
    assert done.returncode == code, f"exit {done.returncode}\n{done.stdout}\n{done.stderr}"
    text = done.stdout if code == 0 else done.stderr
    assert text.count("\n") == 1, text
    return text.strip()


ERASED_PARTY = {"id": ERASED, "role": "Customer", "name": ERASED, "@referredType": "Individual",
                "characteristic": [{"name": "identificationType", "value": ERASED}]}  # fmt: skip


def esim_answer_schema(base_url: str) -> Any:
    with client(base_url) as http:
        document = http.get("/esim/v1/openapi.json").json()
    return jsonschema_rs.validator_for(
        {"$ref": "#/components/schemas/OrderResource", "components": document["components"]}
    )


def check_answers(base_url: str, placed: PlacedOrders) -> None:
    """Every API answers the erased orders 200, in its documented shape, without the person's data."""
    token = get_token(base_url)
    esim_schema = esim_answer_schema(base_url)
    channel_token = get_token(base_url, CHANNEL["client_id"], CHANNEL["client_secret"])
    with client(base_url) as http:
        for order_id in (placed.esim, placed.topup):
            answer = http.get(f"/esim/v1/order/{order_id}", headers=api_headers(token))
            assert answer.status_code == 200, answer.text
            body = answer.json()
            esim_schema.validate(body)
            assert body["status"] == "COMPLETED" and body["output"]["iccid"] == placed.iccid
            assert body["input"]["customer"] == {"email": ERASED, "countryOfResidence": ERASED, "name": ERASED}
            assert body["history"][-1] == {"at": body["history"][-1]["at"], "status": "completed",
                                           "reason": ERASURE_REASON}  # fmt: skip
        tmf = http.get(f"{TMF622}/{placed.tmf622}", headers={"Authorization": f"Bearer {channel_token}"})
        assert tmf.status_code == 200 and tmf.json()["state"] == "completed", tmf.text
        assert tmf.json()["relatedParty"] == [ERASED_PARTY]
        assert tmf.json()["note"] == [{"text": ERASED, "author": "Corner shop"}]
        listed = http.get(TMF622, headers={"Authorization": f"Bearer {channel_token}"})
        assert listed.status_code == 200 and CUSTOMER_PARTY["name"] not in listed.text, listed.text
        vendor = http.get(f"/emida-ux-lcr/emida-ux/v1/CR/productOrder/{placed.vendor}",
                          headers={**CHANNEL, "X-Correlation-ID": "after-erasure"})  # fmt: skip
        assert vendor.status_code == 200 and vendor.json()["state"] == "completed", vendor.text
        assert vendor.json()["relatedParty"] == [ERASED_PARTY, SELLER_PARTY]
