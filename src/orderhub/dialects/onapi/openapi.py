"""onapi-order's OpenAPI document: what each operation takes and answers, as the routes (and the hot route
of the order POST) do."""

from __future__ import annotations

from fastapi import FastAPI

from orderhub.web.openapi_answers import (
    ALLOW,
    IDEMPOTENT_REPLAYED,
    RETRY_AFTER,
    ApiDocument,
    ErrorAnswers,
    Operation,
    header,
    idempotency_key,
    json_content,
    ref,
    rewrite_document,
)
from orderhub.web.request_bodies import json_body, model_schemas

from . import schema
from .errors import REALM
from .placing import MAX_IDEMPOTENCY_KEY_LENGTH

ERRORS = ErrorAnswers(
    schema=ref("ErrorBody"),
    descriptions={
        400: "Bad <field>: the first field of the order at fault (or the Idempotency-Key), with a message for the "
        "end customer",
        401: "Authentication required, or Bad credentials",
        403: "Not a communication operator, or the body's coId is not the authenticated CO's",
        405: "Method not allowed",
        408: "The request body did not arrive in time; the connection is closed",
        409: "The Idempotency-Key was used for another order",
        413: "The request body is larger than the server takes",
        415: "The body is not application/json, or is compressed",
        429: "Too many failed sign-ins, or more requests than the CO's rate limit",
        500: "Internal error; quote the X-Correlation-ID",
        503: "Service unavailable: the database cannot be written now; nothing was stored",
    },
    headers={
        401: {"WWW-Authenticate": header(REALM, enum=[REALM])},
        405: {"Allow": ALLOW},
        429: {"Retry-After": RETRY_AFTER},
        503: {"Retry-After": RETRY_AFTER},
    },
)
_IDEMPOTENCY_KEY = idempotency_key(
    "The same key and body answer the first order again; another body with it is a 409",
    minLength=1,
    maxLength=MAX_IDEMPOTENCY_KEY_LENGTH,
)
_SIGNED_IN = (401, 403, 405, 429, 500, 503)  # HTTP Basic, the CO's role and rate limit

OPERATIONS = {
    ("get", "/"): Operation(
        errors=(405, 500),
        security=[],
        answers={
            "200": {
                "description": "The endpoints served here",
                "content": json_content({"type": "array", "items": ref("Endpoint")}),
            }
        },
    ),
    ("get", "/sp_spec/products/"): Operation(
        errors=_SIGNED_IN,
        answers={
            "200": {
                "description": "The products, each with the offerings this CO may order",
                "content": json_content({"type": "array", "items": ref("Product")}),
            }
        },
    ),
    ("post", "/sp_spec/order/"): Operation(
        errors=(*_SIGNED_IN, 400, 408, 409, 413, 415),
        parameters=[_IDEMPOTENCY_KEY],
        request_body=json_body("OrderRequest"),
        answers={
            "200": {
                "description": "ACTIVATED, RECEIVED (activated at requestedDateTime) or REJECTED, with a message for "
                "the end customer; the same order again answers the first one's state",
                "content": json_content(ref("OrderAnswer")),
                "headers": {"Idempotent-Replayed": IDEMPOTENT_REPLAYED},
            }
        },
    ),
}
TAGS = (
    ("order", "Order a service on an access", "/sp_spec/order/"),
    ("products", "The products and offerings a communication operator may order", "/sp_spec/products/"),
    ("endpoints", "The ON-API endpoints served", "/"),
)
DOCUMENT = ApiDocument(
    operations=OPERATIONS,
    errors=ERRORS,
    tags=TAGS,
    schemas={
        "OrderAnswer": schema.ORDER_ANSWER,
        "ErrorBody": schema.ERROR_BODY,
        "Endpoint": schema.ENDPOINT,
        "Product": schema.PRODUCT,
        **model_schemas(schema.OrderRequest),  # OrderRequest, CustomerDetails, InvoiceDetails, ProductRef
    },
    examples={"OrderRequest": [schema.EXAMPLE_ORDER]},
)


def declare_answers(app: FastAPI) -> None:
    rewrite_document(app, DOCUMENT.rewrite)
