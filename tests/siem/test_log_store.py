"""Tests for aurorasoc.siem.log_store: the batch INSERT stores what the ORM reads back unchanged."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from sqlalchemy import select

from aurorasoc.core.models import SiemLogModel
from aurorasoc.core.vocabulary import NormalizedEvent, Severity
from aurorasoc.siem.log_store import ROWS_PER_STATEMENT, fingerprint, not_stored, store_unseen

WHEN = datetime(2024, 5, 1, 12, 30, 15, 123456, tzinfo=UTC)


def _event(n: int, **values: object) -> NormalizedEvent:
    return NormalizedEvent.model_validate(
        {"source": "dc1.evtx", "format": "evtx", "raw": f"<record {n}>", "timestamp": WHEN, **values}
    )


class TestStoreUnseen:
    async def test_every_column_reads_back_as_given(self, any_db_session):
        huge = 2**70  # beyond 64 bits: orjson refuses it, the stdlib encoder takes over
        event = _event(
            1,
            host="DC1",
            user_name="CORP\\alice",
            src_ip="10.0.0.5",
            src_port=4444,
            severity=Severity.HIGH,
            message="Process Create: ü",
            time_source="record",
            fields={"Channel": "Security", "EventID": 4688, "Big": huge, "List": [1, "two"]},
            entities={"host.name": "DC1", "process.executable": "C:\\x.exe", "process.parent.pid": 4},
        )
        fresh, ids = await store_unseen(any_db_session, [event])
        await any_db_session.commit()
        assert fresh == [event]
        row = (await any_db_session.scalars(select(SiemLogModel).where(SiemLogModel.id == ids[0]))).one()
        assert (row.timestamp, row.host, row.user_name, row.src_ip, row.src_port) == (
            WHEN,
            "DC1",
            "CORP\\alice",
            "10.0.0.5",
            4444,
        )
        assert (row.severity, row.message, row.channel, row.fingerprint) == (
            "high",
            "Process Create: ü",
            "Security",
            fingerprint(event),
        )
        assert row.fields == {"Channel": "Security", "EventID": 4688, "Big": huge, "List": [1, "two"]}
        assert row.entities == event.entities
        assert row.process_executable == "C:\\x.exe"
        assert row.received_at.tzinfo is not None and row.created_at.tzinfo is not None

    async def test_a_stored_record_is_skipped_and_reported_unseen_only_once(self, any_db_session):
        first = [_event(n) for n in range(3)]
        fresh, ids = await store_unseen(any_db_session, first)
        await any_db_session.commit()
        assert len(fresh) == len(set(ids)) == 3
        again = [_event(n, id=str(uuid.uuid4())) for n in range(5)]  # same records, new ids
        kept, prints = await not_stored(any_db_session, again)
        assert kept == again[3:] and prints == [fingerprint(e) for e in again[3:]]
        fresh, ids = await store_unseen(any_db_session, again)  # the database skips the known ones too
        await any_db_session.commit()
        assert fresh == again[3:] and ids == [uuid.UUID(e.id) for e in again[3:]]
        total = len((await any_db_session.scalars(select(SiemLogModel.id))).all())
        assert total == 5

    async def test_a_batch_larger_than_one_statement_is_stored_whole(self, any_db_session):
        events = [_event(n) for n in range(ROWS_PER_STATEMENT + 3)]
        fresh, ids = await store_unseen(any_db_session, events)
        await any_db_session.commit()
        assert fresh == events and len(set(ids)) == len(events)
        assert len((await any_db_session.scalars(select(SiemLogModel.id))).all()) == len(events)
