"""TMF622 v4's OpenAPI document: what each operation takes and answers, as the routes do."""

from __future__ import annotations

from fastapi import FastAPI

from orderhub.dialects.tmf_productorder import openapi as vendor
from orderhub.dialects.tmf_productorder.mapping import STATE
from orderhub.web.openapi_answers import (
    IDEMPOTENT_REPLAYED,
    ApiDocument,
    ErrorAnswers,
    Json,
    Operation,
    header,
    idempotency_key,
    json_content,
    link,
    ref,
    rewrite_document,
)

from . import schema
from .wire import MAX_LIMIT

ERRORS = ErrorAnswers(
    schema=ref("Error"),
    descriptions={
        **vendor.ERROR_MEANINGS,
        400: "INVALID_REQUEST: malformed JSON, a missing or malformed field or parameter (the message names it)",
        401: "UNAUTHORIZED: no, unknown, expired or revoked bearer token",
        403: "FORBIDDEN: the partner is no BUSINESS_CHANNEL, or not enabled for the business unit",
        404: "NOT_FOUND: an order, cancellation, listener or business unit that does not exist or is not yours",
        409: "CONFLICT: the Idempotency-Key was used for another order, or the order can no longer be changed "
        "(PATCH), or is still open (DELETE)",
        429: "TOO_MANY_REQUESTS: the partner's limit of requests a minute (one budget across every API) is used "
        "up; nothing was done; retry after the Retry-After delay",
    },
    headers={
        **vendor.ERROR_HEADERS,
        401: {"WWW-Authenticate": header('Bearer realm="tmf622", with error="invalid_token" when a token was sent')},
    },
)
SECURITY: list[Json] = [{"bearer": []}]
_TOKEN = "A token from POST /oauth2/token (client credentials)"
SECURITY_SCHEMES = {"bearer": {"type": "http", "scheme": "bearer", "description": _TOKEN}}


def _path(name: str) -> Json:
    return {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}


def _query(name: str, description: str, **schema: object) -> Json:
    return {"name": name, "in": "query", "required": False, "description": description, "schema": schema}


_FIELDS = _query("fields", "The attributes to show (TMF630), comma-separated; id and href always", type="string")
_PAGE = [
    _query("offset", "How many to skip", type="integer", minimum=0, maximum=10**9, default=0),
    _query("limit", "How many to show at most", type="integer", minimum=0, maximum=MAX_LIMIT, default=100),
    _FIELDS,
]
_STATE = f"({'|'.join(sorted(set(STATE.values())))})"
_FILTERS = [
    _query("id", "Any of these orders, comma-separated", type="string"),
    _query("state", "Any of these states, comma-separated", type="string", pattern=f"^{_STATE}(,{_STATE})*$"),
    _query("orderDate", "Exactly this orderDate, as shown (to the millisecond)", type="string", format="date-time"),
    _query("externalId", "Any of these externalIds, comma-separated (each compared whole)", type="string"),
]
_IDEMPOTENCY_KEY = idempotency_key("The same key and body answer the first order again", minLength=1, maxLength=255)
_LOCATION = {"Location": header("The new resource's URL", format="uri")}
_COUNTS = {
    "X-Total-Count": header("How many there are, all pages together", pattern="^[0-9]+$"),
    "X-Result-Count": header("How many this page holds", pattern="^[0-9]+$"),
}


def _body(name: str, *media_types: str) -> Json:
    return {
        "required": True,
        "content": {media: {"schema": ref(name)} for media in media_types or ["application/json"]},
    }


def _answer(
    status: str, description: str, schema_: Json | None, headers: Json | None = None, links: Json | None = None
) -> dict[str, Json]:
    answer: Json = {"description": description}
    if schema_ is not None:
        answer["content"] = json_content(schema_)
    if headers:
        answer["headers"] = headers
    if links:
        answer["links"] = links
    return {status: answer}


def _links(path: str, *methods: str) -> Json:
    """The operations on the created resource's path, which take the ``id`` the answer gives."""
    parameter = path[path.index("{") + 1 : path.index("}")]
    resource = path.split("/")[1]
    return {
        f"{method.capitalize()}{resource[:1].upper()}{resource[1:]}": link(
            path, method, **{parameter: "$response.body#/id"}
        )
        for method in methods
    }


def _list_of(name: str) -> Json:
    return {"type": "array", "items": ref(name)}


def _full(name: str, required: tuple[str, ...]) -> Json:
    """The resource as a create or a change answers it: all of it (no fields= projection)."""
    return {"allOf": [ref(name)], "required": list(required)}


