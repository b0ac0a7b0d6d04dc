"""The agent fleet (spec §16.1): the single source of truth for names, ports, roles and tools."""

from __future__ import annotations

from dataclasses import dataclass

from aurorasoc.core.vocabulary import AgentType

A = AgentType


@dataclass(frozen=True)
class AgentSpec:
    agent_type: AgentType
    index: int  # A2A port = AURORA_A2A_BASE_PORT + index
    role: str
    memory_preset: str
    tool_domains: tuple[str, ...]
    responsibilities: tuple[str, ...]

    @property
    def name(self) -> str:
        return self.agent_type.value

    @property
    def display_name(self) -> str:
        return self.name.replace("_", " ").title()


def _spec(t: A, i: int, role: str, memory: str, domains: tuple[str, ...], *duties: str) -> AgentSpec:
    return AgentSpec(t, i, role, memory, domains, duties)


AGENT_SPECS: dict[AgentType, AgentSpec] = {
    s.agent_type: s
    for s in (
        _spec(
            A.ORCHESTRATOR,
            0,
            "Plans investigations, delegates to specialists via handoff tools, synthesises "
            "their results and routes risky actions to human approvals",
            "ORCHESTRATOR_MEMORY",
            ("soar",),
            "Decide which specialists to involve",
            "Merge findings into one verdict",
            "Never act directly: propose actions for approval",
        ),
        _spec(
            A.SECURITY_ANALYST,
            1,
            "First-line triage: SIEM context, IOC extraction, ATT&CK mapping, severity",
            "ANALYST_MEMORY",
            ("siem",),
            "Read the alert and its surrounding events",
            "Map behaviour to ATT&CK",
            "Score severity from evidence",
        ),
        _spec(
            A.THREAT_HUNTER,
            2,
            "Hypothesis-driven hunts: Sigma and IOC pivots, LOLBins, beaconing, lateral "
            "movement, persistence",
            "HUNTER_MEMORY",
            ("siem", "ueba", "osint"),
            "Pivot on indicators and techniques",
            "Find related activity and past cases",
        ),
        _spec(
            A.MALWARE_ANALYST,
            3,
            "Hash reputation, YARA scanning, sandbox-report interpretation",
            "INTEL_MEMORY",
            ("malware", "threat_intel"),
            "Assess file indicators",
        ),
        _spec(
            A.INCIDENT_RESPONDER,
            4,
            "Containment, eradication and recovery via playbooks under approval gates",
            "RESPONDER_MEMORY",
            ("soar", "edr", "network", "document"),
            "Propose playbooks that fit the techniques",
            "Document every step",
        ),
        _spec(
            A.NETWORK_SECURITY,
            5,
            "Flows, DNS tunnelling, IDS triage, recon and exfiltration",
            "NETWORK_MEMORY",
            ("network", "siem", "network_capture"),
            "Analyse network evidence",
        ),
        _spec(
            A.CPS_SECURITY,
            6,
            "OT/IoT triage: attestation, telemetry anomalies, zones and conduits",
            "NETWORK_MEMORY",
            ("cps", "network", "siem"),
            "Assess device and physical-process impact",
        ),
        _spec(
            A.THREAT_INTEL,
            7,
            "IOC enrichment, actor and campaign tracking, IOC lifecycle",
            "INTEL_MEMORY",
            ("threat_intel", "siem", "osint", "vuln_intel", "document"),
            "Enrich every indicator",
            "Relate indicators to known activity",
        ),
        _spec(
            A.ENDPOINT_SECURITY,
            8,
            "EDR and UEBA: process trees, persistence, baselines, insider risk",
            "ENDPOINT_MEMORY",
            ("ueba", "edr", "siem", "malware"),
            "Analyse host activity",
        ),
        _spec(
            A.FORENSIC_ANALYST,
            9,
            "Evidence collection, chain of custody, timeline reconstruction",
            "RESPONDER_MEMORY",
            ("edr", "siem", "document"),
            "Reconstruct the timeline",
        ),
        _spec(
            A.WEB_SECURITY,
            10,
            "Web attacks (SQLi, XSS, traversal, scanners) from web and WAF logs",
            "ANALYST_MEMORY",
            ("siem", "waf", "threat_intel"),
            "Analyse web requests",
        ),
        _spec(
            A.REPORT_GENERATOR,
            11,
            "Technical, executive and compliance report narratives",
            "DEFAULT_MEMORY",
            ("document",),
            "Summarise cases for each audience",
        ),
        _spec(
            A.VULNERABILITY_MANAGER,
            12,
            "CVE/CVSS/EPSS prioritisation against observed assets",
            "INTEL_MEMORY",
            ("vuln_intel", "siem"),
            "Prioritise vulnerabilities",
        ),
        _spec(
            A.COMPLIANCE_ANALYST,
            13,
            "Maps cases and controls to NIST CSF, ISO 27001, PCI-DSS, HIPAA, IEC 62443",
            "DEFAULT_MEMORY",
            ("document", "siem"),
            "Map findings to controls",
        ),
    )
}

AGENT_TOOL_BINDINGS: dict[str, frozenset[str]] = {
    spec.name: frozenset(spec.tool_domains) for spec in AGENT_SPECS.values()
}
AGENT_MCP_BINDINGS = AGENT_TOOL_BINDINGS  # the same allow-list gates MCP-served tools
SPECIALISTS: tuple[AgentType, ...] = tuple(t for t in AGENT_SPECS if t is not AgentType.ORCHESTRATOR)
