"""Approval policy (spec §15.4): which actions need a human, at what risk, and who may decide.

The policy only ever *adds* approvals: a playbook may ask for more, never for less.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from aurorasoc.core.vocabulary import ActionClass, PlaybookStep, Severity


class Impact(str, Enum):
    READ_ONLY = "read_only"
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    IRREVERSIBLE = "irreversible"


IMPACT_BY_ACTION: dict[str, Impact] = {
    "collect_forensics": Impact.READ_ONLY,
    "notify": Impact.LOW,
    "block_ip": Impact.MEDIUM,
    "run_scan": Impact.MEDIUM,
    "enrich_ioc": Impact.MEDIUM,
    "isolate_host": Impact.HIGH,
    "disable_user": Impact.HIGH,
    "isolate_conduit": Impact.HIGH,
    "device_lockdown": Impact.HIGH,
    "revoke_certificate": Impact.IRREVERSIBLE,
    "revoke_device": Impact.IRREVERSIBLE,
    "delete_data": Impact.IRREVERSIBLE,
}
# Actions the table does not name are judged by their class.
IMPACT_BY_CLASS = {
    ActionClass.READ: Impact.READ_ONLY,
    ActionClass.WRITE_INTERNAL: Impact.LOW,
    ActionClass.WRITE_EXTERNAL: Impact.MEDIUM,
    ActionClass.ACTUATE: Impact.HIGH,
    ActionClass.DESTRUCTIVE: Impact.IRREVERSIBLE,
}
_RISK_BY_CLASS = {
    ActionClass.DESTRUCTIVE: Severity.CRITICAL,
    ActionClass.ACTUATE: Severity.HIGH,
    ActionClass.WRITE_EXTERNAL: Severity.MEDIUM,
}
_RISK_LADDER = (Severity.LOW, Severity.MEDIUM, Severity.HIGH, Severity.CRITICAL)


@dataclass(frozen=True)
class Verdict:
    required: bool
    escalated: bool
    risk_level: Severity
    impact: Impact


def impact_of(action: str, action_class: ActionClass) -> Impact:
    return IMPACT_BY_ACTION.get(action, IMPACT_BY_CLASS[action_class])


def risk_level(action_class: ActionClass, critical_asset: bool) -> Severity:
    """destructive → critical, actuate → high, write_external → medium, else low; +1 on a critical asset."""
    base = _RISK_BY_CLASS.get(action_class, Severity.LOW)
    index = _RISK_LADDER.index(base) + (1 if critical_asset else 0)
    return _RISK_LADDER[min(index, len(_RISK_LADDER) - 1)]


def evaluate(action: str, action_class: ActionClass, *, critical_asset: bool) -> Verdict:
    impact = impact_of(action, action_class)
    required = impact in {Impact.HIGH, Impact.IRREVERSIBLE} or (impact is Impact.MEDIUM and critical_asset)
    return Verdict(
        required=required,
        escalated=impact is Impact.IRREVERSIBLE,
        risk_level=risk_level(action_class, critical_asset),
        impact=impact,
    )


def step_needs_approval(step: PlaybookStep, verdict: Verdict) -> bool:
    """A step is gated when it asks for it, when the policy demands it, or when it cannot be undone."""
    return step.requires_approval or verdict.required or step.rollback_action == "none"