_ORDER = _full("ProductOrder", ("orderDate", "state", "productOrderItem", "relatedParty", "@type"))
_CANCELLATION = _full("CancelProductOrder", ("state", "productOrder", "creationDate", "@type"))
# Every operation counts against the partner's rate limit (429).
_LIST = (400, 401, 403, 405, 429, 500, 503)
_ONE = (401, 403, 404, 405, 429, 500, 503)
_BODY = (400, 405, 408, 413, 415)  # what a body can be refused for

OPERATIONS = {
    ("post", "/productOrder"): Operation(
        errors=(*_ONE, *_BODY, 409, 422),
        parameters=[_IDEMPOTENCY_KEY],
        request_body={"required": True, "content": json_content(ref("ProductOrder_Create"), schema.EXAMPLE)},
        answers=_answer(
            "201",
            "The order",
            _ORDER,
            {**_LOCATION, "Idempotent-Replayed": IDEMPOTENT_REPLAYED},
            _links("/productOrder/{order_id}", "get", "patch", "delete"),
        ),
    ),
    ("get", "/productOrder"): Operation(
        errors=_LIST,
        parameters=[*_PAGE, *_FILTERS],
        answers=_answer("200", "The orders, newest first", _list_of("ProductOrder"), _COUNTS),
    ),
    ("get", "/productOrder/{order_id}"): Operation(
        # 400: a parameter repeated or other than fields (wire.read_resource_query, as the listing's)
        errors=(*_ONE, 400),
        parameters=[_path("order_id"), _FIELDS],
        answers=_answer("200", "The order", ref("ProductOrder")),
    ),
    ("patch", "/productOrder/{order_id}"): Operation(
        errors=(*_ONE, *_BODY, 409),
        parameters=[_path("order_id")],
        request_body=_body("ProductOrder_Update", "application/merge-patch+json", "application/json"),
        answers=_answer("200", "The order as changed", _ORDER),
    ),
    ("delete", "/productOrder/{order_id}"): Operation(
        errors=(*_ONE, 409),
        parameters=[_path("order_id")],
        answers=_answer("204", "Hidden; its history is kept", None),
    ),
    ("post", "/cancelProductOrder"): Operation(
        errors=(*_ONE, *_BODY),
        parameters=[],
        request_body=_body("CancelProductOrder_Create"),
        answers=_answer(
            "201",
            "The cancellation request, decided",
            _CANCELLATION,
            _LOCATION,
            _links("/cancelProductOrder/{cancellation_id}", "get"),
        ),
    ),
    ("get", "/cancelProductOrder"): Operation(
        errors=_LIST,
        parameters=_PAGE,
        answers=_answer("200", "The cancellation requests, newest first", _list_of("CancelProductOrder"), _COUNTS),
    ),
    ("get", "/cancelProductOrder/{cancellation_id}"): Operation(
        errors=(*_ONE, 400),
        parameters=[_path("cancellation_id"), _FIELDS],
        answers=_answer("200", "The cancellation request", ref("CancelProductOrder")),
    ),
    ("post", "/hub"): Operation(
        errors=(*_LIST, *_BODY),
        parameters=[],
        request_body=_body("EventSubscriptionInput"),
        answers=_answer(
            "201",
            "The listener (the one already there for the same callback and query)",
            ref("EventSubscription"),
            _LOCATION,
            _links("/hub/{listener_id}", "get", "delete"),
        ),
    ),
    ("get", "/hub/{listener_id}"): Operation(
        errors=_ONE, parameters=[_path("listener_id")], answers=_answer("200", "The listener", ref("EventSubscription"))
    ),
    ("delete", "/hub/{listener_id}"): Operation(
        errors=_ONE, parameters=[_path("listener_id")], answers=_answer("204", "Unregistered", None)
    ),
}
# TM Forum's own tags for TMF622 v4's resources.
TAGS = (
    ("productOrder", "Product orders: place, list, retrieve, change and delete", "/productOrder"),
    ("cancelProductOrder", "Requests to cancel a product order", "/cancelProductOrder"),
    ("events subscription", "Listeners for product order events", "/hub"),
)
DOCUMENT = ApiDocument(
    operations=OPERATIONS,
    errors=ERRORS,
    tags=TAGS,
    security=SECURITY,
    schemas=schema.SCHEMAS,
    security_schemes=SECURITY_SCHEMES,
)


def declare_answers(app: FastAPI) -> None:
    rewrite_document(app, DOCUMENT.rewrite)
