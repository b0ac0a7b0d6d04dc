"""Tests for aurorasoc.cases.correlation, the alert pipeline and the detach endpoint."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from aurorasoc.cases.correlation import CaseCorrelator, Facts, Reason, match_reasons
from aurorasoc.core import runtime
from aurorasoc.core.bus.current import get_bus
from aurorasoc.core.db import session_scope
from aurorasoc.core.models import AlertModel, AuditLogModel, CaseModel, TimelineEntryModel
from aurorasoc.core.types import utcnow
from aurorasoc.core.vocabulary import RuntimeMode
from aurorasoc.intel.service import index_alert_iocs
from aurorasoc.workers.alert_pipeline import PIPELINE_GROUP


def make_alert(**fields: Any) -> AlertModel:
    """An alert as AlertService stores it: ``host:``/``user:`` assets also fill the entity columns."""
    values: dict[str, Any] = {
        "title": "alert",
        "severity": "low",
        "source": "sigma",
        "iocs": [],
        "affected_assets": [],
        "mitre_techniques": [],
    }
    values.update(fields)
    for asset in values["affected_assets"]:
        kind, _, name = asset.partition(":")
        if kind in ("host", "user"):
            values.setdefault("host" if kind == "host" else "user_name", name)
    return AlertModel(**values)


async def _store(session: AsyncSession, *alerts: AlertModel) -> None:
    """Flush and link the alerts' indicators (``alert_iocs``), as AlertService does."""
    session.add_all(alerts)
    await session.flush()
    await index_alert_iocs(session, list(alerts))


async def add_case(session: AsyncSession, *members: AlertModel, **fields: Any) -> CaseModel:
    found = CaseModel(title="existing", severity="low", **fields)
    session.add(found)
    await session.flush()
    for member in members:
        member.case_id = found.id
    await _store(session, *members)
    return found


async def correlate(session: AsyncSession, alert: AlertModel) -> Any:
    await _store(session, alert)
    return await CaseCorrelator(session).correlate(alert)


async def timeline(session: AsyncSession, case_id: uuid.UUID) -> list[TimelineEntryModel]:
    stmt = select(TimelineEntryModel).where(TimelineEntryModel.case_id == case_id)
    return list((await session.scalars(stmt.order_by(TimelineEntryModel.timestamp))).all())


@pytest.fixture
def dummy_mode() -> Iterator[None]:
    runtime.set_mode(RuntimeMode.DUMMY)
    yield
    runtime.reset_mode()


class TestMatchReasons:
    def test_reasons_come_strongest_first_and_once(self) -> None:
        peer_id = uuid.uuid4()
        new = Facts(frozenset({"1.2.3.4"}), frozenset({"host:web"}), frozenset({"T1110"}), "sigma")
        peer = Facts(frozenset({"1.2.3.4"}), frozenset({"host:web"}), frozenset({"T1110"}), "sigma", peer_id)
        reasons = match_reasons(new, [peer, peer])
        assert [r.kind for r in reasons] == ["shared_ioc", "shared_entity"]

    def test_technique_and_source_alone_never_link(self) -> None:
        """Spec §27.4: sharing only a technique (even from the same source) is no reason."""
        new = Facts(frozenset(), frozenset(), frozenset({"T1110"}), "sigma")
        assert match_reasons(new, [Facts(frozenset(), frozenset(), frozenset({"T1110"}), "sigma")]) == []

    def test_common_indicators_never_link(self) -> None:
        new = Facts(frozenset({"1.2.3.4"}), frozenset(), frozenset())
        peer = Facts(frozenset({"1.2.3.4"}), frozenset(), frozenset(), alert_id=uuid.uuid4())
        assert match_reasons(new, [peer], common=frozenset({"1.2.3.4"})) == []

    def test_hosts_match_case_insensitively_and_service_accounts_are_not_users(self) -> None:
        new = Facts.of_alert(make_alert(host="WS01", user_name="NT AUTHORITY\\SYSTEM"))
        peer = Facts.of_alert(make_alert(host="ws01", user_name="NT AUTHORITY\\SYSTEM"))
        assert [(r.kind, r.value) for r in match_reasons(new, [peer])] == [("shared_entity", "host:WS01")]

    def test_plain_assets_are_not_entities(self) -> None:
        assert Facts.of_alert(make_alert(affected_assets=["10.0.0.1", "user:bob"])).entities == {"user:bob"}

    def test_description_names_the_peer_alert_and_window(self) -> None:
        peer_id = uuid.uuid4()
        text = Reason("shared_ioc", "10.0.0.5", peer_id).describe(60)
        assert text == f"Shared indicator 10.0.0.5 with alert {peer_id} within 60 min of event time"


