"""One agent's report from its evidence, and the orchestrator's merge of its specialists' reports.

The merge unions statements by key (no finding appears twice), unions signals and entities, and
recomputes verdict, confidence and recommendations with the same documented rules
(:mod:`aurorasoc.agents.scoring`), so the merged verdict rests on all the evidence at once.
Specialists that return no report (a model that ignored the format) fall back to their own
verdict and confidence.
"""

from __future__ import annotations

from typing import Any

from aurorasoc.agents.evidence_facts import Evidence
from aurorasoc.agents.llm import ToolExchange
from aurorasoc.agents.recommend import entities, recommend
from aurorasoc.agents.scoring import Signal, severity_for, signals, verdict
from aurorasoc.agents.statements import Statement, statements

VERDICT_ORDER = ("inconclusive", "benign", "suspicious", "malicious")
SUMMARY_CHARS = 4000


def _finding(s: Statement, confidence: float, agent: str = "") -> dict[str, Any]:
    cited = f"events {', '.join(s['event_ids'][:4])}" if s["event_ids"] else "no stored event"
    prefix = f"{agent}: " if agent else ""
    return {
        "hypothesis": None,
        "evidence": f"{prefix}{s['text']} [{s['source']}; {cited}]",
        "event_ids": s["event_ids"],
        "confidence": confidence,
    }


UNCHECKED_SCOPE = (
    "nothing beyond the alert's own events; this run did not look at the other alerts around it "
    "or where else its indicators occur"
)


def _summary(
    label: str, confidence: float, stmts: list[Statement], sigs: list[Signal], scope_checked: bool
) -> str:
    """Sections as paragraphs, one statement per line: an analyst scans it, never a wall of text.

    An empty basis says whether the scope was looked at: "no corroborating evidence found" after a
    run that never asked read as if a host with 75 other alerts had none."""
    parts = [f"Verdict {label} (confidence {confidence:.2f})."]
    for section, title in (
        ("what_happened", "What happened"),
        ("assessment", "Assessment"),
        ("attack", "Why it matters"),
        ("scope", "Scope"),
        ("intel", "Intelligence"),
    ):
        texts = [s["text"] for s in stmts if s["section"] == section]
        if texts:
            parts.append(f"{title}:\n" + "\n".join(f"- {text}" for text in texts))
    nothing = "no corroborating evidence found" if scope_checked else UNCHECKED_SCOPE
    basis = "; ".join(s["label"] for s in sigs) or nothing
    parts.append(f"Basis: {basis}.")
    return "\n\n".join(parts)[:SUMMARY_CHARS]


def _playbooks(ev: Evidence) -> list[str]:
    names = [p["name"] for _, r in ev.of("list_playbooks") for p in r.get("playbooks", [])]
    return list(dict.fromkeys(names))


def _nothing_found(ev: Evidence) -> str:
    """Why an agent has nothing to report. A responder that asked for playbooks and got none says
    so: "none of this agent's evidence could be read" suggested missing events."""
    asked = sorted({str(r["technique"]) for _, r in ev.of("list_playbooks") if r.get("technique")})
    if asked:
        return f"No playbook covers {', '.join(asked)}; containment, if any, is the analyst's call"
    return (
        "Inconclusive: none of this agent's evidence could be read (the alert's own events are not "
        "stored or the tools returned nothing)"
    )


def build_result(ev: Evidence, states: frozenset[str] | None) -> dict[str, Any]:
    stmts = statements(ev, states)
    sigs = signals(ev)
    events_read = bool(ev.anchors) and (states is None or "alert_events" in states)
    scope_checked = bool(ev.of("host_alerts") or ev.of("where_else"))
    playbooks = _playbooks(ev)
    ents = entities(ev)
    report = {
        "statements": stmts,
        "signals": sigs,
        "entities": ents,
        "playbooks": playbooks,
        "events_read": events_read,
        "scope_checked": scope_checked,
    }
    if not stmts and not sigs and not playbooks:
        return {
            "summary": _nothing_found(ev),
            "confidence": 0.0,
            "verdict": "inconclusive",
            "report": report,
        }
    if not stmts and not sigs:
        names = ", ".join(playbooks) or "none"
        return {
            "summary": f"No evidence of its own; playbooks matching the techniques: {names} "
            "(proposals; each run needs human approval)",
            "confidence": 0.0,
            "recommendations": [f"If confirmed, run playbook {n} (needs human approval)" for n in playbooks],
            "proposed_actions": [
                {"action": "execute_playbook", "playbook": n, "requires_approval": True} for n in playbooks
            ],
            "report": report,
        }
    return _result(stmts, sigs, ents, playbooks, report, events_read or bool(ev.anchors), scope_checked)


