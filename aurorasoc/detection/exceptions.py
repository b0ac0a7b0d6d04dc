"""Rule exceptions (issue #16 scope 2): create, list, delete - all audited ("suppress similar" from an
alert reads the alert and its event, so it is ``siem.suppress``).

The engine applies them (``SigmaEngine.add_exceptions``); a new or deleted exception changes
``rules_version``, so detection workers rebuild their engine within the reload interval.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from aurorasoc.core.actor import Actor
from aurorasoc.core.errors import InvalidInput, NotFound
from aurorasoc.detection.models import DetectionRuleModel, RuleExceptionModel
from aurorasoc.detection.sigma.exceptions import RuleExceptionSpec

Row = RuleExceptionModel
MAX_CONDITIONS = 20


def plain_value(value: Any) -> bool:
    """A value an exception can compare: a scalar of at most 4 KiB."""
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
        if len(conditions) > MAX_CONDITIONS or not all(plain_value(v) for v in conditions.values()):
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
