"""The README's example requests, run as written against a demo server: every answer is one its API's
OpenAPI document lists for the operation, with the documented body and headers, and every request the
API took is one its document allows (a partner's generated client sends only those)."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest

from tests.api.openapi_support import answer_problems, api_of, document_of, operation_for
from tests.api.readme_requests import ReadmeSession, api_sections, commands
from tests.api.support import RunningServer, running_server


@pytest.fixture(scope="module")
def readme_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    # Its own server: the examples order on the demo's lines, accesses and eSIMs.
    with running_server(tmp_path_factory.mktemp("readme") / "orderhub.db") as running:
        yield running


def test_the_readme_examples_answer_as_their_documents_say(readme_server: RunningServer) -> None:
    with readme_server.client() as http:
        session = ReadmeSession(http)
        for command in commands(api_sections()):
            session.run(command)
        documents = {api: document_of(http, api) for api in ("esim-v1", "tmf-productorder", "tmf622", "onapi-order")}

    outcomes: dict[tuple[str, str, str], set[int]] = {}
    problems = []
    for answer in session.answers:
        api = api_of(answer.request.url.path)
        if api is None:  # the token endpoint
            continue
        problems += answer_problems(documents[api], api, answer)
        found = operation_for(documents[api], api, answer.request.method, str(answer.request.url))
        template = found[0] if found else answer.request.url.path
        outcomes.setdefault((api, answer.request.method, template), set()).add(answer.status_code)
    assert problems == []
    # Each API's examples ran as the README says they answer (the spec's own onapi-order example is a 400).
    assert {
        ("esim-v1", "POST", "/order"): {201},
        ("esim-v1", "GET", "/order/{order_id}"): {200},
        ("esim-v1", "GET", "/order/{order_id}/qrcode"): {200},
        ("esim-v1", "GET", "/order/{order_id}/install-links"): {200},
        ("esim-v1", "GET", "/product"): {200},
        ("esim-v1", "GET", "/sim/{iccid}"): {200},
        ("tmf-productorder", "POST", "/{business_id}/productOrder"): {201},
        ("tmf622", "POST", "/productOrder"): {201},
        ("tmf622", "GET", "/productOrder"): {200},
        ("onapi-order", "POST", "/sp_spec/order/"): {200, 400},
        ("onapi-order", "GET", "/sp_spec/products/"): {200},
    } == outcomes


def test_the_readme_commands_are_read_whole() -> None:
    # A quoted body over several lines is one command; comments are none.
    found = list(commands(api_sections()))
    assert not any(command.startswith("#") for command in found)
    bodies = [command for command in found if re.search(r"(-d|--data-raw) '\{", command)]
    assert len(bodies) == 7  # esim-v1's three, tmf-productorder's, TMF622's, onapi-order's two
    assert all(command.count("'") % 2 == 0 for command in bodies)
