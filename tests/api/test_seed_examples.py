"""The seed's two example requests, verbatim (activation date moved to the future), end to end."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from orderhub.bootstrap import build_services
from orderhub.services.demo import load_demo_data
from orderhub.settings import Settings
from tests.api.support import (
    FUTURE,
    completed_order,
    headers,
    new_esim_body,
    place,
    topup_body,
    unique_email,
    wait_for,
)
from tests.databases import database_url

SEED_NEW_ESIM = """{
      	"input": {
            "operationType": "NEW_ESIM",
            "countryCode": "PT",
            "customer": {
                "email": "john@doe.com",
                "countryOfResidence": "US"
            },
            "device": {
                "product_id": "123456789",
                "model": "iPhone",
                "type": "ios"
            },
      	    "subscriptions": [{
      	        "id": "a3u3z000000PZBhAAO",
      	        "activationDate": "2019-09-13T12:00:00Z",
      	        "price": 10,
      	        "currency": "USD"
      	    }]
      	}
      }"""

SEED_TOPUP = """{
      	"input": {
            "operationType": "TOPUP_ACTIVATION",
            "countryCode": "PT",
            "customer": {
                "email": "john@doe.com",
                "countryOfResidence": "US"
            },
            "device": {
                "product_id": "123456789",
                "model": "iPhone",
                "type": "ios"
            },
            "subscriptions": [{
      	        "id": "a3u3z000000PZBhAAO",
      	        "activationDate": "2019-09-13T12:00:00Z",
      	        "price": 10,
      	        "currency": "USD"
      	    }],
      	    "esim": {
      	        "iccid": "123456789"
      	    }
      	}
      }"""


def future(seed_body: str) -> str:
    """The seed's example with its 2019 activation date moved to the future, nothing else changed."""
    return seed_body.replace("2019-09-13T12:00:00Z", FUTURE)


def seed_headers(token: str) -> dict[str, str]:
    # Exactly the seed's curl headers.
    return {
        "Authorization": f"Bearer {token}",
        "Cache-Control": "no-cache",
        "Content-Type": "application/json",
        "X-Correlation-ID": "unique-id-from-requester-123",
    }


def test_seed_new_esim_example_is_accepted_then_completed(client: httpx.Client, reseller: str) -> None:
    answer = client.post("/esim/v1/order", content=future(SEED_NEW_ESIM), headers=seed_headers(reseller))

    assert answer.status_code == 201
    body = answer.json()
    assert body == {"id": body["externalId"], "externalId": body["externalId"], "status": "ACCEPTED"}
    assert answer.headers["X-Correlation-ID"] == "unique-id-from-requester-123"
    assert "Deprecation" not in answer.headers

    order = wait_for(client, reseller, body["externalId"], lambda o: o["status"] == "COMPLETED")
    assert order["status"] == "COMPLETED"
    output = order["output"]
    assert re.fullmatch(r"89\d{17}", output["iccid"])
    assert re.fullmatch(r"[0-9A-Z-]+", output["matchingId"])
    assert "://" not in output["smdpUrl"] and "/" not in output["smdpUrl"]
    assert output["lpa_url"] == f"LPA:1${output['smdpUrl']}${output['matchingId']}"
    assert output["subscription_id"]
    assert order["input"]["subscriptions"][0] == {
        "id": "a3u3z000000PZBhAAO",
        "activationDate": FUTURE,
        "price": 10,
        "currency": "USD",
    }
    assert [step["status"] for step in order["history"]] == ["accepted", "in_progress", "completed"]


def test_order_is_fulfilling_until_the_worker_finishes_it(client: httpx.Client, reseller: str) -> None:
    answer = place(client, reseller, new_esim_body(unique_email()))
    first_look = client.get(f"/esim/v1/order/{answer.json()['id']}", headers=headers(reseller)).json()
    assert first_look["status"] in ("FULFILLING", "COMPLETED")
    if first_look["status"] == "FULFILLING":
        assert "output" not in first_look


def test_completion_does_not_wait_for_the_worker_poll(client: httpx.Client, reseller: str) -> None:
    # The test server polls every 30 s; completing within 5 s proves acceptance wakes the worker.
    answer = place(client, reseller, new_esim_body(unique_email()))
    order = wait_for(client, reseller, answer.json()["id"], lambda o: o["status"] == "COMPLETED", timeout=5)
    assert order["status"] == "COMPLETED"


