"""The token endpoint's parameters as RFC 6749 asks: none sent twice (§3.2), and one client
authentication method a request (§2.3): both answered 400 invalid_request before any secret is checked."""

from __future__ import annotations

import base64

import httpx
import pytest

from tests.api.support import non_canonical_basic

CLIENT, SECRET = "demo-reseller-2", "demo-reseller-2-secret"
FORM = {"Content-Type": "application/x-www-form-urlencoded"}


def post(client: httpx.Client, form: str, **headers: str) -> httpx.Response:
    return client.post("/oauth2/token", content=form.encode(), headers={**FORM, **headers})


def basic(client_id: str = CLIENT, secret: str = SECRET) -> str:
    return "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()


def refused(answer: httpx.Response) -> bool:
    return answer.status_code == 400 and answer.json()["error"] == "invalid_request"


def test_a_parameter_sent_twice_is_refused_though_the_last_value_is_right(client: httpx.Client) -> None:
    signed_in = f"grant_type=client_credentials&client_id={CLIENT}&client_secret={SECRET}"
    assert post(client, signed_in).status_code == 200
    answer = post(
        client, f"grant_type=client_credentials&client_id={CLIENT}&client_secret=wrong&client_secret={SECRET}"
    )
    assert refused(answer), answer.text
    assert answer.json()["error_description"] == "a parameter was sent more than once"
    assert answer.headers["Cache-Control"] == "no-store"


@pytest.mark.parametrize(
    "form",
    [
        f"grant_type=client_credentials&grant_type=client_credentials&client_id={CLIENT}&client_secret={SECRET}",
        f"grant_type=client_credentials&client_id={CLIENT}&client_id={CLIENT}&client_secret={SECRET}",
        f"grant_type=client_credentials&client_id={CLIENT}&client_secret={SECRET}&scope=a&scope=b",
        f"grant_type=refresh_token&refresh_token=a&refresh_token=b&client_id={CLIENT}&client_secret={SECRET}",
        f"grant_type=client_credentials&client_id={CLIENT}&client_secret=&client_secret={SECRET}",
    ],
)
def test_any_parameter_sent_twice_is_refused(client: httpx.Client, form: str) -> None:
    assert refused(post(client, form))


@pytest.mark.parametrize(
    "form",
    [
        f"grant_type=client_credentials&client_id={CLIENT}&client_secret={SECRET}",  # the same credentials
        f"grant_type=client_credentials&client_secret={SECRET}",
        "grant_type=client_credentials&client_id=demo-reseller-1",  # another client id than Basic's
        f"grant_type=refresh_token&refresh_token=any&client_id={CLIENT}&client_secret={SECRET}",
    ],
)
def test_http_basic_and_credentials_in_the_form_together_are_refused(client: httpx.Client, form: str) -> None:
    answer = post(client, form, Authorization=basic())
    assert refused(answer), answer.text
    assert answer.json()["error_description"] == "authenticate with HTTP Basic or with the form, not both"


def test_http_basic_alone_or_with_its_own_client_id_in_the_form_signs_in(client: httpx.Client) -> None:
    # RFC 6749 §3.2.1 lets a client name itself with client_id; client libraries send it with Basic.
    assert post(client, "grant_type=client_credentials", Authorization=basic()).status_code == 200
    assert post(client, f"grant_type=client_credentials&client_id={CLIENT}", Authorization=basic()).status_code == 200
    # A blank parameter counts as not sent (RFC 6749 §3.1).
    assert post(client, "grant_type=client_credentials&client_secret=", Authorization=basic()).status_code == 200


@pytest.mark.parametrize(
    "authorization", non_canonical_basic(CLIENT, SECRET).values(), ids=non_canonical_basic(CLIENT, SECRET)
)
def test_http_basic_in_any_but_canonical_base64_is_refused_as_no_credentials(
    client: httpx.Client, authorization: str
) -> None:
    """RFC 7617 takes the credentials in base64 (RFC 4648): one spelling of them, which a client library
    sends; a lenient decoder signed in with others (padding added, trailing bits set)."""
    answer = post(client, "grant_type=client_credentials", Authorization=authorization)
    assert answer.status_code == 401, answer.text
    assert answer.json()["error"] == "invalid_client", answer.text
    assert answer.headers["WWW-Authenticate"] == 'Basic realm="orderhub"'


def test_http_basic_after_more_than_one_space_signs_in(client: httpx.Client) -> None:
    # RFC 7235 §2.1: the scheme and the credentials are parted by one space or more.
    assert post(client, "grant_type=client_credentials", Authorization=basic().replace(" ", "   ")).status_code == 200
