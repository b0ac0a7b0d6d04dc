"""Rule exceptions (issue #16) on real EVTX: "suppress similar" stops that alert's repeats, nothing else."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta

from conftest import SHARED_DATA, require_data
from sqlalchemy import select

from aurorasoc.core.config import get_settings
from aurorasoc.core.db import session_scope
from aurorasoc.core.models import AlertModel, AuditLogModel
from aurorasoc.core.vocabulary import NormalizedEvent
from aurorasoc.detection.rules import import_startup_rules, load_engine
from aurorasoc.detection.sigma.compile import EventView
from aurorasoc.detection.sigma.engine import SigmaEngine
from aurorasoc.detection.sigma.exceptions import RuleExceptionSpec
from aurorasoc.siem.parsers import parse_file
from aurorasoc.siem.pipeline import DetectionPipeline

ADMINS = (
    SHARED_DATA / "evtx-attack-samples" / "Persistence" / "Network_Service_Guest_added_to_admins_4732.evtx"
)
LSASS = SHARED_DATA / "evtx-attack-samples" / "Credential Access"
RULE = "c4b2b02b-28e0-52ee-930a-884b6c738856"  # bundled: Member Added to Local Administrators
EXCEPTIONS = "/api/v1/detections/exceptions"


def evtx_events(*paths) -> list[NormalizedEvent]:  # type: ignore[no-untyped-def]
    return [e for p in paths for e in parse_file(p) if isinstance(e, NormalizedEvent)]


def hits(engine: SigmaEngine, events: list[NormalizedEvent]) -> Counter[str]:
    return Counter(h.rule.id for e in events for h in engine.evaluate(e))


async def stored_engine() -> SigmaEngine:
    async with session_scope() as session:
        return await load_engine(session)


async def test_suppress_similar_stops_the_repeats_and_nothing_else(app_db, client, admin_headers):  # type: ignore[no-untyped-def]
    require_data(ADMINS, LSASS)
    async with session_scope() as session:
        await import_startup_rules(session, get_settings())
    engine = await stored_engine()
    admins = evtx_events(ADMINS)
    others = evtx_events(*sorted(LSASS.glob("*.evtx"))[:12])
    before = hits(engine, admins + others)
    assert before[RULE] >= 1 and sum(n for uid, n in before.items() if uid != RULE) >= 1
    await DetectionPipeline(engine).process(admins)
    async with session_scope() as session:
        alert = next(
            a for a in (await session.scalars(select(AlertModel))).all() if a.metadata_["rule_uid"] == RULE
        )

    body = {"reason": "lab machine: admin changes are expected"}
    resp = await client.post(f"{EXCEPTIONS}/from-alert/{alert.id}", json=body, headers=admin_headers)
    assert resp.status_code == 201, resp.text
    created = resp.json()
    assert (
        created["rule_uid"] == RULE
        and created["owner"] == "admin"
        and created["source_alert_id"] == str(alert.id)
    )
    assert {k.lower(): str(v).lower() for k, v in created["conditions"].items()}.items() >= {
        "eventid": "4732", "targetusername": "administrators"}.items()  # fmt: skip
    assert created["host"] == admins[0].host

    tuned = await stored_engine()
    after = hits(tuned, admins + others)
    assert after[RULE] == 0  # the alert's repeats are gone
    assert +Counter({uid: n for uid, n in before.items() if uid != RULE}) == +after  # nothing else changed
    elsewhere = [
        e.model_copy(update={"host": "another-host", "fields": {**e.fields, "Computer": "another-host"}})
        for e in admins
    ]
    assert hits(tuned, elsewhere)[RULE] == before[RULE]  # the same rule still fires on another host
    repeat = await DetectionPipeline(tuned).process([e.model_copy() for e in admins])
    assert repeat.rule_hits[RULE] == 0

    listed = (await client.get(EXCEPTIONS, params={"rule_uid": RULE}, headers=admin_headers)).json()
    assert [e["id"] for e in listed] == [created["id"]]
    assert (await client.delete(f"{EXCEPTIONS}/{created['id']}", headers=admin_headers)).status_code == 204
    assert hits(await stored_engine(), admins)[RULE] == before[RULE]
    async with session_scope() as session:
        actions = [a.action for a in (await session.scalars(select(AuditLogModel))).all()]
    assert actions.count("rule_exception.create") == 1 and actions.count("rule_exception.delete") == 1


async def test_bad_exceptions_are_refused(app_db, client, admin_headers, role_headers):  # type: ignore[no-untyped-def]
    async with session_scope() as session:
        await import_startup_rules(session, get_settings())
    base = {"rule_uid": RULE, "reason": "x"}
    cases = [
        ({**base, "rule_uid": "no-such-rule", "host": "h"}, 404),
        (base, 400),  # neither a condition nor a host
        ({**base, "host": "h", "expires_at": "2000-01-01T00:00:00Z"}, 400),
    ]
    for body, code in cases:
        assert (await client.post(EXCEPTIONS, json=body, headers=admin_headers)).status_code == code, body
    viewer = await client.post(EXCEPTIONS, json={**base, "host": "h"}, headers=role_headers["viewer"])
    assert viewer.status_code == 403


def test_an_expired_exception_no_longer_applies() -> None:
    engine = SigmaEngine()
    event = NormalizedEvent.model_construct(fields={"Image": "C:\\\\x.exe"}, host="h1")
    spec = RuleExceptionSpec.of("1", "r", {"image": "c:\\\\X.EXE"}, host="H1")
    view = EventView(event)
    assert spec.matches(view)
    past = RuleExceptionSpec.of(
        "2", "r", {"Image": "c:\\\\x.exe"}, expires_at=datetime.now(UTC) - timedelta(seconds=1)
    )
    assert not past.matches(view)
    assert not RuleExceptionSpec.of("3", "r", {"Image": "c:\\\\x.exe"}, host="h2").matches(view)
    engine.add_exceptions([spec])
    assert engine.exceptions == {"r": [spec]}


async def test_rule_stats_show_hits_per_day_noisiest_and_never_fired(app_db, client, role_headers):  # type: ignore[no-untyped-def]
    require_data(ADMINS)
    async with session_scope() as session:
        await import_startup_rules(session, get_settings())
    engine = await stored_engine()
    admins = evtx_events(ADMINS)
    await DetectionPipeline(engine).process(admins)
    await DetectionPipeline(engine).process([e.model_copy() for e in admins])  # a replay (spec §27.5)
    expected = hits(engine, admins)[RULE]  # the replayed events are stored once, so counted once
    resp = await client.get(
        "/api/v1/detections/rule-stats", params={"days": 7}, headers=role_headers["analyst"]
    )
    assert resp.status_code == 200, resp.text
    stats = resp.json()
    assert len(stats["days"]) == 7 and stats["days"][-1] == datetime.now(UTC).date().isoformat()
    top = {row["rule_uid"]: row for row in stats["noisiest"]}
    assert top[RULE]["per_day"][-1] == top[RULE]["in_window"] == top[RULE]["hit_count"] == expected
    assert top[RULE]["last_hit_at"] is not None
    never = {row["rule_uid"] for row in stats["never_fired_rules"]}
    assert RULE not in never and stats["never_fired"] >= len(never) > 0
    assert stats["never_fired"] + len(top) <= 25  # the bundled pack
