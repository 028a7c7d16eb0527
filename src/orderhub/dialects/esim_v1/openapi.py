"""What esim-v1's OpenAPI document declares beyond what FastAPI derives from the routes: the errors each
operation can answer and the headers of its answers. The answers themselves are the routes' (and the hot
routes') alone."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

from orderhub.web.openapi_answers import (
    ALLOW,
    IDEMPOTENT_REPLAYED,
    RETRY_AFTER,
    ApiDocument,
    ErrorAnswers,
    Json,
    Operation,
    header,
    idempotency_key,
    link,
    ref,
    rewrite_document,
)

from .wire import EXAMPLE_ORDERS, ErrorBody

_DEPRECATION = {
    "Deprecation": header(
        "RFC 9745, when the request used a deprecated spelling (TOPUP_ACTIVATION, allowanceId): "
        "since when, as @<Unix seconds>",
        required=False,
    ),
    "X-Deprecated-Fields": header("The deprecated spellings the request used, comma-separated", required=False),
}
# The answers to POST /order that signal deprecated spellings (hot_routes.place_wire_order, refusal, errors).
_SIGNALLING = {"201", "400", "401", "403", "422", "429"}

ERRORS = ErrorAnswers(
    schema=ref("ErrorBody"),
    descriptions={
        400: "INVALID_HTTP_MESSAGE (malformed JSON, an empty body, no X-Correlation-ID) or "
        "INVALID_REQUEST_PARAMS (a field, header or parameter breaks a rule; the message names it)",
        401: "UNAUTHORISED: no, unknown, expired or revoked bearer token",
        403: "ACCESS_DENIED: the partner has neither RESELLER nor ACCOUNT_MANAGER",
        404: "ORDER_NOT_FOUND, SIM_NOT_FOUND or PRODUCT_NOT_FOUND: unknown, or not yours",
        405: "METHOD_NOT_ALLOWED: the path does not take this method",
        408: "INVALID_HTTP_MESSAGE: the request body did not arrive in time; the connection is closed",
        409: "ORDER_NOT_COMPLETED: the order has no eSIM yet; poll until COMPLETED",
        413: "INVALID_HTTP_MESSAGE: the request body is larger than the server takes",
        415: "INVALID_HTTP_MESSAGE: the body is not application/json, or is compressed",
        422: "A business rule: PRODUCT_NOT_FOUND, CUSTOMER_MUST_EXIST, EMAIL_AND_ICCID_DO_NOT_MATCH, "
        "SUBSCRIPTION_LIMIT_REACHED, IDEMPOTENCY_KEY_REUSED, NO_ACTIVATION_CODE",
        429: "TOO_MANY_REQUESTS: the partner's limit of requests a minute (one budget across every API) is used "
        "up; nothing was done; retry after the Retry-After delay",
        500: "INTERNAL_ERROR: a bug; quote the X-Correlation-ID",
        503: "SERVICE_UNAVAILABLE: the database cannot be written now; nothing was stored",
    },
    headers={
        401: {"WWW-Authenticate": header('Bearer realm="esim-v1", with error="invalid_token" when a token was sent')},
        405: {"Allow": ALLOW},
        429: {"Retry-After": RETRY_AFTER},
        503: {"Retry-After": RETRY_AFTER},
    },
)

# Every request needs X-Correlation-ID and a bearer token of a RESELLER or ACCOUNT_MANAGER, and counts
# against its partner's rate limit; only a body (POST) can be late, too large or of another type.
_ANY = (400, 401, 403, 405, 429, 500, 503)
_ONE = (*_ANY, 404)
_ACTIVATION_CODE = (*_ONE, 409, 422)
OPERATIONS = {
    ("post", "/order"): Operation(
        errors=(*_ANY, 408, 413, 415, 422),
        success="Accepted: the order is stored, and fulfilled at once or by a worker; poll GET /order/{order_id} "
        "for its outcome",
    ),
    ("get", "/order/{order_id}"): Operation(
        errors=_ONE,
        success="The order: its status (FULFILLING, COMPLETED or FAILED), its input as sent, its output once "
        "completed and its history",
    ),
    ("get", "/order/{order_id}/qrcode"): Operation(
        errors=_ACTIVATION_CODE, success="The order's activation code (LPA:1$...) as a PNG or SVG image"
    ),
    ("get", "/order/{order_id}/install-links"): Operation(
        errors=_ACTIVATION_CODE, success="Links that install the order's eSIM in one tap on iOS and Android"
    ),
    ("get", "/product"): Operation(errors=_ANY, success="The products of your catalog, with their prices"),
    ("get", "/product/{product_id}"): Operation(errors=_ONE, success="The product, with its prices"),
    ("get", "/sim/{iccid}"): Operation(
        errors=_ONE, success="The eSIM's state (Released, Downloaded or Installed) and its subscriptions"
    ),
    ("get", "/sim/{iccid}/subscriptions"): Operation(errors=_ONE, success="The eSIM's subscriptions"),
}
TAGS = (
    ("orders", "Order new eSIMs and top-ups, and follow them to their activation codes", "/order"),
    ("products", "The eSIM products of your catalog", "/product"),
    ("sims", "Your customers' eSIMs and their subscriptions", "/sim"),
)
DOCUMENT = ApiDocument(
    operations=OPERATIONS,
    errors=ERRORS,
    schemas={"ErrorBody": ErrorBody.model_json_schema()},
    tags=TAGS,
    examples={"OrderRequest": EXAMPLE_ORDERS},
)


def _signal_deprecations(document: Json) -> None:
    responses: dict[str, Any] = document["paths"]["/order"]["post"]["responses"]
    for status, response in responses.items():
        if status in _SIGNALLING:
            response["headers"] = {**response.get("headers", {}), **_DEPRECATION}
    responses["201"]["headers"]["Idempotent-Replayed"] = IDEMPOTENT_REPLAYED


# The order a 201 accepted, by its id, for the operations that take it.
_ORDER_LINKS = {
    name: link(path, "get", order_id="$response.body#/id")
    for name, path in [
        ("GetOrder", "/order/{order_id}"),
        ("GetOrderQrcode", "/order/{order_id}/qrcode"),
        ("GetOrderInstallLinks", "/order/{order_id}/install-links"),
    ]
}


# As partners spell it and the order reads it (FastAPI named it after the handler's argument, as a
# string or null, and said nothing of it).
_IDEMPOTENCY_KEY = idempotency_key(
    "The same key and body answer the first order again (Idempotent-Replayed: true); another body with it is a "
    "422 IDEMPOTENCY_KEY_REUSED",
    minLength=1,
    maxLength=255,
)


def _name_the_idempotency_key(document: Json) -> None:
    parameters: list[Json] = document["paths"]["/order"]["post"]["parameters"]
    parameters[:] = [_IDEMPOTENCY_KEY if p["name"] == "idempotency-key" else p for p in parameters]


def declare_answers(app: FastAPI) -> None:
    """Each operation's errors and every answer's headers in the app's OpenAPI document."""

    def rewrite(document: Json) -> None:
        DOCUMENT.rewrite(document)
        _signal_deprecations(document)
        _name_the_idempotency_key(document)
        document["paths"]["/order"]["post"]["responses"]["201"]["links"] = _ORDER_LINKS

    rewrite_document(app, rewrite)
