"""Routes for case evidence (spec §10): multipart upload, list and download.

Upload needs ``cases:write`` (and a mode that allows mutations); list and download need
``cases:read``. Every upload and download is audited with the file's SHA-256.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

from fastapi import Depends, File, Form, Path, Request, UploadFile, status
from fastapi.responses import FileResponse
from pydantic import BaseModel, ConfigDict

from aurorasoc.cases.files import CaseEvidenceService
from aurorasoc.cases.service import CaseService
from aurorasoc.core.actor import Actor
from aurorasoc.core.auth import Principal, require_permission
from aurorasoc.core.web.deps import DbSession, client_ip, require_database, require_mutations
from aurorasoc.core.web.routing import IndexedRouter

router = IndexedRouter(prefix="/cases", tags=["cases"])

ReadCases = require_permission("cases:read")
WriteCases = require_permission("cases:write")
CaseId = Annotated[uuid.UUID, Path(description="Case id")]
EvidenceId = Annotated[uuid.UUID, Path(description="Evidence id")]
EvidenceKind = Literal["log", "flow", "scan", "forensic", "attachment"]


class EvidenceOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    case_id: uuid.UUID
    filename: str
    content_type: str
    size: int
    sha256: str
    kind: str
    added_by: str
    created_at: datetime


@router.post(
    "/{case_id}/evidence",
    status_code=status.HTTP_201_CREATED,
    response_model=EvidenceOut,
    summary="Attach an evidence file (multipart, ≤ 50 MB, SHA-256 recorded). Permission: cases:write",
    responses={
        400: {"description": "Empty file"},
        404: {"description": "No such case"},
        413: {"description": "File larger than 50 MB"},
        415: {"description": "Content type not accepted as evidence"},
    },
    dependencies=[Depends(require_mutations)],
)
async def upload_evidence(
    case_id: CaseId,
    request: Request,
    session: DbSession,
    file: Annotated[UploadFile, File(description="The evidence file")],
    kind: Annotated[EvidenceKind, Form()] = "attachment",
    principal: Principal = Depends(WriteCases),
) -> EvidenceOut:
    record = await CaseEvidenceService(session).attach(
        case_id, file.file, file.filename, file.content_type, kind=kind,
        actor=Actor.of(principal, client_ip(request)),
    )  # fmt: skip
    return EvidenceOut.model_validate(record)


@router.get(
    "/{case_id}/evidence",
    response_model=list[EvidenceOut],
    summary="Evidence files of a case (metadata). Permission: cases:read",
    responses={404: {"description": "No such case"}},
    dependencies=[Depends(ReadCases), Depends(require_database)],
)
async def list_evidence(case_id: CaseId, session: DbSession) -> list[EvidenceOut]:
    await CaseService(session).get(case_id)
    return [EvidenceOut.model_validate(r) for r in await CaseEvidenceService(session).list(case_id)]


@router.get(
    "/{case_id}/evidence/{evidence_id}",
    response_class=FileResponse,
    summary="Download an evidence file (always as an attachment). Permission: cases:read",
    responses={200: {"content": {"application/octet-stream": {}}}, 404: {"description": "No such evidence"}},
    dependencies=[Depends(require_database)],
)
async def download_evidence(
    case_id: CaseId,
    evidence_id: EvidenceId,
    request: Request,
    session: DbSession,
    principal: Principal = Depends(ReadCases),
) -> FileResponse:
    actor = Actor.of(principal, client_ip(request))
    found = await CaseEvidenceService(session).download(case_id, evidence_id, actor=actor)
    record = found.record
    response = FileResponse(
        found.path,
        media_type=record.content_type,
        filename=record.filename,
        content_disposition_type="attachment",
    )
    response.headers["Content-Security-Policy"] = "sandbox; default-src 'none'"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["X-Evidence-SHA256"] = record.sha256
    response.headers["Cache-Control"] = "no-store"
    return response
