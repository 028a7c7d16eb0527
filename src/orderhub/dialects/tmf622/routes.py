"""TMF622 v4 Product Ordering: productOrder, cancelProductOrder and hub, with bearer tokens."""

from typing import Annotated, Any

import orjson
from fastapi import Depends, FastAPI, Header, Query, Request, Response

from orderhub.access_facts import signed_in
from orderhub.dialects.context import DialectContext
from orderhub.dialects.tmf_productorder import wire as vendor_wire
from orderhub.dialects.tmf_productorder.errors import TmfError, http_error, install_error_handlers
from orderhub.dialects.tmf_productorder.errors import internal_error_response as tmf_internal_error
from orderhub.domain.errors import AccessDenied, NotAuthenticated, OrderNotFound
from orderhub.domain.orders import Operation
from orderhub.domain.partners import LINE_ORDERING_ROLES, Principal
from orderhub.observability import correlation_id
from orderhub.services.order_commands import PlaceOrder
from orderhub.services.records import OrderQuery
from orderhub.web.docs_page import serve_docs_page
from orderhub.web.json_response import json_response
from orderhub.web.middleware import add_request_guards

from . import mapping, wire
from .openapi import declare_answers

REALM = "tmf622"
# Optional; sent, a key of 1 to 255 characters (an empty one is refused, not taken for none: a retry
# sent with it would otherwise place the order again).
_IDEMPOTENCY_KEY = Header(min_length=1, max_length=255)
# Declared for the OpenAPI document; a GET of one resource reads its whole query (wire.read_resource_query),
# so a parameter given twice, or one it does not take, is refused as in a listing.
Fields = Annotated[
    str | None, Query(description="TMF630 projection: the attributes to show, comma-separated (id and href always)")
]


async def _body(request: Request) -> Any:
    raw = await request.body()
    if not raw:
        raise TmfError(400, "INVALID_REQUEST", "a JSON request body is required")
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise TmfError(400, "INVALID_REQUEST", "the request body is not valid JSON") from None
    vendor_wire.refuse_nul(raw, body)
    return body