def test_seed_topup_example_verbatim_is_accepted_signalled_and_completed(client: httpx.Client, reseller: str) -> None:
    # Only the date differs from the seed: the demo data gives demo-reseller-1 the seed's customer
    # john@doe.com with the seed's eSIM 123456789 (services.demo).
    answer = client.post("/esim/v1/order", content=future(SEED_TOPUP), headers=seed_headers(reseller))

    assert answer.status_code == 201, answer.text
    assert answer.json()["status"] == "ACCEPTED"
    assert answer.headers["Deprecation"].startswith("@")
    assert "TOPUP_ACTIVATION" in answer.headers["X-Deprecated-Fields"]
    order = wait_for(client, reseller, answer.json()["id"], lambda o: o["status"] == "COMPLETED")
    assert order["status"] == "COMPLETED"
    assert order["output"]["iccid"] == "123456789"
    assert "matchingId" not in order["output"]
    assert "lpa_url" not in order["output"]
    assert order["output"]["subscription_id"]
    sim = client.get("/esim/v1/sim/123456789/subscriptions", headers=headers(reseller))
    assert sim.status_code == 200, sim.text
    assert order["output"]["subscription_id"] in [s["id"] for s in sim.json()]


def test_seed_examples_verbatim_run_in_either_order(client: httpx.Client, reseller: str) -> None:
    # The NEW_ESIM example finds the demo's john@doe.com and gives him a second eSIM; the top-up still
    # goes to 123456789, before and after it.
    def post(seed_body: str) -> dict[str, Any]:
        answer = client.post("/esim/v1/order", content=future(seed_body), headers=seed_headers(reseller))
        assert answer.status_code == 201, answer.text
        order = wait_for(client, reseller, answer.json()["id"], lambda o: o["status"] != "FULFILLING")
        assert order["status"] == "COMPLETED", order
        return order

    assert post(SEED_TOPUP)["output"]["iccid"] == "123456789"
    second = post(SEED_NEW_ESIM)["output"]["iccid"]
    assert second != "123456789"
    assert post(SEED_TOPUP)["output"]["iccid"] == "123456789"
    topup_of_second = place(client, reseller, topup_body("john@doe.com", second))
    assert topup_of_second.status_code == 201, topup_of_second.text


def test_seed_topup_example_for_another_resellers_customer_is_refused(
    client: httpx.Client, tokens: dict[str, str]
) -> None:
    # The seed's eSIM is demo-reseller-1's: demo-reseller-2 has no such customer.
    answer = client.post("/esim/v1/order", content=future(SEED_TOPUP), headers=seed_headers(tokens["demo-reseller-2"]))
    assert answer.status_code == 422, answer.text
    assert answer.json()["type"] == "CUSTOMER_MUST_EXIST"


def test_seed_topup_example_with_an_iccid_of_the_customers_not_owned_is_refused(
    client: httpx.Client, reseller: str
) -> None:
    # A number of an ICCID's form, and one of another customer's eSIM: neither is john@doe.com's.
    others = completed_order(client, reseller)["output"]["iccid"]
    for iccid in ("8935100000000000000", "1", others):
        body = future(SEED_TOPUP).replace('"iccid": "123456789"', f'"iccid": "{iccid}"')
        answer = client.post("/esim/v1/order", content=body, headers=seed_headers(reseller))
        assert answer.status_code == 422, (iccid, answer.text)
        assert answer.json() == {
            "type": "EMAIL_AND_ICCID_DO_NOT_MATCH",
            "messages": ["the eSIM does not belong to the customer with this email"],
        }


@pytest.mark.parametrize(
    ("iccid", "problem"),
    [
        ("12345678X", "an ICCID has only digits"),
        ("1234 5678", "an ICCID has only digits"),
        ("\u0661\u0662\u0663", "an ICCID has only digits"),  # Arabic-Indic digits are not digits here
        ("-123456789", "an ICCID has only digits"),
    ],
)
def test_seed_topup_example_with_an_iccid_that_is_not_digits_is_a_400(
    client: httpx.Client, reseller: str, iccid: str, problem: str
) -> None:
    body = future(SEED_TOPUP).replace('"iccid": "123456789"', f'"iccid": "{iccid}"')
    answer = client.post("/esim/v1/order", content=body, headers=seed_headers(reseller))
    assert answer.status_code == 400, answer.text
    assert answer.json() == {
        "type": "INVALID_REQUEST_PARAMS",
        "messages": [f"input.esim.iccid: is not an ICCID: {problem}"],
    }


