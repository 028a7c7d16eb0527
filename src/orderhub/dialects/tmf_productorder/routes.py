"""tmf-productorder HTTP routes: POST and GET productOrder under a business unit."""

from typing import Annotated

from fastapi import Depends, FastAPI, Header, Request, Response

from orderhub.dialects.context import DialectContext
from orderhub.domain.errors import OrderNotFound
from orderhub.domain.lines import BusinessUnit
from orderhub.domain.orders import Operation
from orderhub.domain.partners import Principal
from orderhub.web.docs_page import serve_docs_page
from orderhub.web.hot_paths import HotRoute, HotStack
from orderhub.web.json_response import json_response
from orderhub.web.middleware import add_request_guards

from . import mapping, placing
from .errors import failure_response, http_error, install_error_handlers, internal_error_response
from .hot_routes import TmfProductOrderHotRoutes
from .openapi import declare_answers

# Optional; sent, a key of 1 to 255 characters (an empty one is refused, not taken for none).
_IDEMPOTENCY_KEY = Header(min_length=1, max_length=placing.MAX_IDEMPOTENCY_KEY_LENGTH)


def create_tmf_productorder_hot_routes(
    services: DialectContext, prefixes: tuple[str, ...]
) -> tuple[HotRoute, HotStack]:
    """The POST as a hot route under ``prefixes``, in the guards the app puts around its other routes."""
    stack = HotStack(
        required_header=None,  # X-Correlation-ID is checked by the caller step, in this API's words
        max_bytes=services.settings.max_body_bytes,
        body_timeout=services.settings.request_body_timeout_seconds,
        render_error=http_error,
        render_internal_error=internal_error_response,
        render_failure=failure_response,
    )
    return TmfProductOrderHotRoutes(services, prefixes).claims, stack


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
        docs_url=None,  # web.docs_page serves it, with its assets pinned
        swagger_ui_oauth2_redirect_url=None,
        redoc_url=None,
        redirect_slashes=False,  # as esim-v1's: a redirect answered before authentication, to the Host sent
    )
    serve_docs_page(app)
    install_error_handlers(app)
    declare_answers(app)
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
        return await placing.caller(
            services,
            business_id,
            client_id=client_id,
            client_secret=client_secret,
            x_correlation_id=x_correlation_id,
            source=request.client.host if request.client else None,
        )

    Caller = Annotated[tuple[Principal, BusinessUnit], Depends(caller)]

    @app.post(
        "/{business_id}/productOrder",
        status_code=201,
        summary="Order a Plan, DataPlan or Addon on a line",
        operation_id="createProductOrder",
    )
    async def place_order(
        business_id: str,
        request: Request,
        who: Caller,
        idempotency_key: Annotated[str | None, _IDEMPOTENCY_KEY] = None,
    ) -> Response:
        return await placing.place(services, placing.Orderer(*who), await request.body(), idempotency_key)

    @app.get(
        "/{business_id}/productOrder/{order_id}",
        summary="An order placed through this API",
        operation_id="retrieveProductOrder",
    )
    async def get_order(order_id: str, who: Caller) -> Response:
        principal, unit = who
        view = await services.ordering.get_by_reference(principal, order_id)
        # Line orders placed through the standard TMF622 API are the same orders: shown here too.
        if view.order.operation is not Operation.LINE_PRODUCTS or mapping.business_unit_of(view.order) != unit.id:
            raise OrderNotFound(f"order {order_id} not found")
        return json_response(mapping.order_resource(view.order, unit.timezone))

    return app