class TestLinkToExistingCase:
    async def test_shared_ioc_links_with_the_exact_timeline_entry(self, db_session: AsyncSession) -> None:
        member = make_alert(iocs=["10.0.0.5"])
        found = await add_case(db_session, member, iocs=["10.0.0.5"])
        alert = make_alert(iocs=["10.0.0.5", "evil.example"], severity="critical", mitre_techniques=["T1059"])
        result = await correlate(db_session, alert)
        assert (result.case_id, result.created) == (found.id, False)
        assert alert.case_id == found.id
        entry = (await timeline(db_session, found.id))[-1]
        assert (entry.action, entry.actor) == ("alert_correlated", "correlator")
        assert (
            entry.details == f"Shared indicator 10.0.0.5 with alert {member.id} within 60 min of event time"
        )
        assert entry.data["alert_id"] == str(alert.id)
        assert entry.data["reasons"][0] == {
            "kind": "shared_ioc",
            "value": "10.0.0.5",
            "alert_id": str(member.id),
        }
        assert found.severity == "critical"
        assert found.iocs == ["10.0.0.5", "evil.example"] and found.mitre_techniques == ["T1059"]

    async def test_shared_host_entity(self, db_session: AsyncSession) -> None:
        found = await add_case(db_session, make_alert(affected_assets=["host:web-01"]))
        result = await correlate(db_session, make_alert(affected_assets=["host:web-01"]))
        assert result.case_id == found.id
        assert [r.kind for r in result.reasons] == ["shared_entity"]

    async def test_technique_and_source_alone_do_not_link(self, db_session: AsyncSession) -> None:
        await add_case(db_session, make_alert(mitre_techniques=["T1110"], source="auth"))
        result = await correlate(db_session, make_alert(mitre_techniques=["T1110"], source="auth"))
        assert result.case_id is None and result.skipped == "no_match"

    async def test_most_reasons_wins_over_recency(self, db_session: AsyncSession) -> None:
        strong = await add_case(db_session, make_alert(iocs=["1.1.1.1"], affected_assets=["user:bob"]))
        strong.updated_at = utcnow() - timedelta(minutes=5)
        await add_case(db_session, make_alert(iocs=["1.1.1.1"]))
        result = await correlate(db_session, make_alert(iocs=["1.1.1.1"], affected_assets=["user:bob"]))
        assert result.case_id == strong.id

    @pytest.mark.parametrize("status", ["resolved", "closed"])
    async def test_finished_cases_are_not_candidates(self, db_session: AsyncSession, status: str) -> None:
        await add_case(db_session, make_alert(iocs=["6.6.6.6"]), status=status)
        result = await correlate(db_session, make_alert(iocs=["6.6.6.6"]))
        assert result.case_id is None and result.skipped == "no_match"

    async def test_cases_outside_the_event_time_window_are_not_candidates(
        self, db_session: AsyncSession
    ) -> None:
        """Event time decides (spec §27.1): an alert ingested now about 2019 is far from one about 2020."""
        then = utcnow() - timedelta(days=400)
        member = make_alert(iocs=["7.7.7.7"], first_seen_at=then, last_seen_at=then)
        old = await add_case(db_session, member)
        result = await correlate(db_session, make_alert(iocs=["7.7.7.7"], severity="high"))
        assert result.created and result.case_id != old.id
        late = then + timedelta(minutes=59)
        joined = await correlate(
            db_session, make_alert(iocs=["7.7.7.7"], first_seen_at=late, last_seen_at=late)
        )
        assert joined.case_id == old.id


