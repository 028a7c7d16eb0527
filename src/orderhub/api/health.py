"""Liveness and readiness probes, and Prometheus metrics."""

from __future__ import annotations

import asyncio

import sqlalchemy as sa
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from orderhub.probes import (
    METRICS_CONTENT_TYPE,
    METRICS_REFUSED,
    GaugeRefresh,
    ProbeAnswer,
    ReadinessChanges,
    ReadinessCheck,
    metrics_allowed,
    metrics_text,
    read_database_gauges,
    readiness,
)
from orderhub.services.inventory import InventoryService
from orderhub.store.runtime import SqlDatabase


def health_router(
    engine: sa.Engine, database: SqlDatabase, inventory: InventoryService, metrics_token: str = ""
) -> APIRouter:
    router = APIRouter(tags=["health"])
    changes = ReadinessChanges()
    # As a worker's: one check at a time, a probe answered within READINESS_WAIT_SECONDS (an orchestrator
    # gives up after 1 s by default; it waited for the store's bound, up to 10 s, on a silent server).
    check = ReadinessCheck(lambda: readiness(engine, database))
    database_gauges = GaugeRefresh(lambda: read_database_gauges(inventory, engine))

    @router.get("/healthz", summary="The process is alive")
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @router.get("/readyz", summary="The database can be written and is fully migrated")
    async def readyz() -> JSONResponse:
        return _json(changes.seen(await asyncio.to_thread(check.answer)))

    @router.get("/metrics", summary="Prometheus metrics", response_class=Response)
    async def metrics(request: Request) -> Response:
        if not metrics_allowed(request.headers.get("authorization"), metrics_token):
            return _json(METRICS_REFUSED)
        # The gauges read from the database (inventory, backlog, failing listeners) are read fresh when it
        # answers at once; otherwise the metrics go out with the last levels read, so a slow or stuck
        # database does not stop the scraping.
        await asyncio.to_thread(database_gauges.refresh)
        return Response(metrics_text(), media_type=METRICS_CONTENT_TYPE)

    return router


def _json(answer: ProbeAnswer) -> JSONResponse:
    return JSONResponse(answer.body, answer.status, headers=answer.headers or None)
