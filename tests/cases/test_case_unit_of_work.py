"""Case services own their unit of work: the change, the audit row naming the actor, commit, then events.

Each test calls the method the API routes call and checks the rows, the audit entries, that nothing
is left uncommitted, what is announced after the commit, and that a refused change writes nothing.
``preview=True`` writes nothing and lists the same effects as the real change.
"""

from __future__ import annotations

import io
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
from soar_support import make_alert
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from aurorasoc.alerts.events import ALERTS_STREAM
from aurorasoc.cases import workflow
from aurorasoc.cases.files import CaseEvidenceService
from aurorasoc.cases.workflow import CaseWorkflow
from aurorasoc.core.actor import Actor
from aurorasoc.core.bus.base import BusMessage
from aurorasoc.core.bus.current import set_bus
from aurorasoc.core.bus.inprocess import InProcessBus
from aurorasoc.core.errors import Conflict, InvalidInput, PermissionDenied
from aurorasoc.core.models import AllowListEntryModel, AuditLogModel, CaseModel, TimelineEntryModel
from aurorasoc.core.rbac import ROLE_PERMISSIONS
from aurorasoc.core.vocabulary import Role
from aurorasoc.intel.observables import ObservableService

ANALYST = Actor("analyst", "user", "198.51.100.60")
LEAD = Actor("lead", "user", "198.51.100.61")


@pytest.fixture
async def announced() -> AsyncIterator[tuple[InProcessBus, list[dict[str, Any]]]]:
    """``aurora:alerts`` messages published from here on (``make_alert`` runs before the fixture)."""
    bus, received = InProcessBus(max_deliveries=1, backoff_base=0), []

    async def listen(message: BusMessage) -> None:
        received.append(message.data)

    bus.subscribe(ALERTS_STREAM, "uow-cases", listen)
    await bus.start()
    set_bus(bus)
    yield bus, received
    await bus.close()
    set_bus(None)


@pytest.fixture
def remembered(monkeypatch: pytest.MonkeyPatch) -> list[uuid.UUID]:
    """Cases handed to episodic memory (the real store opens its own database session)."""
    seen: list[uuid.UUID] = []

    async def remember(session: AsyncSession, case: CaseModel) -> bool:
        assert not session.in_transaction()  # only once the closing commit is done
        seen.append(case.id)
        return True

    monkeypatch.setattr(workflow, "remember_closed_case", remember)
    return seen


async def _audit(session: AsyncSession) -> list[tuple[str, str | None, str, str | None, dict[str, Any]]]:
    rows = await session.scalars(select(AuditLogModel).order_by(AuditLogModel.timestamp))
    return [(r.actor, r.ip, r.action, r.resource_id, r.details) for r in rows]


async def _count(session: AsyncSession, model: type) -> int:
    return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def _delivered(announced: tuple[InProcessBus, list[dict[str, Any]]]) -> list[tuple[str, str]]:
    bus, received = announced
    await bus.join(ALERTS_STREAM, "uow-cases")
    return [(m["event"], m["id"]) for m in received]


class TestLifecycle:
    async def test_open_change_close_are_audited_committed_and_remembered(
        self, any_db_session: AsyncSession, announced: Any, remembered: list[uuid.UUID]
    ) -> None:
        alert = await make_alert(any_db_session)
        flow = CaseWorkflow(any_db_session)
        case = await flow.open(title="Beaconing", severity="low", alert_ids=[alert.id], actor=ANALYST)
        assert not any_db_session.in_transaction() and case.severity == "high"  # raised by the alert
        assert await _delivered(announced) == [("updated", str(alert.id))]
        await flow.change(case.id, {"status": "in_progress", "assigned_to": "ana"}, actor=ANALYST)
        await flow.comment(case.id, "looked at the proxy logs", actor=ANALYST)
        closed = await flow.close(case.id, "benign scanner", actor=LEAD)
        assert not any_db_session.in_transaction() and closed.status == "closed"
        assert remembered == [case.id]
        audit = await _audit(any_db_session)
        assert [(a[0], a[2]) for a in audit] == [
            ("analyst", "case.create"), ("analyst", "case.update"), ("analyst", "case.update"),
            ("lead", "case.close"),
        ]  # fmt: skip
        assert audit[0][4] == {
            "after": {"title": "Beaconing", "severity": "high", "status": "open", "assigned_to": None,
                      "source": "manual"},
            "alert_ids": [str(alert.id)],
        }  # fmt: skip
        assert audit[1][4]["after"] == {"status": "in_progress", "assigned_to": "ana"}

    async def test_refused_changes_write_nothing(self, any_db_session: AsyncSession) -> None:
        flow = CaseWorkflow(any_db_session, permissions=ROLE_PERMISSIONS[Role.VIEWER] | {"cases:write"})
        with pytest.raises(InvalidInput):
            await flow.open(title="  ", severity="high", actor=ANALYST)
        assert await _count(any_db_session, CaseModel) == 0
        case = await flow.open(title="Phish", severity="medium", actor=ANALYST)
        with pytest.raises(PermissionDenied, match="cases:close"):
            await flow.change(case.id, {"status": "closed"}, actor=ANALYST)
        await any_db_session.rollback()
        await flow.change(case.id, {"status": "in_progress"}, actor=ANALYST)
        with pytest.raises(Conflict) as illegal:
            await flow.change(case.id, {"status": "open", "title": "Phish 2"}, actor=ANALYST)
        assert illegal.value.code == "invalid_transition"
        await any_db_session.rollback()
        found = await flow.cases.get(case.id)
        assert (found.status, found.title) == ("in_progress", "Phish")
        assert [a[2] for a in await _audit(any_db_session)] == ["case.create", "case.update"]
        timeline = await any_db_session.scalars(select(TimelineEntryModel.action))
        assert sorted(timeline) == ["case_created", "status_changed"]


