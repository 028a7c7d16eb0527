"""The ceiling over accept: orderhub as ``orderhub serve`` runs it, with the order's write answered at once.

Everything of a NEW_ESIM POST runs as in production (the server protocol, the hot route, the body
guard, JSON, the bearer token and its freshness check, the wire model, validation, the idempotency
fingerprint, the answer), except the unit of work that stores and fulfils the order: the ordering
service's ``Database.write`` answers a new order id without running it. So no store, however it were
built, could let accept go faster than this app does (bench/README.md, "The ceiling over accept").
Tokens and every other route use the real database, as in ``orderhub serve``.

    .venv/bin/python -m bench.ceiling_app PORT DATABASE_URL   # a migrated database with the demo data
"""

from __future__ import annotations

import sys
from dataclasses import replace
from typing import Any

from orderhub.domain.identifiers import new_id
from orderhub.domain.order_states import OrderState
from orderhub.domain.orders import Operation
from orderhub.services.order_commands import FinishedOrder, PlacedOrder


class _AnsweredWrites:
    """The database, except that a write is answered at once, as a NEW_ESIM order completed at intake."""

    def __init__(self, database: Any) -> None:
        self._database = database

    def __getattr__(self, name: str) -> Any:
        return getattr(self._database, name)

    async def write(self, work: Any) -> PlacedOrder:
        finished = FinishedOrder("esim-v1", Operation.NEW_ESIM, OrderState.COMPLETED)
        return PlacedOrder(new_id(), replayed=False, finished=finished)


def main() -> None:
    from orderhub.api.app import create_app
    from orderhub.bootstrap import build_services
    from orderhub.services.intakes import default_intakes
    from orderhub.services.ordering import OrderingService
    from orderhub.settings import Settings
    from orderhub.web.server import run_server

    port, database_url = int(sys.argv[1]), sys.argv[2]
    settings = Settings.from_env(database_url=database_url, host="127.0.0.1", port=port)
    services = build_services(settings)
    ordering = OrderingService(
        _AnsweredWrites(services.database),  # type: ignore[arg-type]
        default_intakes(),
        after_fulfilled=services.fulfilment.after_inline,
    )
    application = create_app(replace(services, ordering=ordering), run_worker=False)
    run_server(
        application,
        host=settings.host,
        port=port,
        header_timeout_seconds=settings.request_header_timeout_seconds,
        keep_alive_seconds=settings.keep_alive_seconds,
        log_level="warning",
    )


if __name__ == "__main__":
    main()
