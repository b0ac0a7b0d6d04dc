"""The distinct question each specialist answers in an investigation, and the tools it answers
from. ``reads`` are tools it may call for context (the alert and its events); ``states`` are the
tools whose results it reports — so no two specialists report the same finding."""

from __future__ import annotations

from dataclasses import dataclass

from aurorasoc.core.vocabulary import AgentType

A = AgentType
ANCHOR = ("search_alerts", "alert_events")


@dataclass(frozen=True)
class Question:
    text: str
    reads: tuple[str, ...]
    states: frozenset[str]

    @property
    def tools(self) -> frozenset[str]:
        return frozenset(self.reads) | self.states


def _q(text: str, *states: str, reads: tuple[str, ...] = ANCHOR) -> Question:
    return Question(text, reads, frozenset(states))


QUESTIONS: dict[AgentType, Question] = {
    A.SECURITY_ANALYST: _q(
        "What happened, on which host, by which user, and which ATT&CK technique and tactic is it?",
        "alert_events",
        "mitre_map",
    ),
    A.ENDPOINT_SECURITY: _q(
        "Which process chain ran it, with which integrity, and is the executable or command line rare?",
        "process_tree",
        "prevalence",
    ),
    A.THREAT_HUNTER: _q(
        "Where else and what else: other detections on the host, other hosts with the same "
        "indicators, and what the user did around that time?",
        "host_alerts",
        "where_else",
        "user_timeline",
        "logon_sessions",
    ),
    A.THREAT_INTEL: _q(
        "What is already known about the alert's indicators (IOC store, similar past cases)?",
        "enrich_ioc",
        "correlate_events",
    ),
    A.CPS_SECURITY: _q(
        "Is a device or physical process affected?", "device_status", reads=("search_alerts",)
    ),
    A.INCIDENT_RESPONDER: _q(
        "Which containment fits, and which playbooks apply (proposals only)?", "list_playbooks", reads=()
    ),
}


def question_for(agent: str) -> Question | None:
    try:
        return QUESTIONS.get(AgentType(agent))
    except ValueError:
        return None


def plan_for(
    *, has_alert: bool, has_process: bool, has_entities: bool, has_iocs: bool, cps: bool
) -> list[AgentType]:
    """Whom the orchestrator asks, from the alert's entities and techniques (responder last)."""
    steps = [A.SECURITY_ANALYST] if has_alert else []
    if has_process:
        steps.append(A.ENDPOINT_SECURITY)
    if has_entities or has_iocs:
        steps.append(A.THREAT_HUNTER)
    if has_iocs:
        steps.append(A.THREAT_INTEL)
    if cps:
        steps.append(A.CPS_SECURITY)
    return [*steps, A.INCIDENT_RESPONDER]
