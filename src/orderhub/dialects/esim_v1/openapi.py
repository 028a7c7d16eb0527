"""What esim-v1's OpenAPI document declares beyond what FastAPI derives from the routes: the headers
of its answers. The answers themselves are the routes' (and the hot routes') alone."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI


def _header(description: str, **schema: Any) -> dict[str, Any]:
    return {"description": description, "schema": {"type": "string", **schema}}


_CORRELATION = {"X-Correlation-ID": _header("The request's X-Correlation-ID, echoed")}
_DEPRECATION = {
    "Deprecation": _header(
        "RFC 9745, when the request used a deprecated spelling (TOPUP_ACTIVATION, allowanceId): "
        "since when, as @<Unix seconds>"
    ),
    "X-Deprecated-Fields": _header("The deprecated spellings the request used, comma-separated"),
}
_REPLAYED = {"Idempotent-Replayed": _header("The Idempotency-Key was used before: its order", enum=["true"])}
# The answers to POST /order that signal deprecated spellings (hot_routes.place_wire_order, refusal, errors).
_SIGNALLING = {"201", "400", "401", "403", "422"}


def declare_response_headers(app: FastAPI) -> None:
    """Every answer's headers in the app's OpenAPI document (generated once, then kept)."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        document = generate()
        for path, operations in document.get("paths", {}).items():
            for method, operation in operations.items():
                ordering = path == "/order" and method == "post"
                responses = operation.get("responses", {})
                for status, response in list(responses.items()):
                    headers = {**response.get("headers", {}), **_CORRELATION}
                    if ordering and status in _SIGNALLING:
                        headers |= _DEPRECATION
                    if ordering and status == "201":
                        headers |= _REPLAYED
                    responses[status] = {**response, "headers": headers}
        app.openapi_schema = document
        return document

    app.openapi = openapi  # type: ignore[method-assign]
