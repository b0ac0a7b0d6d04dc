"""Tests for aurorasoc.core.models (the guide's database examples, plus both-backend checks)."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime, timezone

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from aurorasoc.core.models import (
    AlertIOCModel,
    AlertModel,
    CaseModel,
    IOCModel,
    TimelineEntryModel,
    UserModel,
)
from aurorasoc.core.models import Base as AllTables

# In a fresh interpreter: the tables registered once the session module is imported, and the tables their
# foreign keys name (a flush resolves each foreign key by table name: a missing one raises).
_REGISTRY_PROBE = """
import sys, importlib
importlib.import_module(sys.argv[1])
from aurorasoc.core.models_base import Base
tables = Base.metadata.tables
print(sorted(tables))
print(sorted({fk.column.table.name for t in tables.values() for fk in t.foreign_keys}))
"""


async def test_create_alert(db_session):
    """AlertModel persists and retrieves correctly."""
    # Arrange
    alert = AlertModel(
        title="Suspicious SSH brute force",
        severity="high",
        status="new",
        source="network",
        description="Multiple failed SSH attempts from 10.0.0.5",
        iocs=["10.0.0.5"],
        mitre_techniques=["T1110.001"],
        created_at=datetime.now(timezone.utc),  # noqa: UP017 - verbatim from the guide
    )
    # Act
    db_session.add(alert)
    await db_session.commit()
    # Assert
    result = await db_session.execute(
        select(AlertModel).where(AlertModel.title == "Suspicious SSH brute force")
    )
    fetched = result.scalar_one()
    assert fetched.id is not None  # UUID was auto-generated
    assert fetched.severity == "high"
    assert "10.0.0.5" in fetched.iocs
    assert fetched.mitre_techniques == ["T1110.001"]


async def test_case_with_timeline(db_session):
    """Case timeline entries maintain parent relationship."""
    # Create parent
    case = CaseModel(
        title="Investigation: SSH brute force",
        status="open",
        severity="high",
        assigned_to="analyst-1",
        created_at=datetime.now(timezone.utc),  # noqa: UP017
    )
    db_session.add(case)
    await db_session.flush()  # Get case.id without committing
    # Create child
    entry = TimelineEntryModel(
        case_id=case.id,
        action="case_created",
        actor="system",
        details="Auto-created from alert correlation",
        timestamp=datetime.now(timezone.utc),  # noqa: UP017
    )
    db_session.add(entry)
    await db_session.commit()
    # Verify relationship
    result = await db_session.execute(select(TimelineEntryModel).where(TimelineEntryModel.case_id == case.id))
    fetched = result.scalar_one()
    assert fetched.action == "case_created"
    assert fetched.case_id == case.id


async def test_query_critical_alerts(populated_db):
    """populated_db provides 12 alerts (3 per severity)."""
    result = await populated_db.execute(select(AlertModel).where(AlertModel.severity == "critical"))
    alerts = result.scalars().all()
    assert len(alerts) == 3


class TestPopulatedDb:
    async def test_has_exactly_twelve_alerts_three_per_severity(self, populated_db):
        rows = await populated_db.execute(
            select(AlertModel.severity, func.count()).group_by(AlertModel.severity)
        )
        assert dict(rows.all()) == {"critical": 3, "high": 3, "medium": 3, "low": 3}

    async def test_has_no_other_rows(self, populated_db):
        assert await populated_db.scalar(select(func.count()).select_from(CaseModel)) == 0


class TestIsolation:
    """Each test's writes are rolled back: these two run in either order."""

    async def test_write_one(self, db_session):
        db_session.add(AlertModel(title="isolation probe", severity="low", source="t"))
        await db_session.commit()
        assert await db_session.scalar(select(func.count()).select_from(AlertModel)) == 1

    async def test_write_two(self, db_session):
        db_session.add(AlertModel(title="isolation probe", severity="low", source="t"))
        await db_session.commit()
        assert await db_session.scalar(select(func.count()).select_from(AlertModel)) == 1


class TestPersistenceOnBothBackends:
    async def test_json_lists_and_defaults_round_trip(self, any_db_session):
        alert = AlertModel(title="x", severity="medium", source="s", iocs=["1.2.3.4", "evil.example"])
        any_db_session.add(alert)
        await any_db_session.commit()
        alert_id = alert.id
        any_db_session.expire_all()
        fetched = await any_db_session.get(AlertModel, alert_id)
        assert fetched.iocs == ["1.2.3.4", "evil.example"]
        assert fetched.status == "new"
        assert fetched.occurrence_count == 1
        assert fetched.metadata_ == {}

    async def test_timestamps_come_back_tz_aware_utc(self, any_db_session):
        naive = datetime(2026, 1, 2, 3, 4, 5)
        alert = AlertModel(title="t", severity="low", source="s", created_at=naive)
        any_db_session.add(alert)
        await any_db_session.commit()
        alert_id = alert.id
        any_db_session.expire_all()
        fetched = await any_db_session.get(AlertModel, alert_id)
        assert fetched.created_at == naive.replace(tzinfo=UTC)
        assert fetched.created_at.tzinfo is not None

    async def test_ioc_type_value_is_unique(self, any_db_session):
        any_db_session.add(IOCModel(type="ip", value="10.0.0.5"))
        await any_db_session.commit()
        any_db_session.add(IOCModel(type="ip", value="10.0.0.5"))
        with pytest.raises(IntegrityError):
            await any_db_session.flush()

    async def test_username_is_unique(self, any_db_session):
        any_db_session.add(UserModel(username="alice", role="analyst"))
        await any_db_session.flush()
        any_db_session.add(UserModel(username="alice", role="viewer"))
        with pytest.raises(IntegrityError):
            await any_db_session.flush()

    async def test_deleting_case_cascades_timeline_and_unlinks_alerts(self, any_db_session):
        case = CaseModel(title="c", severity="high")
        any_db_session.add(case)
        await any_db_session.flush()
        alert = AlertModel(title="a", severity="high", source="s", case_id=case.id)
        any_db_session.add_all([alert, TimelineEntryModel(case_id=case.id, action="comment", actor="u")])
        await any_db_session.commit()
        alert_id = alert.id
        await any_db_session.delete(case)
        await any_db_session.commit()
        any_db_session.expire_all()
        assert await any_db_session.scalar(select(func.count()).select_from(TimelineEntryModel)) == 0
        assert (await any_db_session.get(AlertModel, alert_id)).case_id is None

    async def test_alert_ioc_link_requires_existing_rows(self, any_db_session):
        import uuid

        any_db_session.add(AlertIOCModel(alert_id=uuid.uuid4(), ioc_id=uuid.uuid4()))
        with pytest.raises(IntegrityError):
            await any_db_session.flush()


@pytest.mark.parametrize("entry_point", ["aurorasoc.api.main", "aurorasoc.cli.common"])
def test_every_table_is_registered_wherever_a_session_can_be_opened(entry_point):
    """Models live in their capability packages (core imports none); each entry point registers them all."""
    probe = subprocess.run(
        [sys.executable, "-c", _REGISTRY_PROBE, entry_point], capture_output=True, text=True, timeout=60
    )
    assert probe.returncode == 0, probe.stderr  # NoReferencedTableError: a foreign key names a missing table
    registered, referenced = probe.stdout.splitlines()
    assert registered == str(sorted(AllTables.metadata.tables))
    assert referenced == str(
        sorted({fk.column.table.name for t in AllTables.metadata.tables.values() for fk in t.foreign_keys})
    )