def _result(
    stmts: list[Statement],
    sigs: list[Signal],
    ents: dict[str, Any],
    playbooks: list[str],
    report: dict[str, Any],
    events_read: bool,
    scope_checked: bool,
    agent_of: dict[str, str] | None = None,
) -> dict[str, Any]:
    label, confidence = verdict(sigs, events_read=events_read, scope_checked=scope_checked)
    recs, actions = recommend(ents, label, playbooks)
    techniques = sorted(
        {k.removeprefix("attack:") for k in (s["key"] for s in stmts) if k.startswith("attack:")}
    )
    return {
        "summary": _summary(label, confidence, stmts, sigs, scope_checked),
        "severity": severity_for(label, confidence),
        "confidence": confidence,
        "mitre_techniques": techniques,
        "iocs": ents.get("indicators", []),
        "recommendations": recs,
        "findings": [_finding(s, confidence, (agent_of or {}).get(s["key"], "")) for s in stmts],
        "proposed_actions": actions,
        "verdict": label,
        "report": {
            **report,
            "verdict": label,
            "confidence": confidence,
            "statements": stmts,
            "signals": sigs,
        },
    }


def _merge_entities(reports: list[dict[str, Any]]) -> dict[str, Any]:
    common = {c for r in reports for c in r.get("entities", {}).get("common", [])}
    out: dict[str, Any] = {"common": sorted(common)}
    for key in ("hosts", "users", "indicators", "files"):
        values = [v for r in reports for v in r.get("entities", {}).get(key, [])]
        out[key] = [v for v in dict.fromkeys(values) if key != "indicators" or v.lower() not in common]
    return out


def merge_results(handoffs: list[ToolExchange]) -> dict[str, Any]:
    """Merge specialists' results: statements by key, signals by kind and label."""
    ran = [(ex.name.removeprefix("handoff_"), ex.result) for ex in handoffs]
    results = [(agent, r["result"]) for agent, r in ran if isinstance(r.get("result"), dict)]
    notes = [
        f"{agent} skipped ({r.get('error', '')})" for agent, r in ran if not isinstance(r.get("result"), dict)
    ]
    reports = [(agent, r["report"]) for agent, r in results if isinstance(r.get("report"), dict)]
    stmts: dict[str, Statement] = {}
    agent_of: dict[str, str] = {}
    for agent, rep in reports:
        for s in rep.get("statements", []):
            if s["key"] not in stmts:
                stmts[s["key"]], agent_of[s["key"]] = s, agent
    sigs = list({(s["kind"], s["label"]): s for _, rep in reports for s in rep.get("signals", [])}.values())
    if not stmts and not sigs:
        return _fallback(results, notes)
    ordered = sorted(stmts.values(), key=lambda s: (s["time"] or "9999", s["section"]))
    reps = [rep for _, rep in reports]
    playbooks = list(dict.fromkeys(p for rep in reps for p in rep.get("playbooks", [])))
    merged = _result(
        ordered,
        sigs,
        _merge_entities(reps),
        playbooks,
        {"entities": _merge_entities(reps), "playbooks": playbooks},
        any(rep.get("events_read") for rep in reps),
        any(rep.get("scope_checked") for rep in reps),
        agent_of,
    )
    merged["report"]["specialists"] = [agent for agent, _ in results]
    if notes:
        merged["summary"] = f"{merged['summary']} ({'; '.join(notes)})"
    return merged


def _fallback(results: list[tuple[str, dict[str, Any]]], notes: list[str]) -> dict[str, Any]:
    """Specialists without a report (free-form model answers): keep their own conclusions."""
    findings = list(
        {
            f.get("evidence"): {**f, "evidence": f"{a}: {f.get('evidence')}"}
            for a, r in results
            for f in r.get("findings", [])
        }.values()
    )
    merged: dict[str, Any] = {
        "summary": " | ".join([f"{a}: {r.get('summary', '')}" for a, r in results] + notes),
        "mitre_techniques": sorted({t for _, r in results for t in r.get("mitre_techniques", [])}),
        "iocs": sorted({i for _, r in results for i in r.get("iocs", [])}),
        "recommendations": list(dict.fromkeys(x for _, r in results for x in r.get("recommendations", []))),
        "findings": findings,
        "proposed_actions": [a for _, r in results for a in r.get("proposed_actions", [])],
    }
    evidence = [r for _, r in results if r.get("findings")]
    if not evidence:
        return merged | {"confidence": 0.0, "verdict": "inconclusive"}
    verdicts = [r["verdict"] for r in evidence if r.get("verdict") in VERDICT_ORDER]
    return merged | {
        "confidence": round(sum(float(r.get("confidence", 0)) for r in evidence) / len(evidence), 2),
        "verdict": max(verdicts, key=VERDICT_ORDER.index) if verdicts else "inconclusive",
    }
