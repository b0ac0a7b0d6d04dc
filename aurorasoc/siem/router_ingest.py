"""HTTP log ingestion (spec §10, §13.1): raw log data in, events queued on ``aurora:logs``.

The body is the log data itself (NDJSON, a JSON array or object, text lines, syslog, CEF, EVE or
EVTX bytes, gzip-compressed or not), read up to ``AURORA_INGEST_MAX_BODY_MB``; the same limit bounds it
after decompression, and a bomb is refused with 413 and nothing queued. Parsing happens here so the
caller learns at once which records were rejected and where; detection runs on the
``detection-engine`` consumer.
With ``?wait=true`` the events are stored (and detected on) before the answer, so they are searchable
when it arrives; otherwise the body says they are queued (spec §28).
The ``?source=`` log source is created on first use (kind ``http``) and its counters kept current.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from fastapi import Depends, Query, Request, Response, status
from pydantic import BaseModel, Field

from aurorasoc.core.auth import Principal, require_permission
from aurorasoc.core.bus.current import get_bus
from aurorasoc.core.config import get_settings
from aurorasoc.core.errors import DomainError, InvalidInput
from aurorasoc.core.web.deps import DbSession, require_pipeline_writes
from aurorasoc.core.web.routing import IndexedRouter
from aurorasoc.siem.log_stream import (
    PipelineFactory,
    enqueue_bytes,
    store_bytes,
    stored_rules_pipeline_factory,
)
from aurorasoc.siem.parsers import InputLimits
from aurorasoc.siem.parsers.detect import canonical_format
from aurorasoc.siem.sources import record_ingest

router = IndexedRouter(prefix="/siem", tags=["siem"])
_RAW_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            media: {"schema": {"type": "string", "format": "binary"}}
            for media in (
                "application/x-ndjson",
                "application/json",
                "text/plain",
                "application/octet-stream",
            )
        },
    }
}


class PayloadTooLarge(DomainError):
    status_code = 413
    code = "payload_too_large"


class IngestError(BaseModel):
    position: str
    message: str


class IngestResult(BaseModel):
    accepted: int
    rejected: int
    errors: list[IngestError]
    searchable: bool = Field(
        description="True: the accepted events are stored and searchable now (wait=true). False: they are "
        "queued and become searchable once the detection-engine consumer has stored them"
    )
    searchable_when: str = Field(description="When the accepted events can be found by SIEM search")


_QUEUED = (
    "queued on aurora:logs: searchable once the detection-engine consumer stores them, normally within "
    "seconds; send wait=true to answer only after they are stored"
)
_STORED = "now: the events are stored"


async def _read_body(request: Request, limit: int) -> bytes:
    """The body, refused with 413 as soon as it is known to exceed ``limit`` bytes."""
    too_large = PayloadTooLarge(
        f"request body exceeds the ingest limit of {limit // (1024 * 1024)} MiB (AURORA_INGEST_MAX_BODY_MB)",
        limit_bytes=limit,
    )
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise too_large
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise too_large
    return bytes(body)


@router.post(
    "/ingest",
    response_model=IngestResult,
    status_code=status.HTTP_202_ACCEPTED,
    responses={200: {"model": IngestResult, "description": "wait=true: stored and searchable"}},
    summary="Ingest raw log data; events are queued for detection. Permission: siem:write",
    description="Body: NDJSON, JSON array/object, text lines, syslog, CEF, Suricata EVE or EVTX bytes. "
    "Returns the events accepted, the records rejected and up to 20 errors with their positions, and "
    "when the events are searchable: 202 = queued for the detection consumer; with wait=true the events "
    "are stored before the answer (200). A record the store refuses is rejected alone, with its reason.",
    dependencies=[Depends(require_pipeline_writes)],
    openapi_extra=_RAW_BODY,
)
async def ingest_logs(
    request: Request,
    response: Response,
    session: DbSession,
    format: str = Query(
        "auto", description="auto, json/ndjson, syslog, cef, eve, zeek, evtx, auditd, weblog, w3c/iis or line"
    ),
    source: str = Query("http", min_length=1, max_length=128, description="Log-source name"),
    wait: bool = Query(False, description="Store the events before answering (200, searchable at once)"),
    _: Principal = Depends(require_permission("siem:write")),
) -> IngestResult:
    try:
        fmt = canonical_format(format)
    except ValueError as exc:
        raise InvalidInput(str(exc)) from None
    limit = get_settings().detection.ingest_max_body_mb * 1024 * 1024
    body = await _read_body(request, limit)
    limits = replace(InputLimits.from_settings(), max_decompressed_bytes=limit)
    try:
        if wait:
            result = await store_bytes(body, _stored_pipeline(request), fmt=fmt, source=source, limits=limits)
        else:
            result = await enqueue_bytes(get_bus(), body, fmt=fmt, source=source, limits=limits)
    except RecursionError:  # the whole body is parsed before anything is queued: nothing was sent
        raise InvalidInput(
            "the body nests JSON too deeply to parse; nothing was ingested", code="nested_too_deep"
        ) from None
    if result.refused is not None:
        raise PayloadTooLarge(f"input refused: {result.refused}", limit_bytes=limit)
    await record_ingest(
        session,
        source,
        kind="http",
        format=fmt,
        events=result.accepted,
        parse_errors=result.rejected,
        last_event_at=datetime.now(UTC) if result.accepted else None,
    )
    if wait:
        response.status_code = status.HTTP_200_OK
    return IngestResult(
        accepted=result.accepted,
        rejected=result.rejected,
        errors=[IngestError(position=e.position, message=e.message) for e in result.errors],
        searchable=wait,
        searchable_when=_STORED if wait else _QUEUED,
    )


def _stored_pipeline(request: Request) -> PipelineFactory:
    """One rule engine per application for ``wait=true`` requests (reloaded when the rules change)."""
    state = request.app.state
    if getattr(state, "ingest_pipelines", None) is None:
        state.ingest_pipelines = stored_rules_pipeline_factory()
    factory: PipelineFactory = state.ingest_pipelines
    return factory
