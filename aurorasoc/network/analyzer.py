"""Network Analyzer (spec §10): a SIEM query's KPIs plus a read-only ``network_security`` run.

The KPIs come straight from ``siem_logs`` (uncapped counts); the agent run is recorded like any
other investigation, so it appears under /investigations and streams its steps. It runs with a
read-only permission set: whatever the prompt asks for, no tool can act, open approvals or call
a connector. The run is tied to the most telling alert behind the matches (an imported attack's
newest alert, else the newest critical/high alert sharing an indicator with them), so even the
offline analyst has concrete evidence to pivot on.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Literal

from sqlalchemy import ColumnElement, func, select, union
from sqlalchemy.ext.asyncio import AsyncSession

from aurorasoc.agents import investigations
from aurorasoc.agents.investigations import InvestigationService
from aurorasoc.agents.models import InvestigationModel
from aurorasoc.alerts.models import AlertModel
from aurorasoc.core.errors import InvalidInput
from aurorasoc.core.vocabulary import AgentType, IOCStatus, IOCType
from aurorasoc.intel.models import IOCModel
from aurorasoc.network.attacks import NetworkAttackService
from aurorasoc.network.models import NetworkAttackModel
from aurorasoc.siem.models import SiemLogModel
from aurorasoc.siem.search import LogFilters, SiemSearchService

AnalyzerRange = Literal["15m", "1h", "24h", "7d", "all"]  # "all": every stored event (imported history)
DEFAULT_RANGE: AnalyzerRange = "24h"
READ_ONLY_PERMISSIONS = frozenset(
    {"alerts:read", "siem:read", "iocs:read", "cases:read", "cps:read", "agents:read"}
)
EVIDENCE_ROWS = 10
LEAD_CANDIDATES = 200  # newest critical/high alerts checked for a shared indicator
PROMPT_IOCS = 20


@dataclass(frozen=True)
class Kpis:
    flows: int  # matching events
    critical: int
    high: int
    iocs: int  # distinct matched src/dst values that are in the IOC store


@dataclass
class Analysis:
    """What an analysis found and would run; ``investigation`` is set once it ran."""

    query: str
    time_range: AnalyzerRange
    kpis: Kpis
    events: list[SiemLogModel]
    iocs: list[IOCModel]
    prompt: str
    alert_id: uuid.UUID | None = None
    attack_id: uuid.UUID | None = None
    investigation: InvestigationModel | None = field(default=None)


def attack_query(src_ip: str | None, dst_ip: str | None) -> str:
    """The traffic between an attack's endpoints, either direction (the dashboard builds the same)."""
    ends = [f'(src_ip:"{ip}" OR dst_ip:"{ip}")' for ip in (src_ip, dst_ip) if ip]
    return " AND ".join(ends)


def read_only(permissions: frozenset[str]) -> frozenset[str]:
    """The caller's read permissions, never more: an analysis can look but never act."""
    return READ_ONLY_PERMISSIONS if "*" in permissions else READ_ONLY_PERMISSIONS & permissions


