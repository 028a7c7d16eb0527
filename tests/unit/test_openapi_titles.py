"""The framework's titles leave the document; a property named "title", examples and components' names stay."""

from __future__ import annotations

from typing import Any

from orderhub.web.openapi_answers import drop_generated_titles


def test_generated_titles_go_and_everything_else_stays() -> None:
    document: dict[str, Any] = {
        "info": {"title": "orderhub"},
        "paths": {
            "/order/{order_id}": {
                "get": {
                    "parameters": [{"name": "order_id", "schema": {"type": "string", "title": "Order Id"}}],
                    "responses": {
                        "200": {
                            "content": {
                                "application/json": {
                                    "schema": {"type": "array", "title": "Response Listproducts"},
                                    "example": {"title": "a note's title, as sent"},
                                }
                            }
                        }
                    },
                }
            }
        },
        "components": {
            "schemas": {
                "Note": {
                    "title": "Note",
                    "properties": {
                        "title": {"type": "string", "title": "Title"},
                        "coAccessId": {"type": "string", "title": "Coaccessid", "default": {"title": "kept"}},
                    },
                    "examples": [{"title": "Kept"}],
                }
            }
        },
    }
    drop_generated_titles(document)
    get = document["paths"]["/order/{order_id}"]["get"]
    assert get["parameters"][0]["schema"] == {"type": "string"}
    answer = get["responses"]["200"]["content"]["application/json"]
    assert answer == {"schema": {"type": "array"}, "example": {"title": "a note's title, as sent"}}
    assert document["components"]["schemas"]["Note"] == {
        "title": "Note",
        "properties": {"title": {"type": "string"}, "coAccessId": {"type": "string", "default": {"title": "kept"}}},
        "examples": [{"title": "Kept"}],
    }
    assert document["info"] == {"title": "orderhub"}
