"""Intel services own their unit of work: the IOC or feed change, the audit row naming the actor, commit.

Each test calls the method the API and the CLI share and checks the row, the audit entry, that
nothing is left uncommitted, and that a refused change writes nothing.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from aurorasoc.core import runtime
from aurorasoc.core.actor import Actor
from aurorasoc.core.errors import Conflict, DomainError, InvalidInput
from aurorasoc.core.models import AuditLogModel, IntelFeedModel, IOCModel
from aurorasoc.intel.feeds import FeedRefused, FeedSpec, IntelFeedService
from aurorasoc.intel.service import IOCService

ANALYST = Actor("analyst", "user", "198.51.100.50")
CLI = Actor("cli", "system")


async def _audit(session: AsyncSession) -> list[tuple[str, str, str | None, str, dict[str, Any]]]:
    rows = await session.scalars(select(AuditLogModel).order_by(AuditLogModel.timestamp))
    return [(r.actor, r.actor_type, r.ip, r.action, r.details) for r in rows]


async def _count(session: AsyncSession, model: type) -> int:
    return int(await session.scalar(select(func.count()).select_from(model)) or 0)


class TestIOCs:
    async def test_record_and_change_are_audited_and_committed(self, any_db_session: AsyncSession) -> None:
        service = IOCService(any_db_session)
        ioc, created = await service.record("Evil.Example.COM", None, source="manual", confidence=0.6,
                                            fields={"tags": ["c2"]}, actor=ANALYST)  # fmt: skip
        assert not any_db_session.in_transaction() and created and ioc.value == "evil.example.com"
        again, created_again = await service.record(
            "evil.example.com", "domain", source="manual", confidence=0.4, fields={}, actor=CLI
        )
        assert again.id == ioc.id and not created_again and again.sightings == 2
        changed = await service.change(ioc.id, {"status": "false_positive"}, actor=ANALYST)
        assert not any_db_session.in_transaction() and changed.status == "false_positive"
        assert await _audit(any_db_session) == [
            ("analyst", "user", "198.51.100.50", "ioc.upsert",
             {"type": "domain", "value": "evil.example.com", "created": True, "tags": ["c2"]}),
            ("cli", "system", None, "ioc.upsert",
             {"type": "domain", "value": "evil.example.com", "created": False}),
            ("analyst", "user", "198.51.100.50", "ioc.update",
             {"before": {"status": "active"}, "after": {"status": "false_positive"}}),
        ]  # fmt: skip

    async def test_invalid_input_writes_nothing(self, any_db_session: AsyncSession) -> None:
        service = IOCService(any_db_session)
        with pytest.raises(InvalidInput):
            await service.record("not-an-ip", "ip", source="manual", confidence=0.5, fields={}, actor=ANALYST)
        assert await _count(any_db_session, IOCModel) == 0
        ioc, _ = await service.record("192.0.2.70", None, source="manual", confidence=0.5,
                                      fields={"tlp": "red"}, actor=ANALYST)  # fmt: skip
        with pytest.raises(InvalidInput):
            await service.change(ioc.id, {}, actor=ANALYST)
        assert [a[3] for a in await _audit(any_db_session)] == ["ioc.upsert"]

    async def test_share_is_refused_before_anything_is_audited(self, any_db_session: AsyncSession) -> None:
        service = IOCService(any_db_session)
        red, _ = await service.record("192.0.2.71", None, source="manual", confidence=0.5,
                                      fields={"tlp": "red"}, actor=ANALYST)  # fmt: skip
        amber, _ = await service.record("192.0.2.72", None, source="manual", confidence=0.5,
                                        fields={}, actor=ANALYST)  # fmt: skip
        with pytest.raises(DomainError):  # sharing leaves the site: real mode only
            await service.share(amber.id, actor=ANALYST)
        runtime.set_mode("real")
        try:
            with pytest.raises(InvalidInput) as tlp_red:
                await service.share(red.id, actor=ANALYST)
            with pytest.raises(Conflict) as no_nats:
                await service.share(amber.id, actor=ANALYST)
        finally:
            runtime.reset_mode()
        assert (tlp_red.value.code, no_nats.value.code) == ("tlp_red", "sharing_unavailable")
        assert [a[3] for a in await _audit(any_db_session)] == ["ioc.upsert", "ioc.upsert"]


class TestFeeds:
    async def test_subscribe_refresh_unsubscribe(self, any_db_session: AsyncSession, tmp_path: Path) -> None:
        listing = tmp_path / "blocklist.txt"
        listing.write_text("# blocklist\n192.0.2.77\nbad.example.net\n")
        service = IntelFeedService(any_db_session)
        spec = FeedSpec("uow-list", "text", str(listing), tlp="green")
        feed = await service.subscribe(spec, actor=CLI, import_now=True, allow_files=True)
        assert not any_db_session.in_transaction()
        assert (feed.last_status, feed.indicator_count) == ("ok", 2)
        listing.write_text("<html>rate limited</html>")
        with pytest.raises(FeedRefused):
            await service.refresh_now(feed.id, actor=ANALYST)
        assert not any_db_session.in_transaction()  # the refusal is kept on the feed
        assert feed.last_status == "error" and "HTML" in (feed.last_error or "")
        listing.write_text("192.0.2.77\n")
        assert (await service.refresh_now(feed.id, actor=ANALYST)).indicator_count == 1
        await service.unsubscribe(feed.id, actor=ANALYST)
        assert not any_db_session.in_transaction() and await _count(any_db_session, IntelFeedModel) == 0
        assert [(a[0], a[3], a[4]) for a in await _audit(any_db_session)] == [
            ("cli", "intel_feed.create", {"name": "uow-list", "kind": "text", "url": str(listing)}),
            ("analyst", "intel_feed.refresh", {"indicators": 1}),
            ("analyst", "intel_feed.delete", {"name": "uow-list"}),
        ]

    async def test_a_bad_subscription_writes_nothing(
        self, any_db_session: AsyncSession, tmp_path: Path
    ) -> None:
        service = IntelFeedService(any_db_session)
        with pytest.raises(InvalidInput):
            await service.subscribe(FeedSpec("uow-bad", "yaml", "https://feeds.example/x"), actor=ANALYST)
        with pytest.raises(InvalidInput):  # local paths are for the CLI only
            await service.subscribe(FeedSpec("uow-file", "text", str(tmp_path / "x.txt")), actor=ANALYST)
        assert await _count(any_db_session, IntelFeedModel) == 0 and await _audit(any_db_session) == []
