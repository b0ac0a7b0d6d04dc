"""The offline analyst backend: a deterministic planner over the same tools an LLM would call.

Each turn it looks at what the transcript already holds and asks for the next useful tool call
(handoffs first for the orchestrator, then the alert, its techniques, events mentioning its
indicators, correlation, enrichment, fitting playbooks). When nothing useful is left it
concludes from :mod:`aurorasoc.agents.scoring` — or, for a delegating agent, merges what its
specialists returned.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from typing import Any

from aurorasoc.agents.llm import OFFLINE, ChatRequest, ChatTurn, ToolCall, ToolExchange
from aurorasoc.agents.scoring import Assessment, assess

MAX_PIVOTS = 3
SEVERITY_ORDER = ("info", "low", "medium", "high", "critical")
VERDICT_ORDER = ("benign", "suspicious", "malicious")
Call = tuple[str, dict[str, Any]]


class OfflineAnalyst:
    name = OFFLINE

    async def complete(self, request: ChatRequest) -> ChatTurn:
        available = {t["function"]["name"] for t in request.tools}
        done = {(ex.name, json.dumps(ex.arguments, sort_keys=True)) for ex in request.transcript}
        pending = [
            c
            for c in _candidates(request)
            if c[0] in available and (c[0], json.dumps(c[1], sort_keys=True)) not in done
        ]
        if not request.transcript and "think" in available:
            plan = ", ".join(dict.fromkeys(name for name, _ in pending)) or "conclude from the context"
            return _calls([("think", {"thought": f"Plan: {plan}"})])
        if pending:
            # like a model issuing parallel calls: every pending call of the next tool at once
            return _calls([c for c in pending if c[0] == pending[0][0]])
        return ChatTurn(content=json.dumps(conclude(request.transcript)), tool_calls=[])


def _calls(calls: list[Call]) -> ChatTurn:
    return ChatTurn(None, [ToolCall(f"call_{uuid.uuid4().hex[:12]}", name, args) for name, args in calls])


def _candidates(request: ChatRequest) -> Iterator[Call]:
    ctx = request.context
    if "plan" in ctx:  # a delegating agent only hands off, then merges
        for agent in ctx["plan"]:
            yield (
                f"handoff_{agent}",
                {"task": f"Investigate alert {ctx.get('alert_id')}: {ctx.get('title', '')}"},
            )
        return
    facts = assess(request.transcript)
    alert_id = ctx.get("alert_id")
    if alert_id:
        yield "search_alerts", {"alert_id": alert_id}
    iocs = sorted(facts.iocs | set(ctx.get("iocs", [])))[:MAX_PIVOTS]
    techniques = sorted(facts.techniques | set(ctx.get("mitre_techniques", [])))[:MAX_PIVOTS]
    for tid in techniques:
        yield "mitre_map", {"technique_id": tid}
        yield "mitre_attack_lookup", {"technique_id": tid}
    for ioc in iocs:
        if '"' not in ioc:
            yield "search_logs", {"q": f'"{ioc}"', "range": "7d", "limit": 10}
    for asset in facts.devices:
        yield "device_status", {"device_id": asset}
    if alert_id:
        yield "correlate_events", {"alert_id": alert_id}
    for ioc in iocs:
        yield "enrich_ioc", {"value": ioc}
    for base in sorted({t.split(".")[0] for t in techniques}):
        yield "list_playbooks", {"technique": base}


def conclude(transcript: list[ToolExchange]) -> dict[str, Any]:
    """An AgentResult built only from tool results (merged results when the agent delegated)."""
    handoffs = [ex for ex in transcript if ex.name.startswith("handoff_")]
    if handoffs:
        return merge_results(handoffs)
    facts = assess(transcript)
    if not facts.points:
        return _proposals(facts)
    return _result(facts)


def _proposals(facts: Assessment) -> dict[str, Any]:
    """No evidence of its own (a responder): only the playbooks that fit, as approval-gated proposals."""
    names = ", ".join(facts.playbooks) or "none"
    return {
        "summary": f"No evidence of its own; playbooks matching the techniques: {names} "
        "(proposals; each run needs human approval)",
        "confidence": 0.0,
        "recommendations": [
            f"If confirmed, run playbook {n} (needs human approval)" for n in facts.playbooks
        ],
        "proposed_actions": [
            {"action": "execute_playbook", "playbook": n, "requires_approval": True} for n in facts.playbooks
        ],
    }


def _result(facts: Assessment) -> dict[str, Any]:
    title = facts.alert["title"] if facts.alert else "the request"
    cited = "; ".join(f"{p.label} ({p.delta:+d}, {p.source})" for p in facts.points) or "no evidence found"
    recommendations, actions = _recommend(facts)
    return {
        "summary": f"Verdict {facts.verdict} (score {facts.score}/100) for {title}: {cited}",
        "severity": facts.severity,
        "confidence": facts.confidence,
        "mitre_techniques": sorted(facts.techniques),
        "iocs": sorted(facts.iocs),
        "recommendations": recommendations,
        "findings": [
            {"hypothesis": None, "evidence": f"{p.label} [{p.source}]", "confidence": facts.confidence}
            for p in facts.points
        ],
        "proposed_actions": actions,
        "verdict": facts.verdict,
        "score": facts.score,
    }


def _recommend(facts: Assessment) -> tuple[list[str], list[dict[str, Any]]]:
    assets = ", ".join(sorted(facts.iocs)) or "the affected assets"
    recs = {
        "malicious": [f"Escalate: contain {assets}"],
        "suspicious": [f"Keep investigating {assets}; gather host and network context"],
        "benign": ["Evidence is weak; consider resolving as benign after analyst review"],
    }[facts.verdict]
    actions = []
    if facts.verdict != "benign":
        for name in facts.playbooks:
            recs.append(f"Run playbook {name} (needs human approval)")
            actions.append({"action": "execute_playbook", "playbook": name, "requires_approval": True})
    return recs, actions


def merge_results(handoffs: list[ToolExchange]) -> dict[str, Any]:
    """Union indicators/techniques, average confidence over specialists that found evidence, keep
    the worst severity and verdict; proposals and skips are carried along."""
    ran = [(ex.name.removeprefix("handoff_"), ex.result) for ex in handoffs]
    results = [(agent, r["result"]) for agent, r in ran if isinstance(r.get("result"), dict)]
    notes = [
        f"{agent} skipped ({r.get('error', '')})" for agent, r in ran if not isinstance(r.get("result"), dict)
    ]
    evidence = [r for _, r in results if r.get("findings")]
    findings = [
        {**f, "evidence": f"{agent}: {f['evidence']}"} for agent, r in results for f in r.get("findings", [])
    ]
    merged: dict[str, Any] = {
        "summary": " | ".join([f"{agent}: {r.get('summary', '')}" for agent, r in results] + notes),
        "mitre_techniques": sorted({t for _, r in results for t in r.get("mitre_techniques", [])}),
        "iocs": sorted({i for _, r in results for i in r.get("iocs", [])}),
        "recommendations": list(dict.fromkeys(x for _, r in results for x in r.get("recommendations", []))),
        "findings": findings,
        "proposed_actions": [a for _, r in results for a in r.get("proposed_actions", [])],
    }
    if not evidence:
        return merged | {"confidence": 0.0, "verdict": "inconclusive"}
    verdicts = [r["verdict"] for r in evidence if r.get("verdict") in VERDICT_ORDER]
    return merged | {
        "severity": max((r.get("severity", "info") for r in evidence), key=SEVERITY_ORDER.index),
        "confidence": round(sum(float(r.get("confidence", 0)) for r in evidence) / len(evidence), 2),
        **({"verdict": max(verdicts, key=VERDICT_ORDER.index)} if verdicts else {}),
    }