class TestAutoCreatedCases:
    async def test_high_alert_without_match_opens_a_correlation_case(self, db_session: AsyncSession) -> None:
        alert = make_alert(title="Ransomware", severity="high")
        result = await correlate(db_session, alert)
        assert result.created and result.linked_alert_ids == [alert.id]
        created = await db_session.get(CaseModel, result.case_id)
        assert created is not None
        assert (created.status, created.source, created.severity) == ("open", "correlation", "high")
        first = (await timeline(db_session, created.id))[0]
        assert (first.action, first.actor, first.details) == (
            "case_created",
            "system",
            "Auto-created from alert correlation",
        )

    async def test_low_alerts_open_a_case_only_together(self, db_session: AsyncSession) -> None:
        first = make_alert(iocs=["bad.example"])
        assert (await correlate(db_session, first)).case_id is None
        assert first.case_id is None
        second = make_alert(iocs=["bad.example"], severity="medium")
        result = await correlate(db_session, second)
        assert result.created
        assert first.case_id == second.case_id == result.case_id
        created = await db_session.get(CaseModel, result.case_id)
        assert created is not None and created.severity == "medium"
        actions = [e.action for e in await timeline(db_session, created.id)]
        assert actions[0] == "case_created" and actions[-1] == "alert_correlated"

    async def test_the_title_names_the_most_severe_detection_and_its_host(
        self, db_session: AsyncSession
    ) -> None:
        """Joined by a critical alert, a case opened by a high one is renamed after it."""
        host = ["host:PC04", "user:PC04\\IEUser"]
        first = make_alert(
            title="PowerShell spawned", severity="high", affected_assets=host, description="ps"
        )
        created = await db_session.get(CaseModel, (await correlate(db_session, first)).case_id)
        assert created is not None and created.title == "PC04: PowerShell spawned"
        await correlate(db_session, make_alert(title="Whoami", severity="medium", affected_assets=host))
        assert created.title == "PC04: PowerShell spawned"  # a lesser detection does not rename it
        dump = make_alert(title="LSASS dump", severity="critical", affected_assets=host, description="dump")
        await correlate(db_session, dump)
        assert (created.title, created.severity, created.description) == (
            "PC04: LSASS dump",
            "critical",
            "dump",
        )
        renamed = [e for e in await timeline(db_session, created.id) if e.action == "case_retitled"]
        assert [(e.data["before"], e.data["after"]) for e in renamed] == [
            ("PC04: PowerShell spawned", "PC04: LSASS dump")
        ]

    async def test_a_title_an_analyst_gave_is_kept(self, db_session: AsyncSession) -> None:
        first = make_alert(title="PowerShell spawned", severity="high", affected_assets=["host:PC04"])
        created = await db_session.get(CaseModel, (await correlate(db_session, first)).case_id)
        assert created is not None
        created.title = "PC04 intrusion, ticket 4711"
        created.description = "Ticket 4711: the help desk saw a PowerShell window."
        dump = make_alert(
            title="LSASS dump", severity="critical", affected_assets=["host:PC04"], description="x"
        )
        await correlate(db_session, dump)
        assert (created.title, created.severity) == ("PC04 intrusion, ticket 4711", "critical")
        assert created.description == "Ticket 4711: the help desk saw a PowerShell window."

    async def test_a_case_opened_with_a_more_severe_peer_is_named_after_the_peer(
        self, db_session: AsyncSession
    ) -> None:
        peer = make_alert(
            title="Mimikatz", severity="medium", iocs=["bad.example"], user_name="bob", description="m"
        )
        await correlate(db_session, peer)
        result = await correlate(db_session, make_alert(title="Odd logon", iocs=["bad.example"]))
        created = await db_session.get(CaseModel, result.case_id)
        assert created is not None and (created.title, created.description) == ("bob: Mimikatz", "m")

    async def test_dummy_mode_does_nothing(self, db_session: AsyncSession, dummy_mode: None) -> None:
        await add_case(db_session, make_alert(iocs=["8.8.8.8"]))
        alert = make_alert(iocs=["8.8.8.8"], severity="critical")
        result = await correlate(db_session, alert)
        assert result.skipped == "mode_blocks_pipeline" and alert.case_id is None
        assert len((await db_session.scalars(select(CaseModel))).all()) == 1


async def post_alert(client: Any, headers: dict[str, str], title: str) -> str:
    body = {"title": title, "source": "edr", "severity": "low", "iocs": ["203.0.113.9"]}
    resp = await client.post("/api/v1/alerts", json=body, headers=headers)
    assert resp.status_code == 201, resp.text
    return str(resp.json()["id"])


