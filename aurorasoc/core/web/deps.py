"""Request dependencies: sessions, pagination, runtime-mode guards and data-source selection."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Annotated, Literal

from fastapi import Depends, Query, Request
from sqlalchemy.ext.asyncio import AsyncSession

from aurorasoc.core import runtime
from aurorasoc.core.auth import Principal, get_principal
from aurorasoc.core.db import DatabaseUnavailable, get_session_factory, probe_database
from aurorasoc.core.vocabulary import RuntimeMode

MAX_PAGE_SIZE = 200


async def get_session() -> AsyncIterator[AsyncSession]:
    """One session per request. Routes commit explicitly after a successful change."""
    async with get_session_factory()() as session:
        try:
            yield session
        except BaseException:
            await session.rollback()
            raise


DbSession = Annotated[AsyncSession, Depends(get_session)]
CurrentPrincipal = Annotated[Principal, Depends(get_principal)]


@dataclass(frozen=True)
class Pagination:
    skip: int
    limit: int


def pagination(
    skip: int = Query(0, ge=0, le=1_000_000, description="Rows to skip"),
    limit: int = Query(50, ge=1, le=MAX_PAGE_SIZE, description="Page size (max 200)"),
) -> Pagination:
    return Pagination(skip=skip, limit=limit)


Paging = Annotated[Pagination, Depends(pagination)]


async def require_database() -> None:
    """503 ``database_unavailable`` when the database does not answer."""
    if not await probe_database():
        raise DatabaseUnavailable()


ReadSource = Literal["database", "showcase"]


async def read_source() -> ReadSource:
    """Where a read is served from: the database, showcase data (dummy + DB down), else 503."""
    if await probe_database():
        return "database"
    if runtime.current_mode() is RuntimeMode.DUMMY:
        return "showcase"
    raise DatabaseUnavailable()


DataSourceDep = Annotated[ReadSource, Depends(read_source)]


async def require_pipeline_writes() -> None:
    """Pipeline writes (ingest, POST /alerts, …): blocked in dummy; need the database."""
    runtime.assert_write_allowed("pipeline")
    await require_database()


async def require_mutations() -> None:
    """Operator writes: only in real mode (409 ``mode_blocks_mutation`` otherwise)."""
    runtime.assert_write_allowed("operator")
    await require_database()


@dataclass(frozen=True)
class OperatorWrite:
    preview: bool

    @property
    def mode(self) -> str:
        return runtime.current_mode().value


async def operator_write_or_preview(
    preview: bool = Query(False, description="Describe the effects without changing anything (any mode)"),
) -> OperatorWrite:
    """For endpoints marked "pv": ``?preview=true`` is allowed in every mode, writes only in real."""
    if not preview:
        runtime.assert_write_allowed("operator")
    await require_database()
    return OperatorWrite(preview=preview)


OperatorOrPreview = Annotated[OperatorWrite, Depends(operator_write_or_preview)]


async def pipeline_write_or_preview(
    preview: bool = Query(False, description="Describe the effects without changing anything (any mode)"),
) -> OperatorWrite:
    """Like ``operator_write_or_preview`` for pipeline writes: real runs are blocked only in dummy."""
    if not preview:
        runtime.assert_write_allowed("pipeline")
    await require_database()
    return OperatorWrite(preview=preview)


PipelineOrPreview = Annotated[OperatorWrite, Depends(pipeline_write_or_preview)]


def client_ip(request: Request) -> str | None:
    return request.client.host if request.client else None
