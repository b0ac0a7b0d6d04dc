"""SIEM log -> case promotion (spec §13.6): a ``siem_promotion`` case with the log as evidence."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from aurorasoc.cases.models import CaseModel, TimelineEntryModel
from aurorasoc.cases.schemas import CaseOut
from aurorasoc.cases.service import TITLE_MAX, CaseService
from aurorasoc.core.actor import Actor
from aurorasoc.core.vocabulary import CaseSource
from aurorasoc.siem.models import SiemLogModel


async def promote_log(
    session: AsyncSession,
    log: SiemLogModel,
    actor: Actor,
    *,
    rule_id: str | None = None,
    title: str | None = None,
    severity: str | None = None,
) -> CaseModel:
    """Open a ``siem_promotion`` case with the log on its timeline as evidence; audited as
    ``case.create`` by ``actor`` and committed."""
    summary = (log.message or log.raw or f"{log.source} event").strip().splitlines()[0]
    created = await CaseService(session).create(
        title=title or f"SIEM: {summary}"[:TITLE_MAX],
        severity=severity or log.severity,
        actor=actor.username,
        description=log.message,
        source=CaseSource.SIEM_PROMOTION,
        details=f"Promoted from SIEM log {log.id}",
    )
    assets = [f"host:{log.host}" if log.host else "", f"user:{log.user_name}" if log.user_name else ""]
    created.affected_assets = [asset for asset in assets if asset]
    created.metadata_ = {"siem_log_ids": [str(log.id)], **({"rule_id": rule_id} if rule_id else {})}
    evidence = {
        "log_id": str(log.id),
        "timestamp": log.timestamp.isoformat(),
        "source": log.source,
        "host": log.host,
        "message": log.message,
        "rule_id": rule_id,
    }
    session.add(
        TimelineEntryModel(
            case_id=created.id,
            action="evidence_added",
            actor=actor.username,
            details=f"SIEM log {log.id}",
            data=evidence,
        )
    )
    await session.flush()
    snapshot = CaseOut.model_validate(created).audit_snapshot()
    details = {"after": snapshot, "log_id": str(log.id), "rule_id": rule_id}
    await actor.audit(session, "case.create", ("case", str(created.id)), details)
    await session.commit()
    return created