class TestAlertPipeline:
    async def test_two_alerts_sharing_an_ioc_end_up_in_one_case(
        self, client: Any, admin_headers: Any
    ) -> None:
        ids = [await post_alert(client, admin_headers, title) for title in ("first", "second")]
        await asyncio.wait_for(get_bus().join("aurora:alerts", PIPELINE_GROUP), timeout=5)  # type: ignore[attr-defined]
        async with session_scope() as session:
            alerts = [await session.get(AlertModel, uuid.UUID(i)) for i in ids]
        case_ids = {a.case_id for a in alerts if a is not None}
        assert len(case_ids) == 1 and None not in case_ids


async def seed_linked() -> tuple[str, str]:
    async with session_scope() as session:
        found = CaseModel(title="detach me", severity="high")
        session.add(found)
        await session.flush()
        alert = make_alert(case_id=found.id)
        session.add(alert)
        await session.flush()
        return str(found.id), str(alert.id)


class TestDetachEndpoint:
    async def test_detach_unlinks_and_records_it(self, client: Any, role_headers: Any) -> None:
        case_id, alert_id = await seed_linked()
        url = f"/api/v1/cases/{case_id}/alerts/{alert_id}/detach"
        resp = await client.post(url, headers=role_headers["analyst"])
        assert resp.status_code == 200, resp.text
        assert resp.json()["id"] == case_id
        async with session_scope() as session:
            alert = await session.get(AlertModel, uuid.UUID(alert_id))
            assert alert is not None and alert.case_id is None
            entry = (await timeline(session, uuid.UUID(case_id)))[-1]
            stmt = select(AuditLogModel).where(AuditLogModel.resource_id == alert_id)
            audit = (await session.scalars(stmt)).one()
        assert (entry.action, entry.actor) == ("alert_detached", "analyst")
        assert (audit.action, audit.details["detached_from"]) == ("alert.link", case_id)
        again = await client.post(url, headers=role_headers["analyst"])
        assert again.status_code == 409
        assert again.json()["detail"]["code"] == "alert_not_in_case"

    async def test_unknown_ids_are_404(self, client: Any, role_headers: Any) -> None:
        case_id, alert_id = await seed_linked()
        for url in (
            f"/api/v1/cases/{uuid.uuid4()}/alerts/{alert_id}/detach",
            f"/api/v1/cases/{case_id}/alerts/{uuid.uuid4()}/detach",
        ):
            assert (await client.post(url, headers=role_headers["analyst"])).status_code == 404

    async def test_viewer_is_forbidden(self, client: Any, role_headers: Any) -> None:
        case_id, alert_id = await seed_linked()
        url = f"/api/v1/cases/{case_id}/alerts/{alert_id}/detach"
        assert (await client.post(url, headers=role_headers["viewer"])).status_code == 403


def on_host(host: str, *techniques: str, alert_id: uuid.UUID | None = None) -> Facts:
    return Facts(frozenset(), frozenset({f"host:{host}"}), frozenset(techniques), "edr", alert_id)