class NetworkAnalyzer:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def plan(
        self,
        query: str,
        time_range: AnalyzerRange = DEFAULT_RANGE,
        *,
        attack_id: uuid.UUID | None = None,
        note: str | None = None,
    ) -> Analysis:
        """Everything short of running the agent: reads only, so previews use it in any mode."""
        attack = await NetworkAttackService(self.session).get(attack_id) if attack_id else None
        query = query.strip() or (attack_query(attack.src_ip, attack.dst_ip) if attack else "")
        if not query:
            raise InvalidInput("give a query, or an attack_id context whose endpoints become the query")
        filters = LogFilters(q=query, range=None if time_range == "all" else time_range).pinned()
        clauses = filters.clauses()  # bad syntax → InvalidInput with the parser's message
        kpis, iocs = await self._kpis(clauses)
        events = (await SiemSearchService(self.session).search(filters, limit=EVIDENCE_ROWS)).rows
        if attack is not None:
            lead = uuid.UUID(attack.alert_ids[-1]) if attack.alert_ids else None
        else:
            lead = await self._lead_alert(filters, {i.value for i in iocs})
        prompt = _prompt(query, time_range, kpis, iocs, attack, note)
        return Analysis(query, time_range, kpis, events, iocs, prompt, lead, attack.id if attack else None)

    async def run(self, analysis: Analysis, actor: str, permissions: frozenset[str]) -> InvestigationModel:
        """Record and start the ``network_security`` investigation (offline it finishes here)."""
        investigations.ensure_llm_available(AgentType.NETWORK_SECURITY)
        investigation = await InvestigationService(self.session).create(
            AgentType.NETWORK_SECURITY, analysis.prompt, actor, alert_id=analysis.alert_id
        )
        investigation.network_attack_id = analysis.attack_id
        await self.session.flush()
        analysis.investigation = await investigations.start(
            self.session, investigation, read_only(permissions)
        )
        return analysis.investigation

    async def _kpis(self, clauses: list[ColumnElement[bool]]) -> tuple[Kpis, list[IOCModel]]:
        log = SiemLogModel
        counts = await self.session.execute(
            select(log.severity, func.count()).where(*clauses).group_by(log.severity)
        )
        by_severity = {severity: int(n) for severity, n in counts.all()}
        ips = union(
            select(log.src_ip.label("ip")).where(*clauses, log.src_ip.is_not(None)),
            select(log.dst_ip.label("ip")).where(*clauses, log.dst_ip.is_not(None)),
        ).subquery()
        stmt = (
            select(IOCModel)
            .where(
                IOCModel.type == IOCType.IP.value,
                IOCModel.status != IOCStatus.FALSE_POSITIVE.value,
                IOCModel.value.in_(select(ips.c.ip)),
            )
            .order_by(IOCModel.confidence.desc(), IOCModel.value)
        )
        iocs = list((await self.session.scalars(stmt)).all())
        kpis = Kpis(
            flows=sum(by_severity.values()),
            critical=by_severity.get("critical", 0),
            high=by_severity.get("high", 0),
            iocs=len(iocs),
        )
        return kpis, iocs

    async def _lead_alert(self, filters: LogFilters, indicators: set[str]) -> uuid.UUID | None:
        """The newest critical/high alert in the range that shares an indicator with the matches."""
        if not indicators:
            return None
        stmt = (
            select(AlertModel)
            .where(AlertModel.severity.in_(("critical", "high")))
            .order_by(AlertModel.last_seen_at.desc())
            .limit(LEAD_CANDIDATES)
        )
        if filters.since is not None:  # pinned by plan(); None for "all"
            stmt = stmt.where(AlertModel.last_seen_at >= filters.since)
        for alert in (await self.session.scalars(stmt)).all():
            if indicators.intersection(alert.iocs or []):
                return alert.id
        return None


def _prompt(
    query: str,
    time_range: str,
    kpis: Kpis,
    iocs: list[IOCModel],
    attack: NetworkAttackModel | None,
    note: str | None,
) -> str:
    known = ", ".join(i.value for i in iocs[:PROMPT_IOCS]) or "none"
    lines = [
        "Read-only network analysis: report findings only; do not contain, block or request approvals.",
        f"SIEM query: {query} ({'all stored events' if time_range == 'all' else f'last {time_range}'}).",
        f"Matches: {kpis.flows} events, {kpis.critical} critical, {kpis.high} high; "
        f"{kpis.iocs} known IOC(s): {known}.",
    ]
    if attack is not None:
        lines.append(
            f"Imported network attack {attack.id}: {attack.title} ({attack.category}, {attack.severity})."
        )
    if note:
        lines.append(f"Analyst context: {note}")
    lines.append("Establish what this traffic is, whether it is malicious, and what to look at next.")
    return "\n".join(lines)
