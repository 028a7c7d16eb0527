"""tmf-productorder's busiest route as a plain ASGI handler: place an order.

It answers exactly as the FastAPI route in routes.py does (tests/api/test_hot_paths_tmf_productorder.py
holds it to that, request by request): the same steps in the same order (placing.py: headers,
credentials and business unit, then the Idempotency-Key, then the body), the same error answers
(errors.failure_response). FastAPI's dependency solving and middleware stack cost as much CPU as the
order itself.
"""

from __future__ import annotations

from functools import partial

from starlette.responses import Response
from starlette.types import Scope

from orderhub.dialects.context import DialectContext
from orderhub.web.hot_paths import HotHandler, HotRequest, check_optional_header, path_parameter

from . import placing

_ORDERS = "/productOrder"


class TmfProductOrderHotRoutes:
    def __init__(self, context: DialectContext, prefixes: tuple[str, ...]) -> None:
        self._context = context
        self._prefixes = tuple(prefix + "/" for prefix in prefixes)

    def claims(self, scope: Scope) -> HotHandler | None:
        """``POST <prefix>/{business_id}/productOrder``, as the FastAPI route matches it: a business id
        of one non-empty path segment without a newline. Anything else (a trailing slash, another
        method) is the app's."""
        business_id = self.business_id(scope) if scope["method"] == "POST" else None
        return None if business_id is None else partial(self.place_order, business_id)

    def business_id(self, scope: Scope) -> str | None:
        path: str = scope["path"]
        if not path.endswith(_ORDERS):
            return None
        for prefix in self._prefixes:
            if path.startswith(prefix):
                business_id = path[len(prefix) : -len(_ORDERS)]
                return business_id if path_parameter(business_id) else None
        return None

    async def place_order(self, business_id: str, request: HotRequest) -> Response:
        headers = request.headers
        client = request.scope.get("client")
        who = await placing.orderer(
            self._context,
            business_id,
            client_id=headers.get("client_id"),
            client_secret=headers.get("client_secret"),
            x_correlation_id=headers.get("x-correlation-id"),
            source=client[0] if client else None,
        )
        key = headers.get("idempotency-key")
        check_optional_header("idempotency-key", key, min_length=1, max_length=placing.MAX_IDEMPOTENCY_KEY_LENGTH)
        return await placing.place(self._context, who, request.body, key)
