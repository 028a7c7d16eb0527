"""Liveness and readiness probes, and Prometheus metrics."""

from __future__ import annotations

import asyncio
import contextlib

import sqlalchemy as sa
from fastapi import APIRouter
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from orderhub.metrics import ESIM_PROFILES
from orderhub.services.inventory import InventoryService
from orderhub.services.ports import DatabaseUnavailable
from orderhub.store import migrate
from orderhub.store.runtime import SqlDatabase


def health_router(engine: sa.Engine, database: SqlDatabase, inventory: InventoryService) -> APIRouter:
    router = APIRouter(tags=["health"])

    @router.get("/healthz", summary="The process is alive")
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @router.get("/readyz", summary="The database can be written and is migrated (at least) to this version")
    async def readyz() -> JSONResponse:
        # On a thread, and bounded: a database server that stopped answering would hold the probe (and
        # the orchestrator asking) for as long as TCP lets it.
        try:
            return await database.answered_in_time(asyncio.to_thread(readiness))
        except DatabaseUnavailable as exc:
            return not_ready(exc)

    def not_ready(problem: DatabaseUnavailable) -> JSONResponse:
        body = {"status": "unavailable", "reason": problem.reason}
        return JSONResponse(body, 503, headers={"Retry-After": str(problem.retry_after)})

    def readiness() -> JSONResponse:
        problem = database.probe_writable()
        if problem is not None:
            return not_ready(problem)
        try:
            schema = migrate.schema_state(engine)
        except Exception as exc:  # any failure to reach the database means "not ready"
            return JSONResponse({"status": "unavailable", "reason": f"database: {type(exc).__name__}"}, 503)
        if schema.status == "behind":
            reason = f"migrations at {schema.revision}, expected {schema.head}"
            return JSONResponse({"status": "unavailable", "reason": reason}, 503)
        body = {"status": "ready", "migration": schema.revision}
        if schema.status == "newer":
            # A newer orderhub migrated it (a rolling upgrade, or this code rolled back): a release's
            # migrations are additive, so this process keeps serving rather than leave the load balancer.
            body["schema"] = f"newer than this version ({schema.head})"
        return JSONResponse(body)

    @router.get("/metrics", summary="Prometheus metrics", response_class=Response)
    async def metrics() -> Response:
        # The inventory gauges are read fresh when the database answers in time; otherwise the
        # metrics go out with the last levels read, so a stuck database does not stop the scraping.
        with contextlib.suppress(DatabaseUnavailable):
            levels = await database.answered_in_time(asyncio.to_thread(inventory.levels))
            for state, count in levels.items():
                ESIM_PROFILES.labels(state).set(count)
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    return router
