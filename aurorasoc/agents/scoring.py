"""Verdict and confidence of the offline analyst, from the evidence found (never the rule's severity).

Signals are facts read from tool results, each citing stored events or the tool call:

* corroborating — the alert's process did more (``follow_on``: wrote files, opened processes,
  connected, started children), a web server or Office application spawned a shell
  (``web_shell`` / ``office_shell``), an encoded or obfuscated command line (``obfuscation``), other
  detections with a different rule on the same host within the window (``other_detections``), the
  indicator on other hosts (``spread``), a known IOC with confidence ≥ 0.7 (``known_ioc``), a
  confirmed similar case (``confirmed_case``; a ``weak`` memory match is shown, never evidence),
  a device failing attestation (``device``);
* contradicting — a similar case closed as benign (``benign_case``), an indicator marked false
  positive or expired (``ioc_cleared``).

Verdict: ``inconclusive`` when neither the alert's own events nor any signal could be read;
``benign`` when only contradicting signals exist; ``malicious`` when at least one corroborating
signal exists (``suspicious`` instead if contradicted too); otherwise ``suspicious`` (the detection
is confirmed by its events but nothing corroborates it).

Confidence = 0.20 + 0.25 if the alert's own events were read + 0.15 per distinct corroborating kind
(at most three count) + 0.05 when scope was checked - 0.15 per contradicting kind, clamped to
[0.05, 0.95]; an inconclusive verdict never exceeds 0.30.
"""

from __future__ import annotations

import re
from typing import Any

from aurorasoc.agents.evidence_facts import Evidence
from aurorasoc.agents.statements import OFFICE, SHELLS, WEB_SERVERS, _related, base, is_benign_case

Signal = dict[str, Any]
CORROBORATING = frozenset(
    {
        "follow_on",
        "web_shell",
        "office_shell",
        "obfuscation",
        "other_detections",
        "spread",
        "known_ioc",
        "confirmed_case",
        "device",
    }
)
CONTRADICTING = frozenset({"benign_case", "ioc_cleared"})
FOLLOW_ON_EVENTS = frozenset({"3", "8", "10", "11", "12", "13", "14", "15", "22"})
INTERPRETERS = frozenset({"cmd.exe", "powershell.exe", "pwsh.exe"})
OBFUSCATED = re.compile(r"\s-(e|en|enc|enco|encodedcommand)\s|frombase64string|\^.*\^", re.IGNORECASE)


def _sig(kind: str, label: str, refs: list[str] | None = None, source: str = "") -> Signal:
    return {"kind": kind, "label": label, "event_ids": refs or [], "source": source}


def signals(ev: Evidence) -> list[Signal]:
    out = _process_signals(ev)
    title = (ev.alert or {}).get("title")
    for src, r in ev.of("host_alerts"):
        others = [a for a in r.get("alerts", []) if a["title"] != title]
        if others:
            refs = [ref for a in others for ref in a["event_refs"]][:10]
            where = r.get("where") or f"on {r.get('host')}"
            label = f"{r.get('total', len(others))} other alert(s) {where} within the window"
            out.append(_sig("other_detections", label, refs, src))
    for src, r in ev.of("where_else"):
        hosts = {x.get("host") for x in r.get("elsewhere", [])} - {ev.host}
        if not r.get("common") and hosts - {None}:
            out.append(_sig("spread", f"{r['value']} on {len(hosts)} other host(s)", [], src))
    out += _intel_signals(ev)
    return out


def _process_signals(ev: Evidence) -> list[Signal]:
    out: list[Signal] = []
    p, src, refs = ev.process, ev.sources.get("anchors", ""), ev.anchor_refs
    parent, image = base(p.get("parent_image")), base(p.get("image"))
    if str(ev.user or "").upper().startswith("IIS APPPOOL\\") or (parent in WEB_SERVERS and image in SHELLS):
        out.append(_sig("web_shell", f"{image} under web server {parent or ev.user}", refs, src))
    if parent in OFFICE and image in SHELLS:
        out.append(_sig("office_shell", f"{parent} spawned {image}", refs, src))
    if OBFUSCATED.search(f" {p.get('command_line', '')} "):
        out.append(_sig("obfuscation", "encoded or obfuscated command line", refs, src))
    follow = [e for e in _related(ev) if e["event_ref"] not in refs and _is_follow_on(e, p)]
    if follow:
        out.append(
            _sig(
                "follow_on",
                f"the process did {len(follow)} more thing(s)",
                [e["event_ref"] for e in follow],
                src,
            )
        )
    return out


def _is_follow_on(e: dict[str, Any], proc: dict[str, Any]) -> bool:
    """What the process did beyond starting: opened a process, wrote a file or registry value,
    connected out, or started a child — except a command interpreter's child, which is just the
    command it was given."""
    guid = str(proc.get("guid", "")).lower()
    own = e.get("process", {})
    if str(own.get("guid", "")).lower() == guid:
        return str(e.get("event_id")) in FOLLOW_ON_EVENTS
    is_child = str(own.get("parent_guid", "")).lower() == guid
    return is_child and base(proc.get("image")) not in INTERPRETERS


def _intel_signals(ev: Evidence) -> list[Signal]:
    out: list[Signal] = []
    for src, r in ev.of("enrich_ioc"):
        ioc = r.get("ioc")
        if ioc and ioc["status"] in ("false_positive", "expired"):
            out.append(_sig("ioc_cleared", f"{ioc['value']} is {ioc['status']}", [], src))
        elif ioc and ioc["confidence"] >= 0.7:
            out.append(_sig("known_ioc", f"{ioc['value']} is a known {ioc['status']} IOC", [], src))
    for src, r in [*ev.of("enrich_ioc"), *ev.of("correlate_events")]:
        for case in [c for c in r.get("similar_cases") or [] if c.get("match", "indicator") != "weak"][:2]:
            kind = "benign_case" if is_benign_case(case) else "confirmed_case"
            out.append(_sig(kind, f"similar closed case '{case['title']}'", [], src))
    for src, r in ev.of("device_status"):
        d = r["device"]
        if d["attestation_status"] == "failed" or not d["trusted"] or d["health"] in ("critical", "offline"):
            out.append(
                _sig("device", f"device {d['device_id']} attestation {d['attestation_status']}", [], src)
            )
    return out


def verdict(found: list[Signal], *, events_read: bool, scope_checked: bool) -> tuple[str, float]:
    """The documented rule of the module docstring."""
    pro = {s["kind"] for s in found if s["kind"] in CORROBORATING}
    con = {s["kind"] for s in found if s["kind"] in CONTRADICTING}
    if not events_read and not pro and not con:
        return "inconclusive", 0.2
    if con and not pro:
        label = "benign"
    elif pro:
        label = "suspicious" if con else "malicious"
    else:
        label = "suspicious"
    score = 0.2 + (0.25 if events_read else 0) + 0.15 * min(3, len(pro)) + (0.05 if scope_checked else 0)
    return label, round(max(0.05, min(0.95, score - 0.15 * len(con))), 2)


def severity_for(label: str, confidence: float) -> str:
    if label == "malicious":
        return "critical" if confidence >= 0.8 else "high"
    return {"suspicious": "medium", "benign": "low"}.get(label, "info")
