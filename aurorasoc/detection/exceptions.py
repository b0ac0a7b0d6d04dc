"""Rule exceptions (issue #16 scope 2): create, "suppress similar" from an alert, list, delete - all audited.

The engine applies them (``SigmaEngine.add_exceptions``); a new or deleted exception changes
``rules_version``, so detection workers rebuild their engine within the reload interval.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from aurorasoc.alerts.models import AlertModel
from aurorasoc.core.actor import Actor
from aurorasoc.core.errors import InvalidInput, NotFound
from aurorasoc.detection.models import DetectionRuleModel, RuleExceptionModel
from aurorasoc.detection.sigma.exceptions import RuleExceptionSpec
from aurorasoc.detection.sigma.rules import compile_yaml
from aurorasoc.siem.models import SiemLogModel

Row = RuleExceptionModel
MAX_CONDITIONS = 20


def _scalar(value: Any) -> bool:
    return isinstance(value, str | int | float | bool) and len(str(value)) <= 4096


class RuleExceptionService:
    """Each change is one unit of work: validation, the row, the audit entry naming ``actor``, commit."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def list(self, rule_uid: str | None = None) -> list[Row]:
        query = select(Row).order_by(Row.created_at.desc())
        if rule_uid:
            query = query.where(Row.rule_uid == rule_uid)
        return list((await self.session.scalars(query)).all())

    async def create(
        self,
        *,
        rule_uid: str,
        conditions: dict[str, Any],
        reason: str,
        host: str | None = None,
        expires_at: datetime | None = None,
        source_alert_id: str | None = None,
        actor: Actor,
    ) -> Row:
        """Validate and store one exception (404 for an unknown rule, 400 for an empty or expired one);
        audited and committed."""
        if not await self.session.scalar(
            select(DetectionRuleModel.id).where(DetectionRuleModel.rule_uid == rule_uid)
        ):
            raise NotFound(f"detection rule {rule_uid} does not exist")
        if not conditions and not host:
            raise InvalidInput("an exception needs at least one field condition or a host")
        if len(conditions) > MAX_CONDITIONS or not all(_scalar(v) for v in conditions.values()):
            raise InvalidInput(f"at most {MAX_CONDITIONS} conditions, each a field name and a plain value")
        if not reason.strip():
            raise InvalidInput("say why (reason)")
        if expires_at is not None and expires_at <= datetime.now(UTC):
            raise InvalidInput("expires_at must be in the future")
        row = Row(
            rule_uid=rule_uid,
            conditions=dict(conditions),
            host=host,
            owner=actor.username,
            reason=reason.strip(),
            expires_at=expires_at,
            source_alert_id=source_alert_id,
            created_by=actor.username,
        )
        self.session.add(row)
        await self.session.flush()
        await _audit(actor, self.session, "rule_exception.create", row)
        await self.session.commit()
        return row

    async def from_alert(
        self, alert_id: uuid.UUID, *, reason: str, expires_at: datetime | None = None, actor: Actor
    ) -> Row:
        """Suppress similar: the alert's rule, its event's values in the fields the rule reads, its host."""
        alert = await self.session.get(AlertModel, alert_id)
        if alert is None:
            raise NotFound(f"alert {alert_id} does not exist")
        rule_uid = (alert.metadata_ or {}).get("rule_uid")
        log_ids = (alert.metadata_ or {}).get("log_ids") or []
        if not rule_uid or not log_ids:
            raise InvalidInput("only alerts raised by a Sigma rule on a stored event can be suppressed")
        rule = await self.session.scalar(
            select(DetectionRuleModel).where(DetectionRuleModel.rule_uid == rule_uid)
        )
        log = await self.session.get(SiemLogModel, uuid.UUID(str(log_ids[0])))
        if rule is None or log is None:
            raise InvalidInput("the alert's rule or event is no longer stored")
        compiled = next((r for r in compile_yaml(rule.yaml, "tuning") if r.id == rule_uid), None)
        if compiled is None or compiled.correlation is not None:
            raise InvalidInput("correlation alerts cannot be suppressed by event values")
        by_lower = {key.lower(): key for key in log.fields}
        conditions = {
            name: log.fields[by_lower[name.lower()]]
            for name in sorted(compiled.fields)
            if name.lower() in by_lower and _scalar(log.fields[by_lower[name.lower()]])
        }
        return await self.create(
            rule_uid=rule_uid,
            conditions=conditions,
            reason=reason,
            host=log.host,
            expires_at=expires_at,
            source_alert_id=str(alert_id),
            actor=actor,
        )

    async def delete(self, ident: uuid.UUID, *, actor: Actor) -> None:
        """Remove an exception (the rule fires again), audited and committed."""
        row = await self.session.get(Row, ident)
        if row is None:
            raise NotFound(f"rule exception {ident} does not exist")
        await _audit(actor, self.session, "rule_exception.delete", row)
        await self.session.delete(row)
        await self.session.commit()


async def _audit(actor: Actor, session: AsyncSession, action: str, row: Row) -> None:
    details = {
        "rule_uid": row.rule_uid,
        "conditions": row.conditions,
        "host": row.host,
        "owner": row.owner,
        "reason": row.reason,
        "expires_at": row.expires_at,
        "source_alert_id": row.source_alert_id,
    }
    await actor.audit(session, action, ("rule_exception", str(row.id)), details)


async def active_exceptions(session: AsyncSession) -> list[RuleExceptionSpec]:
    """The exceptions not yet expired, ready for ``SigmaEngine.add_exceptions``."""
    now = datetime.now(UTC)
    rows = await session.scalars(select(Row).where(or_(Row.expires_at.is_(None), Row.expires_at > now)))
    return [
        RuleExceptionSpec.of(str(row.id), row.rule_uid, row.conditions, row.host, row.expires_at)
        for row in rows.all()
    ]


async def exceptions_version(session: AsyncSession) -> tuple[int, datetime | None]:
    count, latest = (await session.execute(select(func.count(), func.max(Row.updated_at)))).one()
    return int(count), latest