def create_tmf622_app(services: DialectContext) -> FastAPI:
    public_url = services.settings.public_url.rstrip("/")

    def link_base(request: Request) -> str:
        """Where links point: the operator's public address (as in events) when set. The Host header is
        the client's to write: a link built from it could send the partner anywhere."""
        return public_url or f"{request.url.scheme}://{request.url.netloc}"

    app = FastAPI(
        title="orderhub TMF622 Product Ordering",
        version="4.0.0",
        description=(
            "TM Forum TMF622 v4 Product Ordering over the same line orders as tmf-productorder. Bearer tokens "
            "from POST /oauth2/token with your client_id and client_secret."
        ),
        openapi_url="/openapi.json",
        docs_url=None,  # web.docs_page serves it, with its assets pinned
        swagger_ui_oauth2_redirect_url=None,
        redoc_url=None,
        redirect_slashes=False,  # as esim-v1's: a redirect answered before authentication, to the Host sent
    )
    serve_docs_page(app)
    install_error_handlers(app, bearer_realm=REALM)
    declare_answers(app)
    add_request_guards(
        app,
        max_bytes=services.settings.max_body_bytes,
        body_timeout=services.settings.request_body_timeout_seconds,
        render_error=http_error,
        render_internal_error=tmf_internal_error,
    )

    async def principal(authorization: Annotated[str | None, Header()] = None) -> Principal:
        scheme, _, token = (authorization or "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise NotAuthenticated("a bearer token is required (POST /oauth2/token)")
        caller = signed_in(await services.auth.authenticate(token.strip()))
        if not caller.has_any_role(LINE_ORDERING_ROLES):
            raise AccessDenied("this API needs the BUSINESS_CHANNEL role")
        services.rate_limiter.admit(caller)  # every operation's, one budget with the partner's other APIs
        return caller

    Caller = Annotated[Principal, Depends(principal)]

    async def visible_order(caller: Principal, order_id: str) -> Any:
        view = await services.ordering.get_by_reference(caller, order_id)
        if view.order.operation is not Operation.LINE_PRODUCTS:
            raise OrderNotFound(f"order {order_id} not found")
        return view.order

    @app.post(
        "/productOrder",
        status_code=201,
        summary="Create a product order",
        operation_id="createProductOrder",
    )
    async def create_order(
        request: Request, caller: Caller, idempotency_key: Annotated[str | None, _IDEMPOTENCY_KEY] = None
    ) -> Response:
        body = await _body(request)
        unit_id = wire.business_unit_of(body, caller.partner.business_unit_ids)
        unit = await services.lines.business_unit(caller, unit_id)
        line_order, echo = wire.read_order(body, unit.id)
        placed = await services.ordering.place(
            caller,
            PlaceOrder(
                request=line_order,
                raw_request={"businessId": unit.id, "order": echo},
                dialect=mapping.DIALECT,
                idempotency_keys=(idempotency_key,) if idempotency_key else (),
                correlation_id=correlation_id.get(),
                numbered=True,
                scope=unit.id,
            ),
        )
        budget = services.settings.final_answer_budget_seconds
        order = await services.ordering.settled_order(caller, placed, budget)
        resource = mapping.order_resource(order, link_base(request))
        headers = {"Location": resource["href"]}
        if placed.replayed:
            headers["Idempotent-Replayed"] = "true"
        return json_response(resource, 201, headers)

    @app.get("/productOrder", summary="List product orders", operation_id="listProductOrder")
    async def list_orders(request: Request, caller: Caller) -> Response:
        query = wire.read_list_query(wire.read_params(request.query_params.multi_items()))
        found, total = await services.ordering.list_orders(
            caller,
            OrderQuery(
                partner_ids=caller.visible_partner_ids,
                operations=(Operation.LINE_PRODUCTS,),
                states=query.states,
                references=query.references,
                external_ids=query.external_ids,
                created_from=query.created_from,
                created_before=query.created_before,
            ),
            offset=query.offset,
            limit=query.limit,
        )
        base = link_base(request)
        page = [mapping.project(mapping.order_resource(order, base), query.fields) for order in found]
        return json_response(page, headers={"X-Total-Count": str(total), "X-Result-Count": str(len(page))})

    @app.get("/productOrder/{order_id}", summary="Retrieve a product order", operation_id="retrieveProductOrder")
    async def get_order(order_id: str, request: Request, caller: Caller, fields: Fields = None) -> Response:
        chosen = wire.read_resource_query(request.query_params.multi_items())
        order = await visible_order(caller, order_id)
        resource = mapping.order_resource(order, link_base(request))
        return json_response(mapping.project(resource, chosen))

    @app.patch(
        "/productOrder/{order_id}",
        summary="Change a product order (JSON merge-patch)",
        operation_id="patchProductOrder",
    )
    async def patch_order(order_id: str, request: Request, caller: Caller) -> Response:
        await visible_order(caller, order_id)
        changes, start = wire.read_patch(await _body(request))

        def rewrite(stored: dict[str, Any]) -> dict[str, Any]:
            return {**stored, "order": wire.merge_patch(stored.get("order", {}), changes)}

        order = await services.changes.amend(caller, order_id, request=rewrite, due_at=start)
        return json_response(mapping.order_resource(order, link_base(request)))

    @app.delete(
        "/productOrder/{order_id}",
        status_code=204,
        summary="Delete a finished product order",
        operation_id="deleteProductOrder",
    )
    async def delete_order(order_id: str, caller: Caller) -> Response:
        await visible_order(caller, order_id)
        await services.changes.delete(caller, order_id)
        return Response(status_code=204)

    @app.post(
        "/cancelProductOrder",
        status_code=201,
        summary="Ask for a product order to be cancelled",
        operation_id="createCancelProductOrder",
    )
    async def cancel_order(request: Request, caller: Caller) -> Response:
        body = await _body(request)
        if not isinstance(body, dict) or not isinstance(body.get("productOrder"), dict):
            raise TmfError(400, "INVALID_REQUEST", "productOrder is required (an object with the order's id)")
        order_id = body["productOrder"].get("id")
        if not isinstance(order_id, str) or not order_id:
            raise TmfError(400, "INVALID_REQUEST", "productOrder.id is required")
        reason = body.get("cancellationReason")
        if reason is not None and not isinstance(reason, str):
            raise TmfError(400, "INVALID_REQUEST", "cancellationReason must be a string")
        requested_for = wire.read_cancellation_date(body.get("requestedCancellationDate"))
        await visible_order(caller, order_id)
        cancellation = await services.changes.cancel(caller, order_id, reason=reason, requested_for=requested_for)
        _, order = await services.changes.cancellation(caller, cancellation.id)
        resource = mapping.cancellation_resource(cancellation, order, link_base(request))
        return json_response(resource, 201, {"Location": resource["href"]})

    @app.get("/cancelProductOrder", summary="List cancellation requests", operation_id="listCancelProductOrder")
    async def list_cancellations(request: Request, caller: Caller) -> Response:
        params = wire.read_params(request.query_params.multi_items())
        unknown = sorted(set(params) - wire.LIST_PARAMETERS)
        if unknown:
            raise TmfError(400, "INVALID_REQUEST", f"filtering on {', '.join(unknown)} is not supported")
        query = wire.read_list_query(params)
        pairs, total = await services.changes.cancellations(caller, query.offset, query.limit)
        base = link_base(request)
        page = [mapping.project(mapping.cancellation_resource(c, o, base), query.fields) for c, o in pairs]
        return json_response(page, headers={"X-Total-Count": str(total), "X-Result-Count": str(len(page))})

    @app.get(
        "/cancelProductOrder/{cancellation_id}",
        summary="Retrieve a cancellation request",
        operation_id="retrieveCancelProductOrder",
    )
    async def get_cancellation(
        cancellation_id: str, request: Request, caller: Caller, fields: Fields = None
    ) -> Response:
        chosen = wire.read_resource_query(request.query_params.multi_items())
        cancellation, order = await services.changes.cancellation(caller, cancellation_id)
        resource = mapping.cancellation_resource(cancellation, order, link_base(request))
        return json_response(mapping.project(resource, chosen))

    @app.post(
        "/hub",
        status_code=201,
        summary="Register a listener for product order events",
        operation_id="registerListener",
    )
    async def register(request: Request, caller: Caller) -> Response:
        body = await _body(request)
        if not isinstance(body, dict) or not isinstance(body.get("callback"), str):
            raise TmfError(400, "INVALID_REQUEST", "callback is required (the listener's URL)")
        listener = await services.hub.register(caller, body["callback"], wire.read_hub_query(body.get("query")))
        location = f"{link_base(request)}{mapping.PREFIX}/hub/{listener.id}"
        return json_response(mapping.listener_resource(listener), 201, {"Location": location})

    @app.get("/hub/{listener_id}", summary="Retrieve a listener", operation_id="retrieveListener")
    async def get_listener(listener_id: str, caller: Caller) -> Response:
        return json_response(mapping.listener_resource(await services.hub.get(caller, listener_id)))

    @app.delete(
        "/hub/{listener_id}", status_code=204, summary="Unregister a listener", operation_id="unregisterListener"
    )
    async def unregister(listener_id: str, caller: Caller) -> Response:
        await services.hub.unregister(caller, listener_id)
        return Response(status_code=204)

    return app
