"""esim-v1 error envelope ``{"type", "messages"}`` and how each failure maps onto it."""

from __future__ import annotations

import logging
import re
from typing import Any

from fastapi import FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from orderhub.access_facts import note_refusal
from orderhub.domain import errors
from orderhub.services.ports import DatabaseUnavailable
from orderhub.web.challenges import bearer_challenge

from .mapping import deprecation_headers, deprecations

log = logging.getLogger("orderhub.esim_v1")

_DOMAIN_ERRORS: list[tuple[type[errors.DomainError], int, str]] = [
    (errors.InvalidInput, 400, "INVALID_REQUEST_PARAMS"),
    (errors.NotAuthenticated, 401, "UNAUTHORISED"),
    (errors.AccessDenied, 403, "ACCESS_DENIED"),
    (errors.OrderNotFound, 404, "ORDER_NOT_FOUND"),
    (errors.SimNotFound, 404, "SIM_NOT_FOUND"),
    (errors.ProductNotFound, 422, "PRODUCT_NOT_FOUND"),
    (errors.CustomerMustExist, 422, "CUSTOMER_MUST_EXIST"),
    (errors.EmailAndIccidDoNotMatch, 422, "EMAIL_AND_ICCID_DO_NOT_MATCH"),
    (errors.SubscriptionLimitReached, 422, "SUBSCRIPTION_LIMIT_REACHED"),
    (errors.IdempotencyConflict, 422, "IDEMPOTENCY_KEY_REUSED"),
    (errors.RateLimited, 429, "TOO_MANY_REQUESTS"),
]

_HTTP_TYPES = {
    404: "NOT_FOUND",
    405: "METHOD_NOT_ALLOWED",
    413: "INVALID_HTTP_MESSAGE",
    415: "INVALID_HTTP_MESSAGE",
}


class EsimError(Exception):
    """An esim-v1 answer that is not a domain error (for example an order with no QR code yet)."""

    def __init__(self, status: int, type_: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.type = type_
        self.message = message


class Answer(Exception):
    """An answer a FastAPI dependency gives in place of its route (a dependency can only raise)."""

    def __init__(self, response: Response) -> None:
        super().__init__(response.status_code)
        self.response = response


def error_response(
    status: int, type_: str, *messages: str, headers: dict[str, str] | None = None, field: str | None = None
) -> JSONResponse:
    """The error answer; its ``type`` (and the ``field`` its message names) go to the access line."""
    note_refusal(type_, field)
    return JSONResponse({"type": type_, "messages": list(messages)}, status_code=status, headers=headers)


def http_error(status: int, message: str) -> JSONResponse:
    return error_response(status, _HTTP_TYPES.get(status, "INVALID_HTTP_MESSAGE"), message)


# The domain names fields by neutral paths; esim-v1 spells them as its wire body does.
_WIRE_FIELDS = {
    "customer.email": "input.customer.email",
    "customer.country_of_residence": "input.customer.countryOfResidence",
    "country_code": "input.countryCode",
    "device.type": "input.device.type",
    "items": "input.subscriptions",
    "subject.iccid": "input.esim.iccid",
}
_WIRE_ITEM_FIELDS = {"activation_at": "activationDate"}
_ITEM_FIELD = re.compile(r"^items\[(\d+)\]\.(\w+)\Z")


def wire_field(path: str) -> str:
    """``items[0].activation_at`` -> ``input.subscriptions[0].activationDate``; other paths as they are."""
    if path in _WIRE_FIELDS:
        return _WIRE_FIELDS[path]
    item = _ITEM_FIELD.match(path)
    if item is not None:
        index, name = item.groups()
        return f"input.subscriptions[{index}].{_WIRE_ITEM_FIELDS.get(name, name)}"
    return path


def domain_error_response(exc: errors.DomainError) -> JSONResponse:
    for kind, status, type_ in _DOMAIN_ERRORS:
        if isinstance(exc, kind):
            headers = {"WWW-Authenticate": bearer_challenge("esim-v1", exc)} if status == 401 else None
            if isinstance(exc, errors.RateLimited):
                headers = {"Retry-After": str(exc.retry_after)}
            field = wire_field(exc.field) if exc.field and status == 400 else None
            message = f"{field}: {exc.message}" if field else exc.message
            return error_response(status, type_, message, headers=headers, field=field)
    log.error("unmapped domain error %s", type(exc).__name__)
    return error_response(500, "INTERNAL_ERROR", "internal error")


def field_path(location: tuple[Any, ...]) -> str:
    """('body', 'input', 'subscriptions', 0, 'price') -> 'input.subscriptions[0].price'."""
    path = ""
    for part in location[1:] if location and location[0] in ("body", "query", "path", "header") else location:
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
    return path or "body"


def validation_response(exc: RequestValidationError) -> JSONResponse:
    problems = list(exc.errors())
    if any(p["type"] == "json_invalid" for p in problems):
        return error_response(400, "INVALID_HTTP_MESSAGE", "request body is not valid JSON")
    if any(p["type"] == "missing" and tuple(p["loc"]) == ("body",) for p in problems):
        return error_response(400, "INVALID_HTTP_MESSAGE", "request body is required")
    fields = [field_path(tuple(p["loc"])) for p in problems]
    messages = [f"{field}: {p['msg'].removeprefix('Value error, ')}" for field, p in zip(fields, problems, strict=True)]
    # A body refused field by field still says which deprecated spellings it used.
    headers = deprecation_headers(deprecations(exc.body)) or None
    return error_response(400, "INVALID_REQUEST_PARAMS", *messages, headers=headers, field=next(iter(fields), None))


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(errors.DomainError)
    async def _domain(_request: Request, exc: errors.DomainError) -> JSONResponse:
        return domain_error_response(exc)

    @app.exception_handler(EsimError)
    async def _esim(_request: Request, exc: EsimError) -> JSONResponse:
        return error_response(exc.status, exc.type, exc.message)

    @app.exception_handler(Answer)
    async def _answer(_request: Request, exc: Answer) -> Response:
        return exc.response

    @app.exception_handler(DatabaseUnavailable)
    async def _unavailable(_request: Request, exc: DatabaseUnavailable) -> JSONResponse:
        return database_unavailable_response(exc)

    @app.exception_handler(RequestValidationError)
    async def _validation(_request: Request, exc: RequestValidationError) -> JSONResponse:
        return validation_response(exc)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
        answer = http_error(exc.status_code, str(exc.detail))
        # A 405 says which methods the path takes (RFC 9110 §15.5.6).
        answer.headers.update(exc.headers or {})
        return answer

    @app.exception_handler(Exception)
    async def _unexpected(_request: Request, exc: Exception) -> JSONResponse:
        # Only reached if UnexpectedErrorMiddleware is missing; it answers the same.
        log.exception("unexpected error", exc_info=exc)
        return internal_error_response()


def database_unavailable_response(exc: DatabaseUnavailable) -> JSONResponse:
    return error_response(
        503,
        "SERVICE_UNAVAILABLE",
        "the service cannot reach its database right now; retry after the Retry-After delay",
        headers={"Retry-After": str(exc.retry_after)},
    )


def internal_error_response() -> JSONResponse:
    return error_response(500, "INTERNAL_ERROR", "internal error; quote the X-Correlation-ID to support")
