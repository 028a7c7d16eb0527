"""A path with a trailing slash it does not have (or without one it has) is not found, in every API and
on the service's own paths: it was answered 307 before authentication, with a Location built from the
client's Host header, and a 307 keeps the method and body (a client could send its secret there)."""

from __future__ import annotations

import httpx
import pytest

TMF622 = "/tmf-api/productOrderingManagement/v4"
# Each path, and the members of the error body of the API it belongs to.
PATHS = [
    ("/oauth2/token/", {"detail"}),
    ("/healthz/", {"detail"}),
    ("/metrics/", {"detail"}),
    (f"{TMF622}/productOrder/", {"code", "reason", "message", "status"}),
    (f"{TMF622}/hub/", {"code", "reason", "message", "status"}),
    ("/emida-ux-lcr/emida-ux/v1/CR/productOrder/", {"code", "reason", "message", "status"}),
    ("/emida-ux/v1/CR/productOrder/", {"code", "reason", "message", "status"}),
    # onapi-order serves each of its paths with and without the slash, /2.5 too (test_onapi_refusals).
]


@pytest.mark.parametrize(("path", "members"), PATHS)
@pytest.mark.parametrize("method", ["GET", "POST"])
def test_a_path_with_a_slash_it_does_not_have_is_not_found_not_redirected(
    client: httpx.Client, path: str, members: set[str], method: str
) -> None:
    answer = client.request(method, path, json={"client_secret": "s"}, headers={"Host": "evil.example"})
    assert answer.status_code == 404, answer.text
    assert "location" not in answer.headers
    assert set(answer.json()) == members, answer.text
