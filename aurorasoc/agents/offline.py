"""The offline analyst backend: a deterministic planner over the same tools an LLM would call.

Each turn it looks at what the transcript already holds and asks for the next useful tool call
for its agent's question (:mod:`aurorasoc.agents.questions`): the alert and its own events, the
ATT&CK technique, the process tree and prevalence, other detections and indicator spread, the
user's activity, enrichment, fitting playbooks. When nothing useful is left it writes the report
(:mod:`aurorasoc.agents.statements`) and the verdict (:mod:`aurorasoc.agents.scoring`) — or, for
a delegating agent, merges what its specialists returned.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from typing import Any

from aurorasoc.agents.evidence_facts import Evidence, gather
from aurorasoc.agents.llm import OFFLINE, ChatRequest, ChatTurn, ToolCall, ToolExchange
from aurorasoc.agents.merge import build_result, merge_results
from aurorasoc.agents.questions import question_for
from aurorasoc.agents.tools.entities import in_system_dir
from aurorasoc.intel.extraction import internal_address

MAX_PIVOTS = 3
USER_WINDOW_MINUTES = 60
Call = tuple[str, dict[str, Any]]

__all__ = ["OfflineAnalyst", "conclude", "merge_results"]


class OfflineAnalyst:
    name = OFFLINE

    async def complete(self, request: ChatRequest) -> ChatTurn:
        available = {t["function"]["name"] for t in request.tools}
        question = question_for(request.agent)
        if question is not None and "plan" not in request.context:
            available &= question.tools | {"think"}
        done = {(ex.name, json.dumps(ex.arguments, sort_keys=True)) for ex in request.transcript}
        pending = [
            c
            for c in _candidates(request)
            if c[0] in available and (c[0], json.dumps(c[1], sort_keys=True)) not in done
        ]
        if not request.transcript and "think" in available:
            plan = ", ".join(dict.fromkeys(name for name, _ in pending)) or "conclude from the context"
            asked = f"{question.text} " if question else ""
            return _calls([("think", {"thought": f"{asked}Plan: {plan}"})])
        if pending:
            # like a model issuing parallel calls: every pending call of the next tool at once
            return _calls([c for c in pending if c[0] == pending[0][0]])
        states = question.states if question and "plan" not in request.context else None
        return ChatTurn(content=json.dumps(conclude(request.transcript, states)), tool_calls=[])


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
    ev = gather(request.transcript)
    alert_id = ctx.get("alert_id")
    if alert_id:
        yield "search_alerts", {"alert_id": alert_id}
        yield "alert_events", {"alert_id": alert_id, "window_minutes": 10}
    techniques = sorted(
        set((ev.alert or {}).get("mitre_techniques", [])) | set(ctx.get("mitre_techniques", []))
    )
    for tid in techniques[:MAX_PIVOTS]:
        yield "mitre_map", {"technique_id": tid}
        yield "mitre_attack_lookup", {"technique_id": tid}
    yield from _endpoint(ev)
    if alert_id:
        yield "host_alerts", {"alert_id": alert_id, "window_minutes": 60}
    iocs = _pivots(ev, ctx)
    for ioc in iocs:
        yield "where_else", {"value": ioc, **({"exclude_host": ev.host} if ev.host else {})}
    if ev.user and ev.first_time:
        span = {"user": ev.user, "around": ev.first_time, "window_minutes": USER_WINDOW_MINUTES}
        yield "user_timeline", span
        yield "logon_sessions", span
    for asset in (ev.alert or {}).get("affected_assets", []):
        if str(asset).startswith("device:"):
            yield "device_status", {"device_id": asset.removeprefix("device:")}
    if alert_id:
        yield "correlate_events", {"alert_id": alert_id}
    for ioc in iocs:
        yield "enrich_ioc", {"value": ioc}
    for tid in sorted({t.split(".")[0] for t in techniques}):
        yield "list_playbooks", {"technique": tid}


def _endpoint(ev: Evidence) -> Iterator[Call]:
    p = ev.process
    if ev.host and ev.first_time and (p.get("guid") or p.get("pid")):
        ref = {"process_guid": p["guid"]} if p.get("guid") else {"pid": str(p["pid"])}
        yield "process_tree", {"host": ev.host, "around": ev.first_time, **ref}
    if p.get("command_line"):
        yield "prevalence", {"value": str(p["command_line"])[:1000]}
    if p.get("image") and not in_system_dir(p["image"]):
        yield "prevalence", {"value": str(p["image"])[:1000]}


def _pivots(ev: Evidence, ctx: dict[str, Any]) -> list[str]:
    """Indicators worth pivoting on: the alert's, minus OS-binary hashes and private addresses."""
    values = list(dict.fromkeys([*ev.iocs, *ctx.get("iocs", [])]))
    if in_system_dir(ev.process.get("image")) and ev.anchors:
        values = [v for v in values if not _is_hash(v)]
    return [v for v in values if not internal_address(v) and '"' not in v][:MAX_PIVOTS]


def _is_hash(value: str) -> bool:
    return len(value) in (32, 40, 64) and all(c in "0123456789abcdefABCDEF" for c in value)


def conclude(transcript: list[ToolExchange], states: frozenset[str] | None = None) -> dict[str, Any]:
    """An AgentResult built only from tool results (merged results when the agent delegated)."""
    handoffs = [ex for ex in transcript if ex.name.startswith("handoff_")]
    if handoffs:
        return merge_results(handoffs)
    return build_result(gather(transcript), states)
