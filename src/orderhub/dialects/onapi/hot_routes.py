"""ON-API's busiest route as a plain ASGI handler: order a service.

It answers exactly as the FastAPI route in routes.py does (tests/api/test_hot_paths_onapi.py holds it
to that, request by request): the same steps in the same order (placing.py: FastAPI's own HTTP Basic
parsing, the operator, then the Idempotency-Key and the body), the same error answers in the partner's
language (errors.failure_response). FastAPI's dependency solving and middleware stack cost as much CPU
as the order itself.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Scope

from orderhub.dialects.context import DialectContext
from orderhub.domain.errors import InvalidInput
from orderhub.services.auth import Caller
from orderhub.web.hot_paths import HotHandler, HotRequest

from . import placing
from .errors import invalid_input_response


class OnapiHotRoutes:
    def __init__(self, context: DialectContext, order_paths: tuple[str, ...]) -> None:
        self._context = context
        self._order_paths = frozenset(order_paths)

    def claims(self, scope: Scope) -> HotHandler | None:
        if scope["method"] == "POST" and scope["path"] in self._order_paths:
            return self.place_order
        return None

    async def place_order(self, request: HotRequest) -> Response:
        credentials = await placing.BASIC(Request(request.scope))
        client = request.scope.get("client")
        caller = await placing.hot_operator(self._context, credentials, client[0] if client else None)
        key = request.headers.get("idempotency-key")
        try:
            return await placing.place(self._context, caller, request.body, key)
        except InvalidInput as exc:
            # The framework's handler reads the language the operator step left on the request.
            principal = caller.principal if isinstance(caller, Caller) else caller
            return invalid_input_response(exc, principal.partner.language)
