"""ON-API's common responses ``{"cause"}``, and its input errors: 400 ``{"cause", "message"}``."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from orderhub.access_facts import note_refusal
from orderhub.domain import errors
from orderhub.services.ports import DatabaseUnavailable

from .messages import message

log = logging.getLogger("orderhub.onapi")

_DOMAIN_STATUS: list[tuple[type[errors.DomainError], int]] = [
    (errors.NotAuthenticated, 401),
    (errors.AccessDenied, 403),
    (errors.OrderNotFound, 404),
    (errors.IdempotencyConflict, 409),
]
REALM = 'Basic realm="onapi", charset="UTF-8"'
# The domain's neutral field paths as this API names them, and which customer message fits. Any other
# (none the access intake raises today) is "Bad request": a cause names only the specification's fields.
_WIRE_FIELDS = {"requested_at": ("requestedDateTime", "date"), "products": ("products", "products")}


class OnapiError(Exception):
    """``reason``: what the access line gives for a ``cause`` that quotes the request; ``field``: the field
    a ``Bad <field>`` cause names."""

    def __init__(
        self,
        status: int,
        cause: str,
        message: str | None = None,
        headers: dict[str, str] | None = None,
        *,
        reason: str | None = None,
        field: str | None = None,
    ):
        super().__init__(cause)
        self.status = status
        self.cause = cause
        self.message = message
        self.headers = headers
        self.reason = reason
        self.field = field


def error_response(
    status: int,
    cause: str,
    message: str | None = None,
    headers: dict[str, str] | None = None,
    *,
    reason: str | None = None,
    field: str | None = None,
) -> JSONResponse:
    """The answer; the access line gets its ``cause`` (ON-API's only code), or ``reason`` where the cause
    quotes the request, and the ``field`` a ``Bad <field>`` cause names."""
    note_refusal(reason or cause, field)
    body: dict[str, Any] = {"cause": cause}
    if message is not None:
        body["message"] = message
    return JSONResponse(body, status_code=status, headers=headers)


def http_error(status: int, text: str) -> JSONResponse:
    if status == 400:  # an unreadable body is an input error: with a message for the end customer
        return error_response(400, "Bad request body", "The order could not be read.")
    return error_response(status, text)


def refusal_error(status: int, text: str) -> JSONResponse:
    """A request refused before any route (web.parser_refusals: not HTTP, a header given twice, a head too
    large): its cause says what was wrong with the request, which was not its body."""
    if status == 400:
        return error_response(400, f"Bad request: {text}", "The order could not be read.", reason="Bad request")
    return http_error(status, text)


def internal_error_response() -> JSONResponse:
    return error_response(500, "Internal error; quote the X-Correlation-ID to support")


def invalid_input_response(exc: errors.InvalidInput, language: str) -> JSONResponse:
    # Rules the domain holds (a date too far ahead, too many products): a 400 like the body's own.
    field, key = _WIRE_FIELDS.get(exc.field or "", ("request", "order"))
    return error_response(400, f"Bad {field}", message(key, language), field=None if field == "request" else field)


def failure_response(exc: Exception, language: str = "en") -> JSONResponse | None:
    """The answer to what a route raised, as the handlers below give it; None for anything else (a bug).
    ``language``: the caller's, once known. Hot routes (web.hot_paths) call it directly."""
    if isinstance(exc, OnapiError):
        return error_response(exc.status, exc.cause, exc.message, exc.headers, reason=exc.reason, field=exc.field)
    if isinstance(exc, errors.InvalidInput):
        return invalid_input_response(exc, language)
    if isinstance(exc, errors.DomainError):
        for kind, status in _DOMAIN_STATUS:
            if isinstance(exc, kind):
                headers = {"WWW-Authenticate": REALM} if status == 401 else None
                # The cause is the domain's message, which may quote the request (an order's id): the
                # access line names the refusal's kind instead.
                return error_response(status, exc.message, headers=headers, reason=type(exc).__name__)
        log.error("unmapped domain error %s", type(exc).__name__)
        return internal_error_response()
    if isinstance(exc, DatabaseUnavailable):
        return error_response(503, "Service unavailable; retry later", headers={"Retry-After": str(exc.retry_after)})
    if isinstance(exc, RequestValidationError):
        return error_response(400, "Bad request")
    if isinstance(exc, StarletteHTTPException):
        if exc.status_code == 401:  # a malformed Basic header, refused by the framework's HTTPBasic
            return error_response(401, "Bad credentials", headers={"WWW-Authenticate": REALM})
        # One wording for every 405, the framework's own (OPTIONS) included.
        answer = error_response(exc.status_code, "Method not allowed" if exc.status_code == 405 else str(exc.detail))
        # A 405 says which methods the path takes (RFC 9110 §15.5.6).
        answer.headers.update(exc.headers or {})
        return answer
    return None


def install_error_handlers(app: FastAPI) -> None:
    async def _failure(request: Request, exc: Exception) -> JSONResponse:
        # The operator dependency leaves the caller's language on the request.
        answer = failure_response(exc, getattr(request.state, "language", "en"))
        assert answer is not None, "registered only for the exceptions failure_response answers"
        return answer

    for kind in (OnapiError, errors.DomainError, DatabaseUnavailable, RequestValidationError, StarletteHTTPException):
        app.add_exception_handler(kind, _failure)
