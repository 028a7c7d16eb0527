"""Idempotency-Key: retries are safe, racing duplicates make one order, a reused key is refused."""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor

import httpx
import sqlalchemy as sa

from tests.api.support import RunningServer, headers, new_esim_body, place, topup_body, unique_email, wait_for
from tests.api.test_errors import assert_error


def test_same_key_and_body_answers_the_same_order(client: httpx.Client, reseller: str) -> None:
    key = str(uuid.uuid4())
    body = new_esim_body(unique_email())

    first = client.post("/esim/v1/order", json=body, headers=headers(reseller, **{"Idempotency-Key": key}))
    retry = client.post("/esim/v1/order", json=body, headers=headers(reseller, **{"Idempotency-Key": key}))

    assert first.status_code == retry.status_code == 201
    assert first.json() == retry.json()
    assert retry.headers["Idempotent-Replayed"] == "true"


def test_same_key_with_another_body_is_refused(client: httpx.Client, reseller: str) -> None:
    key = str(uuid.uuid4())
    client.post(
        "/esim/v1/order", json=new_esim_body(unique_email()), headers=headers(reseller, **{"Idempotency-Key": key})
    )

    answer = client.post(
        "/esim/v1/order", json=new_esim_body(unique_email()), headers=headers(reseller, **{"Idempotency-Key": key})
    )

    assert_error(answer, 422, "IDEMPOTENCY_KEY_REUSED")


def test_keys_are_per_partner(client: httpx.Client, tokens: dict[str, str]) -> None:
    key = str(uuid.uuid4())
    body = new_esim_body(unique_email())
    one = client.post(
        "/esim/v1/order", json=body, headers=headers(tokens["demo-reseller-1"], **{"Idempotency-Key": key})
    )
    two = client.post(
        "/esim/v1/order", json=body, headers=headers(tokens["demo-reseller-2"], **{"Idempotency-Key": key})
    )
    assert one.status_code == two.status_code == 201
    assert one.json()["id"] != two.json()["id"]


def test_without_a_key_each_post_is_a_new_order(client: httpx.Client, reseller: str) -> None:
    body = new_esim_body(unique_email())
    first = client.post("/esim/v1/order", json=body, headers=headers(reseller))
    second = client.post("/esim/v1/order", json=body, headers=headers(reseller))
    assert first.json()["id"] != second.json()["id"]


def test_racing_duplicates_make_one_order(server: RunningServer, reseller: str) -> None:
    key = str(uuid.uuid4())
    email = unique_email()
    body = new_esim_body(email)

    def post(_: int) -> httpx.Response:
        with server.client() as http:
            return http.post("/esim/v1/order", json=body, headers=headers(reseller, **{"Idempotency-Key": key}))

    with ThreadPoolExecutor(max_workers=12) as pool:
        answers = list(pool.map(post, range(12)))

    assert {a.status_code for a in answers} == {201}
    assert len({a.json()["id"] for a in answers}) == 1
    with server.services.engine.connect() as db:
        orders = db.execute(
            sa.text("SELECT count(*) FROM orders o JOIN customers c ON c.id = o.customer_id WHERE c.email = :e"),
            {"e": email},
        ).scalar_one()
    assert orders == 1


def test_a_retry_gets_the_first_order_even_when_the_business_rules_would_refuse_it_now(
    client: httpx.Client, reseller: str
) -> None:
    email = unique_email()
    first = place(client, reseller, new_esim_body(email))
    assert first.status_code == 201, first.text
    esim = wait_for(client, reseller, first.json()["id"], lambda o: o["status"] == "COMPLETED")
    key = str(uuid.uuid4())
    top_up = topup_body(email, esim["output"]["iccid"])
    accepted = place(client, reseller, top_up, **{"Idempotency-Key": key})
    assert accepted.status_code == 201, accepted.text
    # Other top-ups fill the eSIM to its limit of 15 active subscriptions: the same top-up, new, is refused.
    filler = topup_body(email, esim["output"]["iccid"])
    filler["input"]["subscriptions"] *= 13
    assert place(client, reseller, filler).status_code == 201
    assert_error(place(client, reseller, top_up), 422, "SUBSCRIPTION_LIMIT_REACHED")

    retry = place(client, reseller, top_up, **{"Idempotency-Key": key})

    assert retry.status_code == 201, retry.text
    assert retry.json() == accepted.json()
    assert retry.headers["Idempotent-Replayed"] == "true"


def test_a_key_reused_with_another_request_leaves_nothing_of_that_request_behind(
    server: RunningServer, client: httpx.Client, reseller: str
) -> None:
    key = str(uuid.uuid4())
    assert place(client, reseller, new_esim_body(unique_email()), **{"Idempotency-Key": key}).status_code == 201
    other_email = unique_email()

    answer = place(client, reseller, new_esim_body(other_email), **{"Idempotency-Key": key})

    assert_error(answer, 422, "IDEMPOTENCY_KEY_REUSED")
    with server.services.engine.connect() as db:
        customers = db.execute(sa.text("SELECT count(*) FROM customers WHERE email = :e"), {"e": other_email})
        assert customers.scalar_one() == 0
