"""``threat_intel`` domain: the local IOC store and the ATT&CK index (no outbound calls)."""

from __future__ import annotations

from pydantic import BaseModel, Field

from aurorasoc.agents.tools.base import AuroraTool, ToolContext, ToolResult
from aurorasoc.agents.tools.past_cases import similar_closed_cases
from aurorasoc.agents.tools.siem import MitreMap
from aurorasoc.agents.tools.views import alert_view, ioc_view
from aurorasoc.alerts.ioc_alerts import alerts_with_ioc
from aurorasoc.intel.service import IOCService, parse_ioc


class EnrichInput(BaseModel):
    value: str = Field(..., min_length=1, max_length=2048, description="An IP, domain, URL, hash, email…")
    type: str | None = Field(None, max_length=32, description="IOC type when it cannot be inferred")


class EnrichIOC(AuroraTool):
    """Enrich an indicator from the local IOC store: status, confidence, tags, sightings, linked
    alerts and similar closed cases."""

    name = "enrich_ioc"
    domain = "threat_intel"
    Input = EnrichInput
    permission = "iocs:read"

    async def execute(self, ctx: ToolContext, args: EnrichInput) -> ToolResult:
        key = parse_ioc(args.value, args.type)
        service = IOCService(ctx.session)
        ioc = await service.find(key)
        result: ToolResult = {"status": "ok", "type": key[0], "value": key[1], "known": ioc is not None}
        if ioc is not None:
            alerts, total = await alerts_with_ioc(ctx.session, ioc.id, limit=5)
            result |= {
                "ioc": ioc_view(ioc),
                "linked_alerts": total,
                "recent_alerts": [alert_view(a) for a in alerts],
            }
        result["similar_cases"] = await similar_closed_cases(ctx.session, {key[1].lower()}, 5)
        return result


class MitreAttackLookup(MitreMap):
    """Look up an ATT&CK technique in the local index: name, tactics and reference URL."""

    name = "mitre_attack_lookup"
    domain = "threat_intel"
