"""Network services own their unit of work: an operator's attack case is audited, committed, announced."""

from __future__ import annotations

from typing import Any

import pytest
from soar_support import make_alert
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from aurorasoc.core.actor import Actor
from aurorasoc.core.errors import Conflict
from aurorasoc.core.models import AuditLogModel, CaseModel
from aurorasoc.network.attacks import NetworkAttackService
from aurorasoc.network.models import NetworkAttackModel, SiteModel
from aurorasoc.network.sites import SiteService

ANALYST = Actor("analyst", "user", "198.51.100.80")


async def _audit(session: AsyncSession) -> list[tuple[str, str | None, str, dict[str, Any]]]:
    rows = await session.scalars(select(AuditLogModel).order_by(AuditLogModel.timestamp))
    return [(r.actor, r.ip, r.action, r.details) for r in rows]


async def test_attack_case_is_audited_committed_and_refused_twice(any_db_session: AsyncSession) -> None:
    alert = await make_alert(any_db_session, iocs=["192.0.2.90"])
    attack = NetworkAttackModel(title="C2 beaconing", category="command_and_control", severity="high",
                                confidence=0.8, src_ip="10.0.0.5", dst_ip="192.0.2.90",
                                telemetry_families=["ids", "dns"], alert_ids=[str(alert.id)],
                                mitre_techniques=["T1071"])  # fmt: skip
    any_db_session.add(attack)
    await any_db_session.commit()
    service = NetworkAttackService(any_db_session)
    case = await service.open_attack_case(attack.id, actor=ANALYST)
    assert not any_db_session.in_transaction()
    assert (case.source, attack.case_id, alert.case_id) == ("network_attack", case.id, case.id)
    assert await _audit(any_db_session) == [
        ("analyst", "198.51.100.80", "case.create",
         {"network_attack_id": str(attack.id), "alert_ids": [str(alert.id)]}),
    ]  # fmt: skip
    with pytest.raises(Conflict) as again:
        await service.open_attack_case(attack.id, actor=ANALYST)
    assert again.value.code == "attack_in_case"
    await any_db_session.rollback()
    assert int(await any_db_session.scalar(select(func.count()).select_from(CaseModel)) or 0) == 1
    assert len(await _audit(any_db_session)) == 1


async def test_topology_commits_the_local_site_row(any_db_session: AsyncSession) -> None:
    found = await SiteService(any_db_session).topology()
    assert not any_db_session.in_transaction()
    stored = (await any_db_session.scalars(select(SiteModel.site_id))).all()
    assert list(stored) == [found.local_site_id]
