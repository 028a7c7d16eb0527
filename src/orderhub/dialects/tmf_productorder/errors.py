"""The TMF error shape ``{"code", "reason", "message", "status"}`` and how each failure maps onto it."""

from __future__ import annotations

import logging
import re
from http import HTTPStatus

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match, Route

from orderhub.access_facts import note_refusal
from orderhub.domain import errors
from orderhub.services.ports import DatabaseUnavailable
from orderhub.web.challenges import bearer_challenge

log = logging.getLogger("orderhub.tmf_productorder")

_DOMAIN_ERRORS: list[tuple[type[errors.DomainError], int, str]] = [
    (errors.InvalidInput, 400, "INVALID_REQUEST"),
    (errors.NotAuthenticated, 401, "UNAUTHORIZED"),
    (errors.TooManyAttempts, 429, "TOO_MANY_REQUESTS"),
    (errors.RateLimited, 429, "TOO_MANY_REQUESTS"),
    (errors.AccessDenied, 403, "FORBIDDEN"),
    (errors.BusinessUnitNotFound, 404, "NOT_FOUND"),
    (errors.OrderNotFound, 404, "NOT_FOUND"),
    (errors.IdempotencyConflict, 409, "CONFLICT"),
    (errors.CannotCancel, 409, "CONFLICT"),
    (errors.CannotChange, 409, "CONFLICT"),
    (errors.OfferingNotAvailable, 422, "OFFERING_NOT_AVAILABLE"),
    (errors.LineNotFound, 422, "LINE_NOT_FOUND"),
    (errors.NoActivePlan, 422, "NO_ACTIVE_PLAN"),
]

_HTTP_CODES = {404: "NOT_FOUND", 405: "METHOD_NOT_ALLOWED", 413: "PAYLOAD_TOO_LARGE", 415: "UNSUPPORTED_MEDIA_TYPE"}

# Neutral field paths of the domain, spelled as this API's body names them.
_WIRE_FIELDS = {
    # Every item names the one MSISDN of the order: the first one is where it is read.
    "subject.msisdn": "productOrderItem[0].product.productCharacteristic[MSISDN].value",
    "items": "productOrderItem",
    "requested_at": "requestedStartDate",
    "customer.identity": "relatedParty[Customer].id",
    "customer.identity_type": "relatedParty[Customer].characteristic[identificationType].value",
}
_ITEM_FIELDS = {"offering_id": "product.productOffering.id", "action": "action"}
_ITEM_FIELD = re.compile(r"^items\[(\d+)\]\.(\w+)\Z")


class TmfError(Exception):
    """An answer of this API that is not a domain error (a missing header, a malformed body)."""

    def __init__(self, status: int, code: str, message: str, *, field: str | None = None) -> None:
        """``field``: the body's field at fault, as the message names it (for the access line)."""
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.field = field


def wire_field(path: str) -> str:
    if path in _WIRE_FIELDS:
        return _WIRE_FIELDS[path]
    item = _ITEM_FIELD.match(path)
    if item is not None:
        index, name = item.groups()
        return f"productOrderItem[{index}].{_ITEM_FIELDS.get(name, name)}"
    return path


def error_response(
    status: int, code: str, message: str, headers: dict[str, str] | None = None, *, field: str | None = None
) -> JSONResponse:
    """The error answer; its ``code`` (and the ``field`` its message names) go to the access line."""
    note_refusal(code, field)
    body = {"code": code, "reason": HTTPStatus(status).phrase, "message": message, "status": str(status)}
    return JSONResponse(body, status_code=status, headers=headers)


def http_error(status: int, message: str) -> JSONResponse:
    return error_response(status, _HTTP_CODES.get(status, "INVALID_REQUEST"), message)


def domain_error_response(exc: errors.DomainError, *, realm: str | None = None) -> JSONResponse:
    for kind, status, code in _DOMAIN_ERRORS:
        if isinstance(exc, kind):
            # The domain's messages say what is wrong with the field: "<field> must ...", as wire.py's do.
            field = wire_field(exc.field) if exc.field and status == 400 else None
            message = f"{field} {exc.message}" if field else exc.message
            headers = {"WWW-Authenticate": bearer_challenge(realm, exc)} if realm and status == 401 else None
            if isinstance(exc, errors.TooManyAttempts | errors.RateLimited):
                headers = {"Retry-After": str(exc.retry_after)}
            return error_response(status, code, message, headers, field=field)
    log.error("unmapped domain error %s", type(exc).__name__)
    return internal_error_response()


def internal_error_response() -> JSONResponse:
    return error_response(500, "INTERNAL_ERROR", "internal error; quote the X-Correlation-ID to support")


def unavailable_response(exc: DatabaseUnavailable) -> JSONResponse:
    return error_response(
        503,
        "SERVICE_UNAVAILABLE",
        "the service cannot reach its database right now; retry after the Retry-After delay",
        headers={"Retry-After": str(exc.retry_after)},
    )


def validation_response(exc: RequestValidationError) -> JSONResponse:
    # Only path and header parameters are validated by FastAPI here; the body is read by wire.py.
    fields = [".".join(str(p) for p in e["loc"]) for e in exc.errors()]
    problems = "; ".join(f"{field}: {e['msg']}" for field, e in zip(fields, exc.errors(), strict=True))
    return error_response(400, "INVALID_REQUEST", problems, field=next(iter(fields), None))


def failure_response(exc: Exception, *, bearer_realm: str | None = None) -> JSONResponse | None:
    """The answer to what a route raised, as the handlers below give it; None for anything else (a bug).
    Hot routes (web.hot_paths) call it directly."""
    if isinstance(exc, errors.DomainError):
        return domain_error_response(exc, realm=bearer_realm)
    if isinstance(exc, TmfError):
        return error_response(exc.status, exc.code, exc.message, field=exc.field)
    if isinstance(exc, DatabaseUnavailable):
        return unavailable_response(exc)
    if isinstance(exc, RequestValidationError):
        return validation_response(exc)
    return None


def install_error_handlers(app: FastAPI, *, bearer_realm: str | None = None) -> None:
    """``bearer_realm``: the API takes bearer tokens, so a 401 says so (RFC 6750)."""

    async def _failure(_request: Request, exc: Exception) -> JSONResponse:
        answer = failure_response(exc, bearer_realm=bearer_realm)
        assert answer is not None, "registered only for the exceptions failure_response answers"
        return answer

    for kind in (errors.DomainError, TmfError, DatabaseUnavailable, RequestValidationError):
        app.add_exception_handler(kind, _failure)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        answer = http_error(exc.status_code, str(exc.detail))
        answer.headers.update(exc.headers or {})
        if exc.status_code == 405:
            # A 405 says which methods the path takes (RFC 9110 §15.5.6): every route on it, not only the
            # first one the router tried.
            answer.headers["Allow"] = ", ".join(allowed_methods(request))
        return answer


def allowed_methods(request: Request) -> list[str]:
    """The methods the routes of the request's app serve on its path."""
    methods: set[str] = set()
    for route in request.app.router.routes:
        if isinstance(route, Route) and route.matches(request.scope)[0] is not Match.NONE:
            methods |= route.methods or set()
    return sorted(methods)
