"""tmf-productorder's OpenAPI document: what each operation takes and answers, as the routes (and the hot
route of the POST) do. The TMF error answers are TMF622's too (dialects.tmf622.openapi)."""

from __future__ import annotations

from collections.abc import Mapping

from fastapi import FastAPI

from orderhub.web.openapi_answers import (
    ALLOW,
    IDEMPOTENT_REPLAYED,
    RETRY_AFTER,
    ApiDocument,
    ErrorAnswers,
    Json,
    Operation,
    idempotency_key,
    json_content,
    link,
    ref,
    rewrite_document,
)

from . import schema
from .placing import MAX_IDEMPOTENCY_KEY_LENGTH

ERROR_MEANINGS: Mapping[int, str] = {
    400: "MISSING_HEADER (a required header is missing or too short) or INVALID_REQUEST (malformed JSON, a "
    "missing or malformed field or header, named in the message)",
    401: "UNAUTHORIZED: unknown client_id or wrong secret",
    403: "FORBIDDEN: the channel is not enabled for the business unit",
    404: "NOT_FOUND: an unknown business unit, or an order that does not exist or is not yours",
    405: "METHOD_NOT_ALLOWED: the path does not take this method",
    408: "The request body did not arrive in time; the connection is closed",
    409: "CONFLICT: the X-Correlation-ID or Idempotency-Key was used for another request",
    413: "PAYLOAD_TOO_LARGE: the request body is larger than the server takes",
    415: "UNSUPPORTED_MEDIA_TYPE: the body is not application/json, or is compressed",
    422: "A business rule: OFFERING_NOT_AVAILABLE, LINE_NOT_FOUND, NO_ACTIVE_PLAN",
    429: "TOO_MANY_REQUESTS: too many failed sign-ins, or the partner's limit of requests a minute (one budget "
    "across every API) is used up; nothing was done; retry after the Retry-After delay",
    500: "INTERNAL_ERROR: a bug; quote the X-Correlation-ID",
    503: "SERVICE_UNAVAILABLE: the database cannot be written now; nothing was stored",
}
ERROR_HEADERS = {405: {"Allow": ALLOW}, 429: {"Retry-After": RETRY_AFTER}, 503: {"Retry-After": RETRY_AFTER}}
ERRORS = ErrorAnswers(schema=ref("Error"), descriptions=ERROR_MEANINGS, headers=ERROR_HEADERS)

_BUSINESS_ID: Json = {
    "name": "business_id",
    "in": "path",
    "required": True,
    "description": "The business unit, e.g. CR",
    "schema": {"type": "string"},
}
_ORDER_ID: Json = {"name": "order_id", "in": "path", "required": True, "schema": {"type": "string"}}
_IDEMPOTENCY_KEY = idempotency_key(
    "Makes a retry answer the first order, as X-Correlation-ID does", minLength=1, maxLength=MAX_IDEMPOTENCY_KEY_LENGTH
)
# Every request signs in with client_id and client_secret (401; 429: failed sign-ins, the partner's rate
# limit) for a business unit (403, 404).
_ANY = (400, 401, 403, 404, 405, 429, 500, 503)

OPERATIONS = {
    ("post", "/{business_id}/productOrder"): Operation(
        errors=(*_ANY, 408, 409, 413, 415, 422),
        parameters=[_BUSINESS_ID, _IDEMPOTENCY_KEY, *schema.HEADERS],
        request_body={"required": True, "content": json_content(ref("ProductOrder_Create"), schema.EXAMPLE)},
        answers={
            "201": {
                "description": "The order, provisioned when that finished within the answer's budget",
                "content": json_content(ref("ProductOrder")),
                "headers": {"Idempotent-Replayed": IDEMPOTENT_REPLAYED},
                "links": {
                    "GetProductOrder": link(
                        "/{business_id}/productOrder/{order_id}",
                        "get",
                        business_id="$request.path.business_id",
                        order_id="$response.body#/id",
                    )
                },
            }
        },
    ),
    ("get", "/{business_id}/productOrder/{order_id}"): Operation(
        errors=_ANY,
        parameters=[_BUSINESS_ID, _ORDER_ID, *schema.HEADERS],
        answers={"200": {"description": "The order", "content": json_content(ref("ProductOrder"))}},
    ),
}
TAGS = (("productOrder", "Plans, data plans and add-ons ordered on a line", "/{business_id}/productOrder"),)
DOCUMENT = ApiDocument(operations=OPERATIONS, errors=ERRORS, schemas=schema.SCHEMAS, tags=TAGS)


def declare_answers(app: FastAPI) -> None:
    rewrite_document(app, DOCUMENT.rewrite)
