"""ON-API 2.5, served by the SP: the order endpoint, the products a CO may order, and the list of
endpoints ON-API asks every party to publish."""

from datetime import UTC, datetime
from typing import Annotated, Any

import orjson
from fastapi import Depends, FastAPI, Header, Request, Response
from fastapi.security import HTTPBasic, HTTPBasicCredentials

from orderhub.dialects.context import DialectContext
from orderhub.domain.accesses import ActivationRefused
from orderhub.domain.errors import NotAuthenticated, TooManyAttempts
from orderhub.domain.orders import OrderState
from orderhub.domain.partners import ACCESS_ORDERING_ROLES, Principal
from orderhub.observability import correlation_id
from orderhub.services.ordering import PlaceOrder
from orderhub.web.middleware import add_request_guards
from orderhub.web.rate_limit import RateLimiter

from . import schema, wire
from .errors import REALM, OnapiError, http_error, install_error_handlers, internal_error_response
from .messages import message

DIALECT = "onapi-order"
PREFIX = "/2.5"
VERSION = "2.5"
ORDER_PATH = "/sp_spec/order/"
PRODUCTS_PATH = "/sp_spec/products/"
_basic = HTTPBasic(auto_error=False, realm="onapi")
# The paths served here (without the trailing slash) and their methods, for 405 answers.
_ALLOWED = {"": "GET", ORDER_PATH.strip("/"): "POST", PRODUCTS_PATH.strip("/"): "GET"}


def _json(body: Any, status_code: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(orjson.dumps(body), status_code=status_code, headers=headers, media_type="application/json")


def _status(state: OrderState, due_at: datetime | None, language: str) -> dict[str, str]:
    """The answer for an order in ``state``: ACTIVATED, RECEIVED (with when) or REJECTED."""
    if state is OrderState.COMPLETED:
        return {"status": "ACTIVATED", "message": message("activated", language)}
    if state.is_final:
        return {"status": "REJECTED", "message": message("failed", language)}
    when = f"{due_at.astimezone(UTC):%Y-%m-%d %H:%M} UTC" if due_at else "shortly"
    return {"status": "RECEIVED", "message": message("received", language, when=when)}


def create_onapi_app(services: DialectContext) -> FastAPI:
    app = FastAPI(
        title="orderhub ON-API 2.5 (SP)",
        version=VERSION,
        description=(
            "ON-API 2.5 order endpoint served by the service provider: communication operators order "
            "services on network accesses. HTTP Basic authentication per communication operator."
        ),
        openapi_url="/openapi.json",
        docs_url="/docs",
        redoc_url=None,
        responses=schema.ERRORS,
    )
    install_error_handlers(app)
    add_request_guards(
        app,
        max_bytes=services.settings.max_body_bytes,
        body_timeout=services.settings.request_body_timeout_seconds,
        render_error=http_error,
        render_internal_error=internal_error_response,
    )
    limiter = RateLimiter()

    async def operator(
        request: Request, credentials: Annotated[HTTPBasicCredentials | None, Depends(_basic)]
    ) -> Principal:
        if credentials is None:
            raise OnapiError(401, "Authentication required", headers={"WWW-Authenticate": REALM})
        source = request.client.host if request.client else None
        try:
            caller = await services.auth.verify_client(credentials.username, credentials.password, source=source)
        except NotAuthenticated:
            raise OnapiError(401, "Bad credentials", headers={"WWW-Authenticate": REALM}) from None
        except TooManyAttempts as exc:
            raise OnapiError(429, "Too many failed sign-ins", headers={"Retry-After": str(exc.retry_after)}) from None
        if not caller.has_any_role(ACCESS_ORDERING_ROLES) or caller.partner.co_id is None:
            raise OnapiError(403, "Not a communication operator")
        request.state.language = caller.partner.language
        wait = limiter.retry_after(caller.partner_id, caller.partner.rate_limit_per_minute)
        if wait:
            raise OnapiError(429, "Too many requests", headers={"Retry-After": str(wait)})
        return caller

    Operator = Annotated[Principal, Depends(operator)]

    @app.get("/", summary="The ON-API endpoints served here")
    async def endpoints(request: Request) -> Response:
        docs = f"{request.url.scheme}://{request.url.netloc}{PREFIX}/docs"
        served = {"order": ORDER_PATH, "products": PRODUCTS_PATH}
        return _json(
            [
                {"name": name, "endpoint": f"{PREFIX}{path}", "version": VERSION, "documentation": docs}
                for name, path in served.items()
            ]
        )

    @app.get(PRODUCTS_PATH, summary="The products and offerings you may order")
    @app.get(PRODUCTS_PATH.rstrip("/"), include_in_schema=False)
    async def products(caller: Operator) -> Response:
        listed: dict[str, dict[str, Any]] = {}
        for offering in await services.accesses.offerings_for(caller):
            entry = listed.setdefault(
                offering.product_id,
                {"productId": offering.product_id, "name": offering.product_name, "offerings": []},
            )
            entry["offerings"].append({"offeringId": offering.offering_id, "name": offering.name})
        return _json(list(listed.values()))

    @app.post(
        ORDER_PATH,
        summary="Order a service on an access",
        openapi_extra=schema.request_body(),
        responses={200: {"model": schema.OrderAnswer}},
    )
    @app.post(ORDER_PATH.rstrip("/"), include_in_schema=False)
    async def order(
        request: Request, caller: Operator, idempotency_key: Annotated[str | None, Header(max_length=255)] = None
    ) -> Response:
        language = caller.partner.language
        try:
            body = orjson.loads(await request.body())
        except orjson.JSONDecodeError:
            raise OnapiError(400, "Bad request body", message("body", language)) from None
        co_id, activation = wire.read_order(body, language, datetime.now(UTC).date())
        if co_id != caller.partner.co_id:
            raise OnapiError(403, f"coId {co_id} is not the authenticated communication operator")
        key, basis = wire.natural_key(co_id, activation)
        keys = (key, idempotency_key) if idempotency_key else (key,)
        try:
            placed = await services.ordering.place(
                caller,
                PlaceOrder(
                    request=activation,
                    raw_request=body,
                    dialect=DIALECT,
                    idempotency_keys=keys,
                    correlation_id=correlation_id.get(),
                    key_basis={key: basis},
                ),
            )
        except ActivationRefused as refused:
            return _json({"status": "REJECTED", "message": message(refused.reason, language)})
        budget = 0.0 if placed.finished is not None else services.settings.final_answer_budget_seconds
        view = await services.ordering.wait_until_settled(caller, placed.order_id, budget)
        return _json(_status(view.order.state, view.order.due_at, language))

    @app.api_route("/{path:path}", methods=["GET", "POST", "PUT", "PATCH", "DELETE"], include_in_schema=False)
    async def not_implemented(path: str) -> Response:
        allowed = _ALLOWED.get(path.rstrip("/"))
        if allowed is not None:  # a path served here, asked with another method
            return _json({"cause": "Method not allowed"}, 405, {"Allow": allowed})
        return _json({"cause": f"Not implemented: {PREFIX}/{path}"}, 501)

    return app
