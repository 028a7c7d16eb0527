"""Each API's Swagger UI page: a pinned Swagger UI whose files the browser checks against their hashes, and
a Content-Security-Policy that runs nothing else on a page where partners type their secrets."""

from __future__ import annotations

import base64
import hashlib
import re

import httpx
import pytest

PREFIXES = ["/esim/v1", "/emida-ux-lcr/emida-ux/v1", "/tmf-api/productOrderingManagement/v4", "/2.5"]


@pytest.mark.parametrize("prefix", PREFIXES)
def test_the_docs_page_runs_only_a_pinned_checked_swagger_ui_and_its_own_start(
    client: httpx.Client, prefix: str
) -> None:
    page = client.get(f"{prefix}/docs")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assets = re.findall(r'<(?:script src|link rel="stylesheet" href)="([^"]+)" integrity="(sha384-[^"]+)"', page.text)
    assert [url.rsplit("/", 1)[1] for url, _ in assets] == ["swagger-ui.css", "swagger-ui-bundle.js"]
    for url, _ in assets:  # an exact version: what "@5" names changes with every release
        assert re.fullmatch(r"https://cdn\.jsdelivr\.net/npm/swagger-ui-dist@\d+\.\d+\.\d+/[\w.-]+", url), url
    assert page.text.count("<script") == 2 and page.text.count("<link") == 1  # no other script, no favicon
    policy = dict(directive.strip().split(" ", 1) for directive in page.headers["content-security-policy"].split(";"))
    (start,) = re.findall(r"<script>(.*?)</script>", page.text, re.S)
    start_hash = base64.b64encode(hashlib.sha256(start.encode()).digest()).decode()
    script_url = assets[1][0]
    assert policy["script-src"].split() == [script_url, f"'sha256-{start_hash}'"]  # nothing inline but the start
    assert policy["connect-src"] == "'self'" and policy["frame-ancestors"] == "'none'"
    assert "validatorUrl: null" in start  # the document's URL is not sent to validator.swagger.io
    assert 'url: "openapi.json"' in start and client.get(f"{prefix}/openapi.json").status_code == 200


@pytest.mark.parametrize("prefix", PREFIXES)
def test_no_oauth2_redirect_page_is_served(client: httpx.Client, prefix: str) -> None:
    # Swagger UI's redirect page serves sign-in flows none of the APIs has (esim-v1 signs in with client
    # credentials, posted to /oauth2/token by the page itself).
    assert client.get(f"{prefix}/docs/oauth2-redirect").status_code in (404, 501)
