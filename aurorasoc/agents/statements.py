"""Report statements: what happened, why it matters, where else — each citing its events.

A statement is ``{key, section, time, text, event_ids, source}``. ``key`` names the fact
(``event:<id>``, ``attack:<technique>``, ``chain:<guid>``…) so merged specialist findings never
repeat one another; ``event_ids`` are stored SIEM event ids, ``source`` the tool call.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import PureWindowsPath
from typing import Any

from aurorasoc.agents.evidence_facts import Evidence

Statement = dict[str, Any]
MAX_CMD = 240
MAX_RELATED = 8
WEB_SERVERS = frozenset({"w3wp.exe", "httpd.exe", "nginx.exe", "php-cgi.exe", "tomcat.exe", "tomcat9.exe"})
OFFICE = frozenset({"winword.exe", "excel.exe", "powerpnt.exe", "outlook.exe", "msaccess.exe", "mspub.exe"})
SHELLS = frozenset(
    {"cmd.exe", "powershell.exe", "pwsh.exe", "cscript.exe", "wscript.exe", "mshta.exe", "rundll32.exe"}
)


def base(path: object) -> str:
    return PureWindowsPath(str(path or "")).name.lower()


def _clip(text: object) -> str:
    value = " ".join(str(text).split())
    return value if len(value) <= MAX_CMD else value[:MAX_CMD] + "…"


def _when(iso: str | None) -> str:
    """An event time as an analyst reads it (``2019-03-17 19:09:41 UTC``); tools keep ISO 8601."""
    try:
        moment = datetime.fromisoformat(str(iso))
    except ValueError:
        return str(iso)
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%d %H:%M:%S UTC")


def _stmt(key: str, section: str, time: str | None, text: str, refs: list[str], source: str) -> Statement:
    return {"key": key, "section": section, "time": time, "text": text, "event_ids": refs, "source": source}


def describe(ev: dict[str, Any]) -> str:
    """One event in words: who did what on which host."""
    p, f, eid = ev.get("process", {}), ev.get("fields", {}), str(ev.get("event_id"))
    who = p.get("user") or ev.get("user") or f.get("SubjectUserName") or "an unknown user"
    if eid in ("1", "4688") and p:
        what = f"{who} started {p.get('image')}"
        what += f" (integrity {p['integrity']})" if p.get("integrity") else ""
        what += f" with command line `{_clip(p['command_line'])}`" if p.get("command_line") else ""
        if p.get("parent_image"):
            what += f"; parent process {p['parent_image']}"
            what += f" (`{_clip(p['parent_command_line'])}`)" if p.get("parent_command_line") else ""
    elif eid == "10":
        what = f"{p.get('image')} opened {f.get('TargetImage')} (access {f.get('GrantedAccess')})"
    elif eid == "11":
        what = f"{p.get('image')} wrote file {f.get('TargetFilename')}"
    elif eid in ("12", "13", "14"):
        what = f"{p.get('image')} changed registry {f.get('TargetObject')} {f.get('Details', '')}".strip()
    elif eid == "3":
        what = f"{p.get('image')} connected to {f.get('DestinationIp')}:{f.get('DestinationPort')}"
    elif eid in ("4728", "4732", "4756"):
        member = f.get("MemberName") or f.get("MemberSid")
        what = f"{who} added member {member} to group {f.get('TargetUserName')}"
    elif eid == "1102":
        what = f"{who} cleared the Security event log"
    elif eid == "104":
        what = f"{who} cleared an event log"
    else:
        said = _clip(ev.get("message") or f or p)
        what = f"event {eid}: {said}" if ev.get("event_id") else said
    # A web or network log names a client, not a host: say where from, never "host None".
    where = f" on host {ev['host']}" if ev.get("host") else ""
    client = f.get("c-ip")
    where += f" from {client}" if client else ""
    return f"{_when(ev['time'])}{where}: {what}"


def _related(ev: Evidence) -> list[dict[str, Any]]:
    """Surrounding events of the same process, its children or its parent."""
    guid = str(ev.process.get("guid", "")).lower()
    parent = str(ev.process.get("parent_guid", "")).lower()
    if not guid:
        return []
    out = []
    for e in ev.around:
        p = e.get("process", {})
        if guid in (str(p.get("guid", "")).lower(), str(p.get("parent_guid", "")).lower()) or (
            parent and str(p.get("guid", "")).lower() == parent
        ):
            out.append(e)
    return out[:MAX_RELATED]


def what_happened(ev: Evidence) -> Iterator[Statement]:
    src = ev.sources.get("anchors", "alert_events")
    for e in [*ev.anchors, *_related(ev)]:
        yield _stmt(f"event:{e['event_ref']}", "what_happened", e["time"], describe(e), [e["event_ref"]], src)
    yield from web_shell(ev, src)


def web_shell(ev: Evidence, src: str) -> Iterator[Statement]:
    p, user = ev.process, str(ev.user or "")
    parent, image = base(p.get("parent_image")), base(p.get("image"))
    if user.upper().startswith("IIS APPPOOL\\") or (parent in WEB_SERVERS and image in SHELLS):
        text = (
            f"Likely web shell: {p.get('image')} ran as {user or 'the web server account'} under the "
            f"web server process {p.get('parent_image')} on {ev.host}"
        )
        yield _stmt("flag:web_shell", "assessment", ev.first_time, text, ev.anchor_refs, src)
    if parent in OFFICE and image in SHELLS:
        text = f"Office application {p.get('parent_image')} spawned {p.get('image')}"
        text += ": likely a malicious document"
        yield _stmt("flag:office_shell", "assessment", ev.first_time, text, ev.anchor_refs, src)


def attack(ev: Evidence) -> Iterator[Statement]:
    rule = (ev.alert or {}).get("title", "the alert")
    for tid, tech in sorted(ev.techniques.items()):
        tactics = ", ".join(tech.get("tactics", [])) or "no tactic listed"
        where = f" on {ev.host}" if ev.host else ""
        text = f"{rule}{where} maps to ATT&CK {tid} {tech.get('name')} (tactic: {tactics})"
        yield _stmt(
            f"attack:{tid}", "attack", ev.first_time, text, ev.anchor_refs, ev.sources[f"technique:{tid}"]
        )


def chain(ev: Evidence) -> Iterator[Statement]:
    for src, tree in ev.of("process_tree"):
        proc = tree.get("process")
        if not proc:
            continue
        nodes = [*reversed(tree.get("ancestors", [])), proc]
        links = " → ".join(
            f"{base(n.get('image'))}" + ("" if n.get("stored", True) else " (not stored)") for n in nodes
        )
        refs = [n["event_ref"] for n in nodes if n.get("event_ref")]
        kids = [c for c in tree.get("children", [])]
        if len(nodes) > 1:
            text, who = f"Process chain on {tree.get('host')}: {links}", base(proc.get("image"))
        else:  # read "chain: x.exe; x.exe ran with …" when no parent was stored
            text, who = (
                f"Process on {tree.get('host')}: {links}, its parent not among the stored events",
                "it",
            )
        if proc.get("integrity"):
            text += f"; {who} ran with {proc['integrity']} integrity as {proc.get('user')}"
        if kids:
            text += "; children: " + ", ".join(
                f"{base(c.get('image'))} (`{_clip(c.get('command_line', ''))}`)" for c in kids[:5]
            )
            refs += [c["event_ref"] for c in kids[:5]]
        yield _stmt(
            f"chain:{proc.get('guid') or proc.get('pid')}", "what_happened", proc.get("time"), text, refs, src
        )


def rarity(ev: Evidence) -> Iterator[Statement]:
    for src, r in ev.of("prevalence"):
        hosts = ", ".join(r.get("hosts", [])) or "no host"
        kind = "common" if r.get("common") else "rare"
        text = (
            f"`{_clip(r['value'])}` is {kind}: {r.get('events')} run(s) on {hosts}, "
            f"first seen {_when(r.get('first_seen'))}"
            + (f" ({r['common_reason']})" if r.get("common_reason") else "")
        )
        refs = [r["first_event_ref"]] if r.get("first_event_ref") else []
        yield _stmt(f"prevalence:{r['value'].lower()}", "scope", r.get("first_seen"), text, refs, src)


HOST_ALERT_STATEMENTS = 8  # one per rule, earliest first; the rest are counted


def _host_alerts(r: dict[str, Any], src: str) -> Iterator[Statement]:
    """Other detections on the host: the first of each rule, then how many there are in all."""
    alerts, host = r.get("alerts", []), r.get("host")
    where = r.get("where") or f"on {host}"
    firsts = list({a["title"]: a for a in reversed(alerts)}.values())[::-1]
    for a in firsts[:HOST_ALERT_STATEMENTS]:
        tactics = ", ".join(a.get("tactics", [])) or "no tactic"
        text = f"Also {where} at {_when(a['first_event_at'])}: alert '{a['title']}' ({tactics})"
        yield _stmt(f"host_alert:{a['id']}", "scope", a["first_event_at"], text, a["event_refs"], src)
    total = r.get("total", len(alerts))
    if total > min(len(firsts), HOST_ALERT_STATEMENTS):
        refs = [ref for a in alerts for ref in a["event_refs"]][:10]
        rules = f"at least {len(firsts)}" if total > len(alerts) else str(len(firsts))
        text = f"{total} other alert(s) {where} within the window, from {rules} rule(s)"
        first = alerts[0]["first_event_at"] if alerts else None
        yield _stmt(f"host_alerts:{host or r.get('source_address')}", "scope", first, text, refs, src)


def scope(ev: Evidence) -> Iterator[Statement]:
    for src, r in ev.of("host_alerts"):
        yield from _host_alerts(r, src)
    for src, r in ev.of("where_else"):
        if r.get("common"):
            continue
        others = sorted({str(x["host"]) for x in r.get("elsewhere", []) if x.get("host")})
        where = f"also seen on {', '.join(others)}" if others else "seen on no other host"
        refs = [x["event_ref"] for x in r.get("elsewhere", [])][:5] or (
            [r["first_event_ref"]] if r.get("first_event_ref") else []
        )
        yield _stmt(
            f"where_else:{r['value'].lower()}",
            "scope",
            r.get("first_seen"),
            f"Indicator {r['value']} {where}",
            refs,
            src,
        )
    for src, r in [*ev.of("user_timeline"), *ev.of("logon_sessions")]:
        events = r.get("events") or r.get("sessions") or []
        if not events:
            continue
        hosts = sorted({str(e["host"]) for e in events if e.get("host")})
        text = f"User {r['user']}: {len(events)} event(s) in the window on {', '.join(hosts) or 'no host'}"
        refs = [e["event_ref"] for e in events[:5]]
        yield _stmt(f"user:{r['user'].lower()}:{src.split('#')[0]}", "scope", ev.first_time, text, refs, src)


def intel(ev: Evidence) -> Iterator[Statement]:
    for src, r in ev.of("enrich_ioc"):
        ioc = r.get("ioc")
        if ioc:
            text = f"{ioc['value']} is a known {ioc['status']} IOC (confidence {ioc['confidence']:.2f})"
            yield _stmt(f"ioc:{ioc['value'].lower()}", "intel", None, text, [], src)
        for case in (r.get("similar_cases") or [])[:2]:
            yield _past_case(case, src)
    for src, r in ev.of("correlate_events"):
        for case in (r.get("similar_cases") or [])[:2]:
            yield _past_case(case, src)
    for src, r in ev.of("device_status"):
        d = r["device"]
        text = f"device {d['device_id']} attestation {d['attestation_status']}, trusted={d['trusted']}"
        text += f", health {d['health']}"
        yield _stmt(f"device:{d['device_id']}", "scope", None, text, [], src)


def _past_case(case: dict[str, Any], src: str) -> Statement:
    benign = is_benign_case(case)
    text = f"similar closed case '{case['title']}' ({'benign' if benign else 'confirmed'})"
    if case.get("score") is not None:
        text += f", {case.get('match', 'indicator')} match, score {case['score']}"
    return _stmt(f"case:{case.get('id') or case['title']}", "intel", None, text, [], src)


def is_benign_case(case: dict[str, Any]) -> bool:
    notes = (case.get("resolution_notes") or "").lower()
    return any(w in notes for w in ("false positive", "benign", "authorized", "authorised"))


BUILDERS: dict[str, Callable[[Evidence], Iterator[Statement]]] = {
    "alert_events": what_happened,
    "mitre_map": attack,
    "mitre_attack_lookup": attack,
    "process_tree": chain,
    "prevalence": rarity,
    "host_alerts": scope,
    "where_else": scope,
    "user_timeline": scope,
    "logon_sessions": scope,
    "enrich_ioc": intel,
    "correlate_events": intel,
    "device_status": intel,
}


def statements(ev: Evidence, states: frozenset[str] | None = None) -> list[Statement]:
    """Statements from the tools this agent answers for (``None``: all), deduplicated by key."""
    builders = dict.fromkeys(b for name, b in BUILDERS.items() if states is None or name in states)
    out: dict[str, Statement] = {}
    for build in builders:
        for s in build(ev):
            out.setdefault(s["key"], s)
    return sorted(out.values(), key=lambda s: (s["time"] or "9999", s["section"]))