class TestAlertMoves:
    async def test_promote_preview_matches_and_writes_nothing(
        self, any_db_session: AsyncSession, announced: Any
    ) -> None:
        alert = await make_alert(any_db_session, title="Mimikatz")
        flow = CaseWorkflow(any_db_session)
        preview = await flow.promote_alert(alert.id, actor=ANALYST, preview=True)
        assert preview.case is None and await _count(any_db_session, CaseModel) == 0
        assert await _audit(any_db_session) == []
        real = await flow.promote_alert(alert.id, actor=ANALYST)
        assert not any_db_session.in_transaction() and real.case is not None
        assert real.effects == preview.effects
        assert (real.case.status, real.case.title, alert.status) == ("in_progress", "Mimikatz", "escalated")
        assert await _audit(any_db_session) == [
            ("analyst", "198.51.100.60", "alert.promote", str(alert.id),
             {"before": {"status": "new", "case_id": None},
              "after": {"status": "escalated", "case_id": str(real.case.id)}}),
        ]  # fmt: skip
        assert await _delivered(announced) == [("updated", str(alert.id))]
        with pytest.raises(Conflict) as again:
            await flow.promote_alert(alert.id, actor=ANALYST, preview=True)
        assert again.value.code == "alert_in_case"

    async def test_link_and_detach_are_audited_committed_and_announced(
        self, any_db_session: AsyncSession, announced: Any
    ) -> None:
        alert = await make_alert(any_db_session)
        flow = CaseWorkflow(any_db_session)
        case = await flow.open(title="Lateral movement", severity="high", actor=ANALYST)
        preview = await flow.link_alert(alert.id, case.id, actor=ANALYST, preview=True)
        assert preview.case is None and alert.case_id is None
        linked = await flow.link_alert(alert.id, case.id, actor=ANALYST)
        assert not any_db_session.in_transaction() and linked.effects == preview.effects
        assert alert.case_id == case.id
        await flow.link_alert(alert.id, case.id, actor=LEAD)  # already there: nothing recorded
        await flow.detach_alert(case.id, alert.id, actor=LEAD)
        assert not any_db_session.in_transaction() and alert.case_id is None
        assert [(a[0], a[2], a[4].get("after")) for a in (await _audit(any_db_session))[1:]] == [
            ("analyst", "alert.link", {"case_id": str(case.id)}),
            ("lead", "alert.link", {"case_id": None}),
        ]
        assert await _delivered(announced) == [("updated", str(alert.id))] * 2


class TestEvidence:
    async def test_attach_and_download_are_audited_with_the_hash(self, any_db_session: AsyncSession) -> None:
        case = await CaseWorkflow(any_db_session).open(title="Forensics", severity="high", actor=ANALYST)
        files = CaseEvidenceService(any_db_session)
        with pytest.raises(InvalidInput):
            await files.attach(case.id, io.BytesIO(b"x"), "a.txt", "text/plain", kind="photo", actor=ANALYST)
        await any_db_session.rollback()
        pcap = "application/vnd.tcpdump.pcap"
        record = await files.attach(
            case.id, io.BytesIO(b"pcap bytes"), "c2.pcap", pcap, kind="flow", actor=ANALYST
        )
        assert not any_db_session.in_transaction()
        found = await files.download(case.id, record.id, actor=LEAD)
        assert found.path.read_bytes() == b"pcap bytes"
        assert [(a[0], a[2], a[4]["sha256"]) for a in (await _audit(any_db_session))[1:]] == [
            ("analyst", "case.evidence_add", record.sha256),
            ("lead", "case.evidence_download", record.sha256),
        ]

    async def test_observable_promotion_and_allow_list(self, any_db_session: AsyncSession) -> None:
        observables = ObservableService(any_db_session)
        ioc = await observables.make_indicator("evil-c2.example.net", actor=ANALYST)
        assert not any_db_session.in_transaction() and ioc.source == "analyst"
        entry = await observables.add_allow("host", "build-01", reason="CI runner", actor=ANALYST)
        assert not any_db_session.in_transaction() and entry.created_by == "analyst"
        entry_id = str(entry.id)
        with pytest.raises(Conflict):
            await observables.add_allow("host", "build-01", actor=LEAD)
        await any_db_session.rollback()
        assert await _count(any_db_session, AllowListEntryModel) == 1
        audit = await _audit(any_db_session)
        assert [(a[0], a[2]) for a in audit] == [
            ("analyst", "observable.promote"),
            ("analyst", "allowlist.create"),
        ]
        assert audit[1][4]["after"]["value"] == "build-01" and audit[1][4]["after"]["id"] == entry_id
