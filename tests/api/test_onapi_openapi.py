"""onapi-order's document as a partner's docs page uses it: its example order is one the demo accepts."""

from __future__ import annotations

from pathlib import Path

from tests.api.openapi_support import document_of, schema_problems
from tests.api.support import running_server


def test_the_documents_example_order_is_valid_and_the_demo_receives_it(tmp_path: Path) -> None:
    # Without one, the docs page drew its example from the patterns: a coId of random letters, a
    # requestedDateTime of 3568-14-05T59:22:93 and a name of braces, which "try it" then sent.
    with running_server(tmp_path / "onapi-example.db") as server, server.client() as http:
        document = document_of(http, "onapi-order")
        request = document["components"]["schemas"]["OrderRequest"]
        (example,) = request["examples"]
        assert schema_problems(document, request, example) == []
        # In the specification's order (the schema generator sorted an example's keys).
        assert list(example) == [
            "coId", "coAccessId", "operation", "orderDateTime", "requestedDateTime", "products", "customerDetails"
        ]  # fmt: skip
        answer = http.post("/2.5/sp_spec/order/", json=example, auth=("demo-co-acme", "demo-co-acme-secret"))
        assert answer.status_code == 200, answer.text
        assert answer.json()["status"] == "RECEIVED", answer.text
