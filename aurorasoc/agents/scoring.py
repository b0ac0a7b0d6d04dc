"""Explicit scoring rules of the offline analyst: evidence from tool results → verdict.

Every point cites the tool call it came from (``search_alerts#1``), so the conclusion is
traceable to data, never canned. Score 0-100: ≥ 55 malicious, ≥ 35 suspicious, else benign.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from aurorasoc.agents.llm import ToolExchange

SEVERITY_POINTS = {"critical": 40, "high": 30, "medium": 20, "low": 10, "info": 5}
HIGH_IMPACT_TACTICS = frozenset(
    {
        "credential-access",
        "lateral-movement",
        "exfiltration",
        "impact",
        "command-and-control",
        "privilege-escalation",
    }
)
BENIGN_WORDS = ("false positive", "benign", "authorized", "authorised")


@dataclass(frozen=True)
class Point:
    label: str
    delta: int
    source: str


@dataclass
class Assessment:
    points: list[Point] = field(default_factory=list)
    alert: dict[str, Any] | None = None
    iocs: set[str] = field(default_factory=set)
    techniques: set[str] = field(default_factory=set)
    playbooks: list[str] = field(default_factory=list)
    devices: list[str] = field(default_factory=list)  # ``device:<id>`` assets of the alert

    @property
    def score(self) -> int:
        return max(0, min(100, sum(p.delta for p in self.points)))

    @property
    def verdict(self) -> str:
        return "malicious" if self.score >= 55 else "suspicious" if self.score >= 35 else "benign"

    @property
    def severity(self) -> str:
        s = self.score
        return (
            "critical"
            if s >= 75
            else "high"
            if s >= 55
            else "medium"
            if s >= 35
            else "low"
            if s >= 15
            else "info"
        )

    @property
    def confidence(self) -> float:
        return round(min(0.9, 0.3 + 0.08 * len(self.points)), 2)


def assess(transcript: list[ToolExchange]) -> Assessment:
    """Fold every successful tool result into scoring points."""
    out = Assessment()
    counts: dict[str, int] = {}
    for ex in transcript:
        counts[ex.name] = counts.get(ex.name, 0) + 1
        if ex.result.get("status") not in ("ok", "approval_required"):
            continue
        rule = _RULES.get(ex.name)
        if rule is not None:
            rule(out, ex.result, f"{ex.name}#{counts[ex.name]}")
    return out


def _alerts(out: Assessment, result: dict[str, Any], src: str) -> None:
    if out.alert is not None or not result.get("alerts"):
        return
    alert = out.alert = result["alerts"][0]
    out.iocs.update(alert["iocs"])
    out.techniques.update(alert["mitre_techniques"])
    out.devices.extend(
        a.removeprefix("device:") for a in alert.get("affected_assets", []) if a.startswith("device:")
    )
    out.points.append(
        Point(f"alert severity {alert['severity']}", SEVERITY_POINTS.get(alert["severity"], 5), src)
    )
    if (n := int(alert.get("occurrence_count") or 1)) > 1:
        out.points.append(Point(f"seen {n} times", min(15, 3 * (n - 1)), src))


def _technique(out: Assessment, result: dict[str, Any], src: str) -> None:
    tech = result["technique"]
    out.techniques.add(tech["id"])
    out.points.append(Point(f"ATT&CK {tech['id']} {tech['name']}", 5, src))
    risky = HIGH_IMPACT_TACTICS.intersection(tech["tactics"])
    if risky and not any(p.label.startswith("high-impact tactic") for p in out.points):
        out.points.append(Point(f"high-impact tactic {', '.join(sorted(risky))}", 10, src))


def _logs(out: Assessment, result: dict[str, Any], src: str) -> None:
    if total := int(result.get("total") or 0):
        out.points.append(Point(f"{total} stored events mention the indicator", min(10, total), src))


def _correlate(out: Assessment, result: dict[str, Any], src: str) -> None:
    if related := result.get("related_alerts"):
        out.points.append(
            Point(
                f"{len(related)} related alerts share indicators or techniques",
                min(15, 5 * len(related)),
                src,
            )
        )
    _past_cases(out, result.get("similar_cases") or [], src)


def _past_cases(out: Assessment, cases: list[dict[str, Any]], src: str) -> None:
    for case in cases[:2]:
        notes = (case.get("resolution_notes") or "").lower()
        benign = any(word in notes for word in BENIGN_WORDS)
        label = f"similar closed case '{case['title']}' ({'benign' if benign else 'confirmed'})"
        out.points.append(Point(label, -10 if benign else 5, src))


def _enrich(out: Assessment, result: dict[str, Any], src: str) -> None:
    ioc = result.get("ioc")
    out.iocs.add(result["value"])
    if ioc is None:
        return
    if ioc["status"] in ("false_positive", "expired"):
        out.points.append(Point(f"{ioc['value']} is {ioc['status']} in the IOC store", -10, src))
    elif ioc["confidence"] >= 0.7:
        out.points.append(
            Point(
                f"{ioc['value']} is a known {ioc['status']} IOC (confidence {ioc['confidence']:.2f})", 10, src
            )
        )
    _past_cases(out, result.get("similar_cases") or [], src)


def _device(out: Assessment, result: dict[str, Any], src: str) -> None:
    device = result["device"]
    if device["attestation_status"] == "failed" or not device["trusted"]:
        state = f"attestation {device['attestation_status']}, trusted={device['trusted']}"
        out.points.append(Point(f"device {device['device_id']} {state}", 10, src))
    if device["health"] in ("critical", "offline"):
        out.points.append(Point(f"device {device['device_id']} health {device['health']}", 5, src))


def _playbooks(out: Assessment, result: dict[str, Any], src: str) -> None:
    out.playbooks.extend(p["name"] for p in result["playbooks"] if p["name"] not in out.playbooks)


_RULES = {
    "search_alerts": _alerts,
    "mitre_map": _technique,
    "mitre_attack_lookup": _technique,
    "search_logs": _logs,
    "correlate_events": _correlate,
    "enrich_ioc": _enrich,
    "list_playbooks": _playbooks,
    "device_status": _device,
}
