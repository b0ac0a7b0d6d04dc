"""Tests for aurorasoc.detection.rules: import/upsert, filters, CRUD and the engine from rows."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select

from aurorasoc.core.errors import Conflict, InvalidInput
from aurorasoc.core.models import DetectionRuleModel
from aurorasoc.detection.rules import (
    BUNDLED_RULES,
    DetectionRuleService,
    RuleFilters,
    load_engine,
    record_hits,
    rules_version,
)
from aurorasoc.siem.normalize import normalize_record

BRUTE = "6b1b0e2c-9d1f-4f55-9d0c-5f0a3c1e0001"


def rule_yaml(uid: str = BRUTE, title: str = "Failed logon", event_id: int = 4625) -> str:
    return (
        f"title: {title}\nid: {uid}\nlevel: medium\ntags: [attack.t1110]\n"
        "logsource: {product: windows, service: security}\n"
        f"detection: {{sel: {{EventID: {event_id}}}, condition: sel}}\n"
    )


PLACEHOLDER_RULE = rule_yaml("6b1b0e2c-9d1f-4f55-9d0c-5f0a3c1e0002", "Admins").replace(
    "{EventID: 4625}", "{TargetUserName|expand: '%Admins%'}"
)
CORRELATION_PAIR = (
    rule_yaml()
    + "name: failed_logon\n---\n"
    + "title: Many failed logons\nid: 6b1b0e2c-9d1f-4f55-9d0c-5f0a3c1e0003\n"
    + "correlation: {type: event_count, rules: [failed_logon], group-by: [TargetUserName], "
    + "timespan: 5m, condition: {gte: 10}}\n"
)


def bundled_documents() -> int:
    """Rules plus correlations in the bundled pack (a file may hold a rule and its correlation)."""
    return sum(p.read_text().count("\n---\n") + 1 for p in BUNDLED_RULES.glob("*.yml"))


def logon_failure(user: str = "bob") -> object:
    record = {"EventID": 4625, "Channel": "Security", "TargetUserName": user}
    return normalize_record(record, format="json", source="test", raw="{}")


@pytest.fixture
def rule_dir(tmp_path: Path) -> Path:
    (tmp_path / "a.yml").write_text(rule_yaml())
    (tmp_path / "b.yml").write_text(PLACEHOLDER_RULE)
    (tmp_path / "broken.yml").write_text("title: [unclosed\n")
    return tmp_path


async def _row(session, uid: str) -> DetectionRuleModel:
    return (await session.scalars(select(DetectionRuleModel).where(DetectionRuleModel.rule_uid == uid))).one()


class TestImport:
    async def test_bundled_import_is_idempotent(self, any_db_session):
        service = DetectionRuleService(any_db_session)
        first = await service.import_paths([BUNDLED_RULES], origin="bundled", actor="system")
        version = await rules_version(any_db_session)
        again = await service.import_paths([BUNDLED_RULES], origin="bundled", actor="system")
        docs = bundled_documents()
        assert (first.imported, first.errors) == (docs, [])
        assert (again.imported, again.updated, again.unchanged) == (0, 0, docs)
        assert await rules_version(any_db_session) == version == (docs, version[1])

    async def test_reimport_updates_yaml_but_keeps_enabled_and_hits(self, any_db_session, rule_dir):
        service = DetectionRuleService(any_db_session)
        first = await service.import_paths([rule_dir], origin="custom", actor="cli")
        assert (first.imported, first.unsupported, len(first.errors)) == (2, 1, 1)
        assert "invalid YAML" in first.errors[0][1]
        row = await _row(any_db_session, BRUTE)
        row.enabled = False
        await any_db_session.flush()
        await record_hits(any_db_session, {BRUTE: 3}, datetime(2026, 1, 2, tzinfo=UTC))
        before = await rules_version(any_db_session)

        (rule_dir / "a.yml").write_text(rule_yaml(title="Failed logon, renamed"))
        again = await service.import_paths([rule_dir], origin="custom", actor="cli")
        await any_db_session.refresh(row)
        assert (again.imported, again.updated, again.unchanged) == (0, 1, 1)
        assert (row.title, row.enabled, row.hit_count) == ("Failed logon, renamed", False, 3)
        assert row.last_hit_at == datetime(2026, 1, 2, tzinfo=UTC)
        assert await rules_version(any_db_session) != before

    async def test_other_origin_with_same_id_is_skipped(self, any_db_session, tmp_path):
        shutil.copy(BUNDLED_RULES / "win_security_log_cleared.yml", tmp_path / "mine.yml")
        service = DetectionRuleService(any_db_session)
        await service.import_paths([tmp_path], origin="custom", actor="cli")
        report = await service.import_paths([BUNDLED_RULES], origin="bundled", actor="system")
        assert len(report.skipped) == 1 and "custom rule already has this id" in report.skipped[0][1]
        origins = await any_db_session.scalars(select(DetectionRuleModel.origin).distinct())
        assert sorted(origins) == ["bundled", "custom"]

    async def test_hits_do_not_move_the_reload_version(self, any_db_session, rule_dir):
        await DetectionRuleService(any_db_session).import_paths([rule_dir], origin="custom", actor="cli")
        before = await rules_version(any_db_session)
        await record_hits(any_db_session, {BRUTE: 2}, datetime.now(UTC))
        assert await rules_version(any_db_session) == before
        assert (await _row(any_db_session, BRUTE)).hit_count == 2


class TestList:
    @pytest.fixture
    async def service(self, db_session) -> DetectionRuleService:
        service = DetectionRuleService(db_session)
        await service.import_paths([BUNDLED_RULES], origin="bundled", actor="system")
        await service.create(PLACEHOLDER_RULE, actor="alice", enabled=False)
        return service

    async def _uids(self, service: DetectionRuleService, **filters: object) -> set[str]:
        rows, total = await service.list(RuleFilters(**filters), skip=0, limit=200)  # type: ignore[arg-type]
        assert total == len(rows)
        return {row.rule_uid for row in rows}

    async def test_filters_match_the_stored_metadata(self, service):
        rows, total = await service.list(RuleFilters(), skip=0, limit=200)
        assert total == len(rows) == bundled_documents() + 1
        linux = {r.rule_uid for r in rows if r.logsource_product == "linux"}
        assert linux and await self._uids(service, product="Linux") == linux
        high = {r.rule_uid for r in rows if r.level == "high"}
        assert high and await self._uids(service, level="high") == high
        tagged = {r.rule_uid for r in rows if "attack.t1003.001" in r.tags}
        assert tagged and await self._uids(service, tag="ATTACK.T1003.001") == tagged
        assert await self._uids(service, tag="attack.t1003") == {
            r.rule_uid for r in rows if "attack.t1003" in r.tags
        }
        assert await self._uids(service, enabled=False) == {"6b1b0e2c-9d1f-4f55-9d0c-5f0a3c1e0002"}

    async def test_q_searches_titles_and_exact_ids(self, service):
        assert await self._uids(service, q="ADMINS") == {"6b1b0e2c-9d1f-4f55-9d0c-5f0a3c1e0002"}
        assert await self._uids(service, q="6b1b0e2c-9d1f-4f55-9d0c-5f0a3c1e0002") == {
            "6b1b0e2c-9d1f-4f55-9d0c-5f0a3c1e0002"
        }
        assert await self._uids(service, q="100%_") == set()

    async def test_paging(self, service):
        page, total = await service.list(RuleFilters(), skip=5, limit=3)
        everything, _ = await service.list(RuleFilters(), skip=0, limit=200)
        assert [r.id for r in page] == [r.id for r in everything[5:8]] and total == len(everything)


class TestMutations:
    async def test_unsupported_rule_is_stored_with_its_reason(self, db_session):
        [row] = await DetectionRuleService(db_session).create(PLACEHOLDER_RULE, actor="alice")
        assert (row.supported, row.origin, row.created_by) == (False, "custom", "alice")
        assert "placeholder %Admins%" in row.unsupported_reason

    @pytest.mark.parametrize(
        ("text", "reason"),
        [
            ("title: [x\n", "invalid YAML"),
            ("- a\n- b\n", "not a Sigma rule"),
            ("title: x\n", "must have a log source"),
        ],
    )
    async def test_invalid_yaml_is_rejected_with_the_reason(self, db_session, text, reason):
        with pytest.raises(InvalidInput, match=reason):
            await DetectionRuleService(db_session).create(text, actor="alice")
        assert await db_session.scalar(select(func.count()).select_from(DetectionRuleModel)) == 0

    async def test_duplicate_id_conflicts(self, db_session):
        service = DetectionRuleService(db_session)
        await service.create(rule_yaml(), actor="alice")
        with pytest.raises(Conflict, match=BRUTE):
            await service.create(rule_yaml(title="Other"), actor="alice")

    async def test_rule_and_correlation_pair_become_two_rows(self, db_session):
        rows = await DetectionRuleService(db_session).create(CORRELATION_PAIR, actor="alice")
        kinds = {row.rule_uid: row.kind for row in rows}
        assert kinds == {BRUTE: "rule", "6b1b0e2c-9d1f-4f55-9d0c-5f0a3c1e0003": "correlation"}
        correlation = next(row for row in rows if row.kind == "correlation")
        assert "failed_logon" in correlation.yaml and "correlation:" in correlation.yaml

    async def test_yaml_replacement_must_keep_the_id_and_detaches_bundled(self, db_session):
        service = DetectionRuleService(db_session)
        await service.import_paths(
            [BUNDLED_RULES / "win_security_log_cleared.yml"], origin="bundled", actor="s"
        )
        row = (await service.list(RuleFilters(), skip=0, limit=1))[0][0]
        with pytest.raises(InvalidInput, match=row.rule_uid):
            await service.update(row, text=rule_yaml())
        edited = row.yaml.replace(row.title, "Edited title")
        await service.update(row, text=edited, enabled=False)
        assert (row.title, row.origin, row.enabled) == ("Edited title", "custom", False)
        report = await service.import_paths([BUNDLED_RULES], origin="bundled", actor="system")
        assert [uid for uid, _ in report.skipped] == [row.rule_uid] and row.title == "Edited title"

    async def test_bundled_rules_cannot_be_deleted_custom_can(self, db_session):
        service = DetectionRuleService(db_session)
        await service.import_paths(
            [BUNDLED_RULES / "win_security_log_cleared.yml"], origin="bundled", actor="s"
        )
        [custom] = await service.create(rule_yaml(), actor="alice")
        bundled = (await service.list(RuleFilters(q="cleared"), skip=0, limit=1))[0][0]
        with pytest.raises(Conflict, match="disable it instead"):
            await service.delete(bundled)
        await service.delete(custom)
        assert await service.get(bundled.rule_uid) is bundled
        assert await service.get(str(bundled.id)) is bundled
        assert await db_session.scalar(select(func.count()).select_from(DetectionRuleModel)) == 1


class TestEngine:
    async def test_engine_holds_enabled_supported_rules_only(self, any_db_session):
        service = DetectionRuleService(any_db_session)
        await service.import_paths([BUNDLED_RULES], origin="bundled", actor="system")
        [brute] = await service.create(rule_yaml(), actor="alice")
        [other] = await service.create(rule_yaml("6b1b0e2c-9d1f-4f55-9d0c-5f0a3c1e0009", "x"), actor="a")
        await service.create(PLACEHOLDER_RULE, actor="alice")
        await service.update(other, enabled=False)
        engine = await load_engine(any_db_session)
        enabled = await any_db_session.scalar(
            select(func.count()).where(DetectionRuleModel.enabled, DetectionRuleModel.supported)
        )
        assert set(engine.rules) >= {brute.rule_uid} and len(engine.rules) == enabled
        assert other.rule_uid not in engine.rules and not engine.report.unsupported
        assert [hit.rule.id for hit in engine.evaluate(logon_failure())] == [brute.rule_uid]
