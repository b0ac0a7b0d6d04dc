"""Rule packs (issue #16): list, install/update from a URL, roll back, and set a pack's policy."""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Annotated

from fastapi import Depends, Path, Request
from pydantic import BaseModel, ConfigDict, Field

from aurorasoc.core.actor import Actor
from aurorasoc.core.auth import Principal, require_permission
from aurorasoc.core.config import get_settings
from aurorasoc.core.errors import InvalidInput
from aurorasoc.core.web.deps import DbSession, client_ip, require_database, require_mutations
from aurorasoc.core.web.routing import IndexedRouter
from aurorasoc.detection.packs import DEFAULT_PACK, PackReport, RulePackService
from aurorasoc.detection.packs_archive import ArchiveRefused, open_archive

router = IndexedRouter(prefix="/detections/packs", tags=["detections"])
WritePacks = Depends(require_permission("detections:write"))
ReadPacks = Depends(require_permission("siem:read"))
PackName = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$")]
SHOWN_FAILURES = 200


class PackOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    name: str
    version: int
    source: str
    sha256: str
    license: str | None
    attribution: str | None
    statuses: list[str]
    min_level: str
    rule_count: int
    compiled: int
    failures: list[list[str]]
    installed_by: str | None
    created_at: datetime
    updated_at: datetime


class PackUpdate(BaseModel):
    source: str | None = Field(
        None, max_length=2000, description="http(s) URL; default AURORA_RULE_PACK_SOURCE"
    )
    sha256: str | None = Field(None, pattern=r"^[0-9a-fA-F]{64}$")
    name: str = Field(DEFAULT_PACK, min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$")


class PackPolicy(BaseModel):
    statuses: list[str] = Field(min_length=1, max_length=5)
    min_level: str


class PackReportOut(BaseModel):
    name: str
    version: int
    rules: int
    compiled: int
    compile_ratio: float
    added: int
    updated: int
    removed: int
    failures: list[tuple[str, str]]
    skipped: list[tuple[str, str]]

    @classmethod
    def of(cls, report: PackReport) -> PackReportOut:
        return cls(
            name=report.name,
            version=report.version,
            rules=report.rules,
            compiled=report.compiled,
            compile_ratio=round(report.compile_ratio, 4),
            added=report.added,
            updated=report.updated,
            removed=report.removed,
            failures=report.failures[:SHOWN_FAILURES],
            skipped=report.skipped[:SHOWN_FAILURES],
        )


def _service(session: DbSession, request: Request, principal: Principal) -> RulePackService:
    return RulePackService(session, actor=Actor.of(principal, client_ip(request)))


@router.get(
    "",
    response_model=list[PackOut],
    summary="Installed rule packs with version, licence and policy. Permission: siem:read",
    dependencies=[ReadPacks, Depends(require_database)],
)
async def list_packs(session: DbSession) -> list[PackOut]:
    return [PackOut.model_validate(row) for row in await RulePackService(session).current()]


@router.post(
    "/update",
    response_model=PackReportOut,
    summary="Fetch a Sigma archive (zip/tar) and install it as the pack's next version. "
    "Permission: detections:write",
    dependencies=[Depends(require_mutations)],
)
async def update_pack(
    body: PackUpdate, request: Request, session: DbSession, principal: Principal = WritePacks
) -> PackReportOut:
    source = body.source or get_settings().detection.rule_pack_source
    if not source.startswith(("http://", "https://")):
        raise InvalidInput(
            "source must be an http(s) URL (local archives: `aurorasoc rules update --source`)"
        )
    try:
        archive = await asyncio.to_thread(open_archive, source, sha256=body.sha256, timeout=60.0)
    except ArchiveRefused as exc:
        raise InvalidInput(f"archive refused, nothing imported: {exc}", code="archive_refused") from None
    except OSError as exc:
        raise InvalidInput(f"cannot fetch the archive: {exc}", code="archive_unreachable") from None
    report = await _service(session, request, principal).install(archive, name=body.name)
    return PackReportOut.of(report)


@router.post(
    "/{name}/rollback",
    response_model=PackReportOut,
    summary="Put the pack's previous version back. Permission: detections:write",
    dependencies=[Depends(require_mutations)],
)
async def rollback_pack(
    name: PackName, request: Request, session: DbSession, principal: Principal = WritePacks
) -> PackReportOut:
    report = await _service(session, request, principal).rollback(name)
    return PackReportOut.of(report)


@router.put(
    "/{name}/policy",
    response_model=PackOut,
    summary="Which of the pack's rules run: statuses and minimum level. Permission: detections:write",
    dependencies=[Depends(require_mutations)],
)
async def set_policy(
    name: PackName, body: PackPolicy, request: Request, session: DbSession, principal: Principal = WritePacks
) -> PackOut:
    service = _service(session, request, principal)
    row = await service.set_policy(
        name, statuses=[s.lower() for s in body.statuses], min_level=body.min_level.lower()
    )
    return PackOut.model_validate(row)