class TestTacticChain:
    def test_chain_on_a_shared_host_ranks_above_the_host_match(self) -> None:
        peer_id = uuid.uuid4()
        reasons = match_reasons(
            on_host("WS01", "T1003.001"), [on_host("WS01", "T1059.001", alert_id=peer_id)]
        )
        assert [(r.kind, r.value) for r in reasons] == [
            ("tactic_chain", "host:WS01: execution → credential-access"),
            ("shared_entity", "host:WS01"),
        ]
        assert reasons[0].describe(60) == (
            "Tactic chain on host:WS01: execution → credential-access "
            f"with alert {peer_id} within 60 min of event time"
        )

    def test_chain_joins_all_peers_on_the_host_in_kill_chain_order(self) -> None:
        peers = [on_host("WS01", "T1486"), on_host("WS01", "T1566.001"), on_host("WS02", "T1021.001")]
        reasons = match_reasons(on_host("WS01", "T1059.001"), peers)
        assert reasons[0].value == "host:WS01: initial-access → execution → impact"

    @pytest.mark.parametrize(
        ("new", "peer"),
        [
            (on_host("WS01", "T1059.001"), on_host("WS01", "T1059.003")),  # one tactic only
            (on_host("WS01", "T1003.001"), on_host("WS02", "T1059.001")),  # different hosts
            (on_host("WS01", "T1003.001", "T1059.001"), on_host("WS01")),  # peer has no technique
            (on_host("WS01", "T9999"), on_host("WS01", "T1059.001")),  # unknown technique
        ],
    )
    def test_no_chain_without_two_tactics_across_alerts_on_one_host(self, new: Facts, peer: Facts) -> None:
        assert "tactic_chain" not in {r.kind for r in match_reasons(new, [peer])}

    async def test_timeline_names_the_host_and_tactics(self, db_session: AsyncSession) -> None:
        member = make_alert(affected_assets=["host:WS01"], mitre_techniques=["T1059.001"])
        found = await add_case(db_session, member)
        result = await correlate(
            db_session, make_alert(affected_assets=["host:WS01"], mitre_techniques=["T1003.001"])
        )
        assert result.case_id == found.id
        entry = (await timeline(db_session, found.id))[-1]
        assert entry.details == (
            "Tactic chain on host:WS01: execution → credential-access "
            f"with alert {member.id} within 60 min of event time"
        )
        assert [r["kind"] for r in entry.data["reasons"]] == ["tactic_chain", "shared_entity"]

    async def test_chain_case_beats_a_newer_host_only_case(self, db_session: AsyncSession) -> None:
        chained = await add_case(
            db_session, make_alert(affected_assets=["host:WS01"], mitre_techniques=["T1566.001"])
        )
        chained.updated_at = utcnow() - timedelta(minutes=10)
        await add_case(db_session, make_alert(affected_assets=["host:WS01"]))
        result = await correlate(
            db_session, make_alert(affected_assets=["host:WS01"], mitre_techniques=["T1204.002"])
        )
        assert result.case_id == chained.id
        assert result.reasons[0].value == "host:WS01: initial-access → execution"

    async def test_two_low_alerts_chaining_on_a_host_open_a_case(self, db_session: AsyncSession) -> None:
        first = make_alert(affected_assets=["host:WS01"], mitre_techniques=["T1059.001"])
        assert (await correlate(db_session, first)).case_id is None
        second = make_alert(affected_assets=["host:WS01"], mitre_techniques=["T1003.001"])
        result = await correlate(db_session, second)
        assert result.created and first.case_id == second.case_id == result.case_id
        assert result.reasons[0].kind == "tactic_chain"


class TestHostlessAlertsBySourceAddress:
    """Web-server logs name no host or user: the client's address is what names the actor."""

    def test_a_hostless_alert_is_known_by_its_source_address(self) -> None:
        web = Facts.of_alert(make_alert(src_ip="192.168.105.64"))
        assert web.entities == {"source:192.168.105.64"}
        hosted = Facts.of_alert(make_alert(host="DC01", src_ip="192.168.105.64"))
        assert hosted.entities == {"host:DC01"}  # a host names the actor: its address alone never links
        assert match_reasons(web, [hosted]) == []

    async def test_xss_and_path_traversal_from_one_client_are_one_case(
        self, db_session: AsyncSession
    ) -> None:
        """The EVTX samples' access log: a low path traversal, then an XSS probe 9 s later from the
        same client. The first opened nothing alone; the second now opens a case holding both."""
        start = utcnow()
        traversal = make_alert(title="Path Traversal Exploitation Attempts", src_ip="192.168.105.64",
                               first_seen_at=start, last_seen_at=start)  # fmt: skip
        assert (await correlate(db_session, traversal)).case_id is None
        later = start + timedelta(seconds=9)
        xss = make_alert(title="Cross Site Scripting Strings", severity="high", src_ip="192.168.105.64",
                         first_seen_at=later, last_seen_at=later)  # fmt: skip
        other = make_alert(title="Cross Site Scripting Strings", severity="high", src_ip="192.168.105.83",
                           first_seen_at=later, last_seen_at=later)  # fmt: skip
        result = await correlate(db_session, xss)
        assert result.created and set(result.linked_alert_ids) == {xss.id, traversal.id}
        assert [(r.kind, r.value) for r in result.reasons] == [("shared_entity", "source:192.168.105.64")]
        created = await db_session.get(CaseModel, result.case_id)
        assert created is not None and created.title == "from 192.168.105.64: Cross Site Scripting Strings"
        assert (await correlate(db_session, other)).case_id != result.case_id  # another client
