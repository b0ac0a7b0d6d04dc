"""``GET /cases/{case_id}``: a case with its timeline, alerts and the work that hangs off it.

The detail gathers records of several capabilities (agents' investigations, reports, SOAR
approvals and executions), so it is composed here, above all of them, like the dashboard.
"""

from __future__ import annotations

from fastapi import Depends, Response

from aurorasoc.agents.investigations import recent_investigations
from aurorasoc.agents.schemas import InvestigationOut
from aurorasoc.cases.models import CaseModel
from aurorasoc.cases.router import CaseId, ReadCases, showcase_case
from aurorasoc.cases.schemas import CaseAlertRef, CaseDetail, CaseOut, TimelineEntryOut
from aurorasoc.cases.service import CaseService
from aurorasoc.core.web.deps import DataSourceDep, DbSession
from aurorasoc.core.web.routing import IndexedRouter
from aurorasoc.core.web.showcase import SHOWCASE_HEADER
from aurorasoc.reports.service import case_reports
from aurorasoc.soar.case_responses import case_responses
from aurorasoc.soar.schemas import ApprovalOut, ExecutionOut

router = IndexedRouter(prefix="/cases", tags=["cases"])


async def case_detail(service: CaseService, found: CaseModel) -> CaseDetail:
    timeline = await service.timeline(found.id)
    alerts = await service.alerts(found.id)
    approvals, executions = await case_responses(service.session, found.id)
    return CaseDetail(
        **CaseOut.model_validate(found).model_dump(),
        timeline=[TimelineEntryOut.model_validate(e) for e in timeline],
        alerts=[CaseAlertRef.model_validate(a) for a in alerts],
        reports=await case_reports(service.session, found.id),
        approvals=[ApprovalOut.model_validate(a).model_dump(mode="json") for a in approvals],
        executions=[ExecutionOut.model_validate(e).model_dump(mode="json") for e in executions],
        investigations=[
            InvestigationOut.model_validate(i).model_dump(mode="json")
            for i in await recent_investigations(service.session, case_id=found.id)
        ],
    )


@router.get(
    "/{case_id}",
    response_model=CaseDetail,
    summary="A case with its timeline, alerts and related work. Permission: cases:read",
    dependencies=[Depends(ReadCases)],
)
async def get_case(
    case_id: CaseId, session: DbSession, source: DataSourceDep, response: Response
) -> CaseDetail:
    response.headers[SHOWCASE_HEADER] = source
    if source == "showcase":
        return showcase_case(case_id)
    service = CaseService(session)
    return await case_detail(service, await service.get(case_id))
