"""The seed's two example requests, verbatim (activation date moved to the future), end to end."""

from __future__ import annotations

import re

import httpx

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


def test_seed_topup_example_with_deprecated_operation_is_accepted_and_signalled(
    client: httpx.Client, reseller: str
) -> None:
    email = unique_email()
    iccid = completed_order(client, reseller, email)["output"]["iccid"]
    # Only the date, the customer and the ICCID (one this customer really owns) differ from the seed.
    body = future(SEED_TOPUP).replace("john@doe.com", email).replace('"iccid": "123456789"', f'"iccid": "{iccid}"')

    answer = client.post("/esim/v1/order", content=body, headers=seed_headers(reseller))

    assert answer.status_code == 201, answer.text
    assert answer.json()["status"] == "ACCEPTED"
    assert answer.headers["Deprecation"].startswith("@")
    assert "TOPUP_ACTIVATION" in answer.headers["X-Deprecated-Fields"]
    order = wait_for(client, reseller, answer.json()["id"], lambda o: o["status"] == "COMPLETED")
    assert order["status"] == "COMPLETED"
    assert order["output"]["iccid"] == iccid
    assert "matchingId" not in order["output"]
    assert "lpa_url" not in order["output"]
    assert order["output"]["subscription_id"]


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
