"""Every tool by name, and the domain allow-lists that decide which agent may call which."""

from __future__ import annotations

from collections.abc import Iterable

from aurorasoc.agents.tools.base import AuroraTool
from aurorasoc.agents.tools.containment import CONTAINMENT_TOOLS
from aurorasoc.agents.tools.cps import DeviceStatus, ListDevices
from aurorasoc.agents.tools.evidence import (
    AlertEvents,
    HostAlerts,
    HostTimeline,
    LogonSessions,
    Prevalence,
    ProcessTree,
    UserTimeline,
    WhereElse,
)
from aurorasoc.agents.tools.siem import CorrelateEvents, MitreMap, SearchAlerts, SearchLogs
from aurorasoc.agents.tools.soar import (
    AddCaseNote,
    ExecutePlaybook,
    GetApprovalStatus,
    GetCase,
    ListPlaybooks,
    RequestHumanApproval,
)
from aurorasoc.agents.tools.threat_intel import EnrichIOC, MitreAttackLookup

TOOLS: dict[str, AuroraTool] = {
    tool.name: tool
    for tool in (
        SearchAlerts(),
        SearchLogs(),
        CorrelateEvents(),
        MitreMap(),
        AlertEvents(),
        HostTimeline(),
        HostAlerts(),
        WhereElse(),
        UserTimeline(),
        LogonSessions(),
        ProcessTree(),
        Prevalence(),
        EnrichIOC(),
        MitreAttackLookup(),
        GetCase(),
        ListPlaybooks(),
        RequestHumanApproval(),
        GetApprovalStatus(),
        ExecutePlaybook(),
        AddCaseNote(),
        ListDevices(),
        DeviceStatus(),
        *CONTAINMENT_TOOLS,
    )
}


def tools_for_domains(domains: Iterable[str]) -> list[AuroraTool]:
    """The tools an agent bound to ``domains`` may call, in registry order."""
    allowed = set(domains)
    return [tool for tool in TOOLS.values() if tool.domain in allowed]


def implemented_domains() -> frozenset[str]:
    return frozenset(tool.domain for tool in TOOLS.values())