def test_seed_topup_example_with_an_iccid_over_22_digits_is_a_400(client: httpx.Client, reseller: str) -> None:
    body = future(SEED_TOPUP).replace('"iccid": "123456789"', f'"iccid": "{"1" * 23}"')
    answer = client.post("/esim/v1/order", content=body, headers=seed_headers(reseller))
    assert answer.status_code == 400, answer.text
    assert answer.json()["type"] == "INVALID_REQUEST_PARAMS"
    assert answer.json()["messages"][0].startswith("input.esim.iccid: ")


def test_topup_with_preferred_spelling_has_no_deprecation(client: httpx.Client, reseller: str) -> None:
    email = unique_email()
    iccid = completed_order(client, reseller, email)["output"]["iccid"]

    answer = place(client, reseller, topup_body(email, iccid))

    assert answer.status_code == 201, answer.text
    assert "Deprecation" not in answer.headers
    order = wait_for(client, reseller, answer.json()["id"], lambda o: o["status"] == "COMPLETED")
    assert order["output"]["iccid"] == iccid


def test_product_may_come_as_product_id_or_deprecated_allowance_id(client: httpx.Client, reseller: str) -> None:
    preferred = new_esim_body(unique_email())
    sub = preferred["input"]["subscriptions"][0]
    sub["product_id"] = sub.pop("id")
    answer = place(client, reseller, preferred)
    assert answer.status_code == 201, answer.text
    assert "Deprecation" not in answer.headers

    deprecated = new_esim_body(unique_email())
    sub = deprecated["input"]["subscriptions"][0]
    sub["allowanceId"] = sub.pop("id")
    answer = place(client, reseller, deprecated)
    assert answer.status_code == 201, answer.text
    assert "allowanceId" in answer.headers["X-Deprecated-Fields"]
    assert answer.headers["Deprecation"]


def test_future_activation_date_issues_the_esim_now_and_starts_the_subscription_then(
    client: httpx.Client, reseller: str
) -> None:
    order = completed_order(client, reseller)
    sim = client.get(f"/esim/v1/sim/{order['output']['iccid']}", headers=headers(reseller))

    assert sim.status_code == 200
    subscription = sim.json()["subscriptions"][0]
    assert subscription["id"] == order["output"]["subscription_id"]
    assert subscription["status"] == "PENDING"
    assert subscription["startDate"].startswith(FUTURE[:10])


def test_each_new_esim_gets_its_own_profile(client: httpx.Client, reseller: str) -> None:
    iccids = {completed_order(client, reseller)["output"]["iccid"] for _ in range(5)}
    assert len(iccids) == 5


def test_seed_examples_with_their_year_made_nine_years_later_are_completed(client: httpx.Client, reseller: str) -> None:
    # How someone trying the examples makes their 2019 future: a year well ahead (within ten years).
    year = datetime.now(UTC).year + 9
    for seed_body in (SEED_NEW_ESIM, SEED_TOPUP):
        body = seed_body.replace("2019-09-13T12:00:00Z", f"{year}-09-13T12:00:00Z")
        answer = client.post("/esim/v1/order", content=body, headers=seed_headers(reseller))
        assert answer.status_code == 201, answer.text
        order = wait_for(client, reseller, answer.json()["id"], lambda o: o["status"] != "FULFILLING")
        assert order["status"] == "COMPLETED", order
        assert order["input"]["subscriptions"][0]["activationDate"] == f"{year}-09-13T12:00:00Z"


def test_demo_data_gives_the_seed_customer_the_seed_esim_once(tmp_path: Path) -> None:
    # A database whose demo data came from an older release, where the NEW_ESIM example had already
    # created john@doe.com: loading the demo data again gives that customer the seed's eSIM, once.
    services = build_services(Settings(database_url=database_url(tmp_path / "older-demo.db")))
    try:
        services.migrate()
        assert load_demo_data(services.uow_factory, inventory_size=3)
        with services.uow_factory(read_only=True) as uow:
            john = uow.partners.find_customer(["demo-reseller-1"], "john@doe.com")
        assert john is not None
        with services.engine.begin() as connection:  # as an older release left it: no seed eSIM
            connection.execute(sa.text("DELETE FROM esim_profiles WHERE iccid = '123456789'"))

        assert load_demo_data(services.uow_factory, inventory_size=3)
        assert not load_demo_data(services.uow_factory, inventory_size=3)

        with services.uow_factory(read_only=True) as uow:
            profile = uow.profiles.get("123456789")
            assert profile is not None and profile.customer_id == john.id and profile.order_id is None
            assert profile.state.value == "released"
            assert uow.profiles.count_by_state() == {"available": 3, "released": 1}
    finally:
        services.close()
