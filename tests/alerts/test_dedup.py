"""Tests for AlertService dedup (spec §14.1)."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

from sqlalchemy import func, select
from structlog.testing import capture_logs

from aurorasoc.alerts.service import AlertService, dedup_hash
from aurorasoc.core.models import AlertIOCModel, AlertModel, IOCModel
from aurorasoc.core.vocabulary import AlertCreate


def _alert(**overrides) -> AlertCreate:
    fields = {"title": "SSH brute force", "source": "linux", "severity": "high", "iocs": ["203.0.113.5"]}
    return AlertCreate(**{**fields, **overrides})


async def _count(session, model=AlertModel) -> int:
    return await session.scalar(select(func.count()).select_from(model))


class TestDedup:
    async def test_repeat_increments_occurrences_on_one_row(self, any_db_session):
        service = AlertService(any_db_session)
        first, created = await service.create(_alert())
        again, created_again = await service.create(_alert())
        assert (created, created_again) == (True, False)
        assert again.id == first.id
        assert again.occurrence_count == 2
        assert again.last_seen_at >= again.first_seen_at
        assert await _count(any_db_session) == 1

    async def test_a_new_alert_is_logged_with_its_dedup_hash_and_a_repeat_is_not(self, any_db_session):
        """Spec §10: ``alert_created`` with alert_id, severity, source, dedup_hash."""
        service = AlertService(any_db_session)
        with capture_logs() as logs:
            first, _ = await service.create(_alert())
            await service.create(_alert())
        created = [entry for entry in logs if entry["event"] == "alert_created"]
        assert created == [
            {
                "event": "alert_created",
                "log_level": "info",
                "alert_id": str(first.id),
                "severity": "high",
                "source": "linux",
                "dedup_hash": first.dedup_hash,
            }
        ]

    async def test_ioc_order_case_and_whitespace_do_not_matter(self, any_db_session):
        service = AlertService(any_db_session)
        first, _ = await service.create(_alert(iocs=["Evil.Example.com", "203.0.113.5"]))
        again, created = await service.create(_alert(iocs=[" 203.0.113.5", "evil.example.com"]))
        assert not created and again.id == first.id

    async def test_different_source_is_a_different_alert(self, any_db_session):
        service = AlertService(any_db_session)
        await service.create(_alert())
        _, created = await service.create(_alert(source="windows"))
        assert created

    async def test_resolved_alert_does_not_absorb_repeats(self, any_db_session):
        service = AlertService(any_db_session)
        first, _ = await service.create(_alert())
        first.status = "resolved"
        await any_db_session.flush()
        second, created = await service.create(_alert())
        assert created and second.id != first.id

    async def test_log_ids_merged_and_capped_at_100(self, any_db_session):
        service = AlertService(any_db_session)
        alert, _ = await service.create(_alert(metadata={"log_ids": ["a"]}))
        for batch in range(3):
            await service.create(_alert(metadata={"log_ids": [f"{batch}-{i}" for i in range(50)]}))
        assert len(alert.metadata_["log_ids"]) == 100
        assert alert.metadata_["log_ids"][-1] == "2-49"

    async def test_hash_is_the_documented_formula(self):
        expected = hashlib.sha256(b"t|s|['1.2.3.4', 'a.example']").hexdigest()
        assert dedup_hash("t", "s", ["a.example", "1.2.3.4"]) == expected

    async def test_stored_hash_uses_canonical_iocs(self, any_db_session):
        alert, _ = await AlertService(any_db_session).create(_alert(iocs=["A.Example"]))
        assert alert.dedup_hash == dedup_hash("SSH brute force", "linux", ["a.example"])
        assert alert.iocs == ["a.example"]

    async def test_batch_dedups_within_itself(self, any_db_session):
        results = await AlertService(any_db_session).create_many([_alert(), _alert(), _alert(title="other")])
        assert [created for _, created in results] == [True, False, True]
        assert results[0][0].occurrence_count == 2


class TestIOCLinking:
    async def test_typed_iocs_upserted_and_linked(self, any_db_session):
        service = AlertService(any_db_session)
        alert, _ = await service.create(_alert(iocs=["203.0.113.5", "evil.example.com", "free text"]))
        types = dict((await any_db_session.execute(select(IOCModel.value, IOCModel.type))).all())
        assert types == {"203.0.113.5": "ip", "evil.example.com": "domain"}
        assert await _count(any_db_session, AlertIOCModel) == 2
        assert alert.iocs == ["203.0.113.5", "evil.example.com", "free text"]

    async def test_second_alert_bumps_sightings(self, any_db_session):
        service = AlertService(any_db_session)
        await service.create(_alert())
        await service.create(_alert(title="Other alert, same IP"))
        ioc = (await any_db_session.execute(select(IOCModel))).scalar_one()
        assert ioc.sightings == 2
        assert await _count(any_db_session, AlertIOCModel) == 2

    async def test_batch_counts_a_sighting_per_new_alert(self, any_db_session):
        results = await AlertService(any_db_session).create_many(
            [_alert(), _alert(title="Other alert, same IP"), _alert()]
        )
        assert [created for _, created in results] == [True, True, False]
        ioc = (await any_db_session.execute(select(IOCModel))).scalar_one()
        assert (ioc.sightings, ioc.source) == (2, "linux")
        links = (await any_db_session.execute(select(AlertIOCModel.alert_id))).scalars()
        assert set(links) == {results[0][0].id, results[1][0].id}

    async def test_techniques_canonicalised(self, any_db_session):
        alert, _ = await AlertService(any_db_session).create(
            _alert(mitre_techniques=["t1110.001", "bogus", "T1110.001"])
        )
        assert alert.mitre_techniques == ["T1110.001"]


class TestEventTimeWindow:
    """A detection repeats into one alert within ``AURORA_ALERT_DEDUP_WINDOW_HOURS`` of event time."""

    @staticmethod
    def _seen(at: datetime) -> AlertCreate:
        return _alert(first_seen_at=at, last_seen_at=at, entities={"host.name": "MSEDGEWIN10"})

    async def test_repeats_in_the_window_fold_and_years_later_is_a_new_alert(self, any_db_session):
        service = AlertService(any_db_session)
        first, _ = await service.create(self._seen(datetime(2019, 7, 19, 15, 11, tzinfo=UTC)))
        again, folded = await service.create(self._seen(datetime(2019, 7, 19, 16, 2, tzinfo=UTC)))
        later, created = await service.create(self._seen(datetime(2021, 12, 7, 17, 33, tzinfo=UTC)))
        assert (folded, created) == (False, True) and again.id == first.id != later.id
        assert again.occurrence_count == 2 and later.occurrence_count == 1
        assert later.first_seen_at.year == 2021 and again.last_seen_at.year == 2019

    async def test_zero_keeps_one_alert_while_it_is_open(self, any_db_session, monkeypatch):
        from aurorasoc.core.config import reset_settings

        monkeypatch.setenv("AURORA_ALERT_DEDUP_WINDOW_HOURS", "0")
        reset_settings()
        service = AlertService(any_db_session)
        first, _ = await service.create(self._seen(datetime(2019, 7, 19, 15, 11, tzinfo=UTC)))
        later, created = await service.create(self._seen(datetime(2021, 12, 7, 17, 33, tzinfo=UTC)))
        assert not created and later.id == first.id and later.occurrence_count == 2

    async def test_an_alert_without_event_time_folds_as_documented(self, any_db_session):
        alert, _ = await AlertService(any_db_session).create(_alert(iocs=["a.example"]))
        assert alert.dedup_hash == dedup_hash("SSH brute force", "linux", ["a.example"])


async def test_metrics_count_each_created_and_folded_submission(any_db_session):
    from prometheus_client import REGISTRY

    def value(name: str, **labels: str) -> float:
        return REGISTRY.get_sample_value(name, labels) or 0.0

    created = {"severity": "high", "source": "metrics-test"}
    before = value("alerts_created_total", **created), value("alerts_deduplicated_total")
    items = [_alert(source="metrics-test", title=f"t{i % 3}") for i in range(7)]
    await AlertService(any_db_session).create_many(items)
    after = value("alerts_created_total", **created), value("alerts_deduplicated_total")
    assert (after[0] - before[0], after[1] - before[1]) == (3, 4)
