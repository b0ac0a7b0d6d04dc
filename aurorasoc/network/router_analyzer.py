"""Network Analyzer (spec §10): query KPIs plus a read-only ``network_security`` investigation.

A pipeline write like ``/orchestrator/dispatch`` (blocked only in dummy); ``?preview=true``
works in every mode and answers the KPIs and the run that would start, storing nothing.
"""

from __future__ import annotations

from fastapi import Depends, status

from aurorasoc.agents.schemas import InvestigationOut
from aurorasoc.core.auth import Principal, require_permission
from aurorasoc.core.config import get_settings
from aurorasoc.core.vocabulary import AgentType
from aurorasoc.core.web.deps import DbSession, PipelineOrPreview
from aurorasoc.core.web.routing import IndexedRouter
from aurorasoc.intel.schemas import IOCOut
from aurorasoc.network.analyzer import Analysis, NetworkAnalyzer, read_only
from aurorasoc.network.schemas_analyzer import AnalyzeRequest, AnalyzeResponse, AnalyzerKpis
from aurorasoc.siem.schemas import SiemLogOut

router = IndexedRouter(prefix="/network-analyzer", tags=["network"])


@router.post(
    "/analyze", response_model=AnalyzeResponse, status_code=status.HTTP_202_ACCEPTED,
    summary="Analyze a SIEM query: KPIs plus a read-only network_security run (?preview=true in any "
    "mode). Permission: agents:dispatch",
)  # fmt: skip
async def analyze(
    body: AnalyzeRequest,
    session: DbSession,
    write: PipelineOrPreview,
    principal: Principal = Depends(require_permission("agents:dispatch")),
) -> AnalyzeResponse:
    context = body.context
    analyzer = NetworkAnalyzer(session)
    analysis = await analyzer.plan(
        body.query,
        body.time_range,
        attack_id=context.attack_id if context else None,
        note=context.note if context else None,
    )
    if write.preview:
        return _response(analysis, write.mode, effects=[_effect(analysis, principal.permissions)])
    investigation = await analyzer.run(analysis, principal.username, principal.permissions)
    out = _response(analysis, write.mode)
    out.investigation = InvestigationOut.model_validate(investigation)
    return out


def _response(
    analysis: Analysis, mode: str, effects: list[dict[str, object]] | None = None
) -> AnalyzeResponse:
    return AnalyzeResponse(
        query=analysis.query,
        time_range=analysis.time_range,
        kpis=AnalyzerKpis.model_validate(analysis.kpis),
        events=[SiemLogOut.model_validate(e) for e in analysis.events],
        iocs=[IOCOut.of(i) for i in analysis.iocs],
        prompt=analysis.prompt,
        alert_id=analysis.alert_id,
        attack_id=analysis.attack_id,
        preview=effects is not None,
        mode=mode,
        effects=effects or [],
    )


def _effect(analysis: Analysis, permissions: frozenset[str]) -> dict[str, object]:
    """The run a real call would start; nothing is stored."""
    cfg = get_settings().agents
    return {
        "action": "analyze",
        "agent": AgentType.NETWORK_SECURITY.value,
        "alert_id": str(analysis.alert_id) if analysis.alert_id else None,
        "network_attack_id": str(analysis.attack_id) if analysis.attack_id else None,
        "permissions": sorted(read_only(permissions)),
        "backend": (cfg.llm_model or "default") if cfg.configured else "offline",
        "simulated": True,
    }
