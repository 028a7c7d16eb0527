"""tmf-productorder HTTP routes: POST and GET productOrder under a business unit."""

from typing import Annotated, Any

import orjson
from fastapi import Depends, FastAPI, Header, Request, Response

from orderhub.dialects.context import DialectContext
from orderhub.domain.errors import OrderNotFound
from orderhub.domain.lines import BusinessUnit
from orderhub.domain.orders import Operation
from orderhub.domain.partners import Principal
from orderhub.observability import correlation_id
from orderhub.services.ordering import PlaceOrder
from orderhub.web.middleware import (
    MAX_CORRELATION_ID_LENGTH,
    add_request_guards,
    correlation_id_valid,
)

from . import mapping, schema, wire
from .errors import TmfError, http_error, install_error_handlers, internal_error_response

MIN_CREDENTIAL_LENGTH = 5
# X-Correlation-ID is this API's idempotency key: longer values would be cut (web.middleware), and two
# different ids must never count as one.
MAX_HEADER_LENGTH = MAX_CORRELATION_ID_LENGTH
CORRELATION_KEY_PREFIX = "x-correlation-id:"


def _json(body: Any, status_code: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(orjson.dumps(body), status_code=status_code, headers=headers, media_type="application/json")


def _header(value: str | None, name: str, *, min_length: int = 1, visible_ascii: bool = False) -> str:
    if value is None or not value.strip():
        raise TmfError(400, "MISSING_HEADER", f"the {name} header is required")
    if len(value.strip()) < min_length:
        raise TmfError(400, "MISSING_HEADER", f"the {name} header must be at least {min_length} characters")
    if len(value) > MAX_HEADER_LENGTH:
        raise TmfError(400, "INVALID_REQUEST", f"the {name} header must be at most {MAX_HEADER_LENGTH} characters")
    if visible_ascii and not correlation_id_valid(value.strip()):
        raise TmfError(400, "INVALID_REQUEST", f"the {name} header must be visible ASCII characters")
    return value.strip()


def create_tmf_productorder_app(services: DialectContext) -> FastAPI:
    app = FastAPI(
        title="orderhub tmf-productorder",
        version="1.0",
        description=(
            "Prepaid line orders (Plan, DataPlan, Addon) on an MSISDN of a business unit, TMF622-style. "
            "Authenticate with the client_id and client_secret headers; X-Correlation-ID is required and "
            "makes a retry return the first order."
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

    async def caller(
        business_id: str,
        request: Request,
        client_id: Annotated[str | None, Header(alias="client_id", convert_underscores=False)] = None,
        client_secret: Annotated[str | None, Header(alias="client_secret", convert_underscores=False)] = None,
        x_correlation_id: Annotated[str | None, Header()] = None,
    ) -> tuple[Principal, BusinessUnit]:
        _header(x_correlation_id, "X-Correlation-ID", visible_ascii=True)
        client = _header(client_id, "client_id", min_length=MIN_CREDENTIAL_LENGTH)
        secret = _header(client_secret, "client_secret", min_length=MIN_CREDENTIAL_LENGTH)
        source = request.client.host if request.client else None
        principal = await services.auth.verify_client(client, secret, source=source)
        return principal, await services.lines.business_unit(principal, business_id)

    Caller = Annotated[tuple[Principal, BusinessUnit], Depends(caller)]

    @app.post(
        "/{business_id}/productOrder",
        status_code=201,
        summary="Order a Plan, DataPlan or Addon on a line",
        openapi_extra=schema.request_body(schema.ProductOrderRequest, schema.EXAMPLE),
    )
    async def place_order(
        business_id: str,
        request: Request,
        who: Caller,
        idempotency_key: Annotated[str | None, Header(max_length=255)] = None,
    ) -> Response:
        principal, unit = who
        try:
            body = orjson.loads(await request.body())
        except orjson.JSONDecodeError:
            raise TmfError(400, "INVALID_REQUEST", "the request body is not valid JSON") from None
        line_order, echo = wire.read_order(body, unit.id)
        correlation = correlation_id.get()
        assert correlation is not None  # the caller dependency required it
        keys: tuple[str, ...] = (CORRELATION_KEY_PREFIX + correlation,)
        if idempotency_key:
            keys += (idempotency_key,)
        placed = await services.ordering.place(
            principal,
            PlaceOrder(
                request=line_order,
                raw_request=mapping.stored_request(unit.id, echo),
                dialect=mapping.DIALECT,
                idempotency_keys=keys,
                correlation_id=correlation,
                numbered=True,
                scope=unit.id,
            ),
        )
        # The answer is final when provisioning finishes within the budget (at once when it ran at intake).
        budget = 0.0 if placed.finished is not None else services.settings.final_answer_budget_seconds
        view = await services.ordering.wait_until_settled(principal, placed.order_id, budget)
        headers = {"Idempotent-Replayed": "true"} if placed.replayed else None
        return _json(mapping.order_resource(view.order, unit.timezone), 201, headers)

    @app.get("/{business_id}/productOrder/{order_id}", summary="An order placed through this API")
    async def get_order(order_id: str, who: Caller) -> Response:
        principal, unit = who
        view = await services.ordering.get_by_reference(principal, order_id)
        # Line orders placed through the standard TMF622 API are the same orders: shown here too.
        if view.order.operation is not Operation.LINE_PRODUCTS or mapping.business_unit_of(view.order) != unit.id:
            raise OrderNotFound(f"order {order_id} not found")
        return _json(mapping.order_resource(view.order, unit.timezone))

    return app
