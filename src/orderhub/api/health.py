"""Liveness and readiness probes."""

from __future__ import annotations

import sqlalchemy as sa
from fastapi import APIRouter
from fastapi.responses import JSONResponse

from orderhub.store import migrate


def health_router(engine: sa.Engine) -> APIRouter:
    router = APIRouter(tags=["health"])

    @router.get("/healthz", summary="The process is alive")
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @router.get("/readyz", summary="The database is reachable and fully migrated")
    def readyz() -> JSONResponse:
        try:
            current = migrate.current_revision(engine)
        except Exception as exc:  # any failure to reach the database means "not ready"
            return JSONResponse({"status": "unavailable", "reason": f"database: {type(exc).__name__}"}, 503)
        head = migrate.head_revision()
        if current != head:
            return JSONResponse({"status": "unavailable", "reason": f"migrations at {current}, expected {head}"}, 503)
        return JSONResponse({"status": "ready", "migration": current})

    return router
