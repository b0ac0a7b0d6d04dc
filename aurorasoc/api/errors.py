"""Exception → HTTP mapping, so every error body is ``{"detail": str | {"code", "message", …}}``."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from aurorasoc.core.db import (
    DATABASE_ERRORS,
    DatabaseBusy,
    DatabaseUnavailable,
    describe_error,
    is_sqlite_busy,
    probe_database,
)
from aurorasoc.core.errors import DomainError

log = logging.getLogger(__name__)

DATABASE_UNAVAILABLE = {
    "code": "database_unavailable",
    "message": "The database is not reachable; live data is unavailable.",
}


def database_unavailable_response() -> JSONResponse:
    return JSONResponse(status_code=503, content={"detail": DATABASE_UNAVAILABLE})


DATABASE_BUSY = {
    "code": "database_busy",
    "message": "The database is busy with other writes; retry shortly.",
}


def database_busy_response() -> JSONResponse:
    headers = {"Retry-After": str(DatabaseBusy.retry_after_seconds)}
    return JSONResponse(status_code=503, content={"detail": DATABASE_BUSY}, headers=headers)


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(DomainError)
    async def _domain(_request: Request, exc: DomainError) -> JSONResponse:
        return JSONResponse(status_code=exc.status_code, content={"detail": exc.detail()})

    @app.exception_handler(DatabaseUnavailable)
    async def _db_down(_request: Request, _exc: DatabaseUnavailable) -> JSONResponse:
        return database_unavailable_response()

    @app.exception_handler(DatabaseBusy)
    async def _db_busy(_request: Request, _exc: DatabaseBusy) -> JSONResponse:
        return database_busy_response()

    async def _db_error(_request: Request, exc: Exception) -> JSONResponse:
        """The first failed query re-probes at once (and caches the answer), so an outage is a 503
        from its first request on, and ``/health/ready`` and the data-source choice follow.
        SQLite's writer held too long by another process is a 503 to retry, never a 500."""
        if is_sqlite_busy(exc):
            return database_busy_response()
        if not await probe_database(force=True):
            log.warning("database error, and the database does not answer: %s", describe_error(exc))
            return database_unavailable_response()
        log.error("unhandled error", exc_info=exc)
        return JSONResponse(status_code=500, content={"detail": "Internal server error"})

    for error in DATABASE_ERRORS:
        app.add_exception_handler(error, _db_error)
