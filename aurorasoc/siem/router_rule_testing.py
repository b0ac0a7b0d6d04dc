"""``POST /detections/rules/test``: a Sigma YAML run against sample events or stored SIEM logs.

It lives in ``siem`` (above ``detection``) because it normalises the sample records and reads the
stored logs; the detection router keeps the rest of ``/detections``.
"""

from __future__ import annotations

from fastapi import Depends

from aurorasoc.core.web.deps import DbSession, require_database
from aurorasoc.core.web.routing import IndexedRouter
from aurorasoc.detection.router import ReadRules, limit_body
from aurorasoc.detection.schemas import RuleTest, RuleTestResult, TestedRule
from aurorasoc.siem import rule_testing

router = IndexedRouter(prefix="/detections", tags=["detections"])


@router.post(
    "/rules/test",
    response_model=RuleTestResult,
    summary="Run a Sigma YAML against sample events or stored logs (nothing stored). Permission: siem:read",
    dependencies=[ReadRules, Depends(limit_body)],
)
async def test_rules(body: RuleTest, session: DbSession) -> RuleTestResult:
    engine = rule_testing.compile_for_test(body.yaml)
    events = rule_testing.events_from_objects(body.events)
    if body.log_ids:
        await require_database()
        events += await rule_testing.events_from_logs(session, body.log_ids)
    results = rule_testing.evaluate(engine, events)
    rules = [
        TestedRule(id=r.id, title=r.title, supported=r.supported, reason=r.reason)
        for r in engine.rules.values()
    ]
    matched = sum(1 for result in results if result["matches"])
    return RuleTestResult.model_validate(
        {"rules": rules, "events": len(events), "matched": matched, "results": results}
    )
