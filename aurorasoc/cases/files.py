"""Case evidence (spec §10): upload with size and type limits, SHA-256, safe storage, download.

Bytes go to ``<data_dir>/evidence/<case id>/<evidence id>``: the stored name never comes from the
client, so a filename such as ``../../secrets/jwt_secret`` only ever becomes a label. Active
content types (HTML, SVG, JavaScript) are refused, so a download can never run script in the
console's origin; downloads are always attachments.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import re
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from aurorasoc.cases.models import CaseModel
from aurorasoc.cases.models_files import CaseEvidenceModel
from aurorasoc.cases.service import CaseService
from aurorasoc.core.actor import Actor
from aurorasoc.core.config import get_settings
from aurorasoc.core.data_files import ensure_private_dir
from aurorasoc.core.errors import DomainError, InvalidInput, NotFound

MAX_EVIDENCE_BYTES = 50 * 1024 * 1024
CHUNK = 1024 * 1024
EVIDENCE_KINDS = ("log", "flow", "scan", "forensic", "attachment")
ALLOWED_TYPES = frozenset(
    {
        "text/plain",
        "text/csv",
        "application/json",
        "application/x-ndjson",
        "application/xml",
        "text/xml",
        "application/pdf",
        "application/zip",
        "application/gzip",
        "application/x-gzip",
        "application/x-tar",
        "application/x-7z-compressed",
        "application/octet-stream",
        "application/vnd.tcpdump.pcap",
        "application/x-pcapng",
        "image/png",
        "image/jpeg",
        "image/gif",
        "message/rfc822",
    }
)
_UNSAFE_NAME = re.compile(r"[\x00-\x1f\x7f/\\:]+")


class EvidenceTooLarge(DomainError):
    status_code = 413
    code = "evidence_too_large"


class EvidenceTypeRefused(DomainError):
    status_code = 415
    code = "evidence_type_refused"


@dataclass(frozen=True)
class EvidenceFile:
    record: CaseEvidenceModel
    path: Path


def clean_filename(raw: str | None) -> str:
    """A display label: the last path component, control characters and separators removed."""
    base = re.split(r"[/\\]", raw or "")[-1]
    name = _UNSAFE_NAME.sub("_", base).strip(" .")
    return name[:200] or "evidence.bin"


def _evidence_root() -> Path:
    return get_settings().data_dir / "evidence"


class CaseEvidenceService:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session
        self.cases = CaseService(session)

    async def add(
        self,
        target: CaseModel,
        stream: BinaryIO,
        filename: str | None,
        content_type: str | None,
        *,
        kind: str,
        actor: str,
    ) -> CaseEvidenceModel:
        """Store the upload (≤ 50 MB, allowed type), record it and put it on the case timeline."""
        if kind not in EVIDENCE_KINDS:
            raise InvalidInput(f"kind must be one of: {', '.join(EVIDENCE_KINDS)}", code="invalid_kind")
        media = (content_type or "application/octet-stream").split(";")[0].strip().lower()
        if media not in ALLOWED_TYPES:
            raise EvidenceTypeRefused(
                f"content type '{media}' is not accepted as evidence", content_type=media
            )
        evidence_id = uuid.uuid4()
        folder = ensure_private_dir(_evidence_root() / str(target.id))
        path = folder / evidence_id.hex
        digest, size = await asyncio.to_thread(_copy_limited, stream, path)  # up to 50 MB of disk I/O
        record = CaseEvidenceModel(
            id=evidence_id,
            case_id=target.id,
            filename=clean_filename(filename),
            content_type=media,
            size=size,
            sha256=digest,
            storage_path=str(path.relative_to(get_settings().data_dir)),
            kind=kind,
            added_by=actor,
        )
        self.session.add(record)
        details = {"evidence_id": str(evidence_id), "sha256": digest, "size": size, "kind": kind}
        await self.cases.record_evidence(target, record.filename, details, actor)
        return record

    async def attach(
        self,
        case_id: uuid.UUID,
        stream: BinaryIO,
        filename: str | None,
        content_type: str | None,
        *,
        kind: str,
        actor: Actor,
    ) -> CaseEvidenceModel:
        """:meth:`add` to case ``case_id`` by ``actor``, audited with the file's SHA-256, committed."""
        record = await self.add(await self.cases.get(case_id), stream, filename, content_type,
                                kind=kind, actor=actor.username)  # fmt: skip
        details = {"evidence_id": str(record.id), "filename": record.filename, "sha256": record.sha256,
                   "size": record.size}  # fmt: skip
        await actor.audit(self.session, "case.evidence_add", ("case", str(case_id)), details)
        await self.session.commit()
        return record

    async def download(self, case_id: uuid.UUID, evidence_id: uuid.UUID, *, actor: Actor) -> EvidenceFile:
        """:meth:`open`, with the download audited (and committed) before the file is served."""
        found = await self.open(case_id, evidence_id)
        details = {"evidence_id": str(found.record.id), "sha256": found.record.sha256}
        await actor.audit(self.session, "case.evidence_download", ("case", str(case_id)), details)
        await self.session.commit()
        return found

    async def list(self, case_id: uuid.UUID) -> list[CaseEvidenceModel]:
        rows = await self.session.execute(
            select(CaseEvidenceModel)
            .where(CaseEvidenceModel.case_id == case_id)
            .order_by(CaseEvidenceModel.created_at)
        )
        return list(rows.scalars().all())

    async def open(self, case_id: uuid.UUID, evidence_id: uuid.UUID) -> EvidenceFile:
        """The record and its file, which must lie inside the evidence folder."""
        record = await self.session.get(CaseEvidenceModel, evidence_id)
        if record is None or record.case_id != case_id:
            raise NotFound(f"evidence {evidence_id} is not in case {case_id}")
        root = _evidence_root().resolve()
        path = (get_settings().data_dir / record.storage_path).resolve()
        if not path.is_relative_to(root) or not path.is_file():
            raise NotFound(f"the file of evidence {evidence_id} is missing", code="evidence_file_missing")
        return EvidenceFile(record=record, path=path)


def _copy_limited(stream: BinaryIO, path: Path) -> tuple[str, int]:
    """Copy in chunks, hashing as we go; stop and delete at the size limit."""
    digest = hashlib.sha256()
    size = 0
    fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
    try:
        with os.fdopen(fd, "wb") as out:
            while chunk := stream.read(CHUNK):
                size += len(chunk)
                if size > MAX_EVIDENCE_BYTES:
                    raise EvidenceTooLarge(
                        f"evidence is limited to {MAX_EVIDENCE_BYTES // (1024 * 1024)} MB",
                        limit=MAX_EVIDENCE_BYTES,
                    )
                digest.update(chunk)
                out.write(chunk)
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    if size == 0:
        path.unlink(missing_ok=True)
        raise InvalidInput("the uploaded file is empty", code="empty_evidence")
    return digest.hexdigest(), size
