"""Recommended actions that target hosts, users and indicators — never a common observable.

Common (spec §27.3): anything a tool reported as common, hashes of the alert's process when its
image lives under the operating system's directory, private/loopback addresses, the host's name.
Files the alert's own process wrote (a dump, a dropped payload) are targets wherever they live.
Built-in service identities (``NT AUTHORITY\\…``, ``IIS APPPOOL\\…``) are not disabled; the web
root is inspected instead.
"""

from __future__ import annotations

import re
from typing import Any

from aurorasoc.agents.evidence_facts import Evidence
from aurorasoc.agents.tools.entities import HASH, in_system_dir
from aurorasoc.intel.extraction import internal_address

BUILTIN_USER = re.compile(
    r"^(nt authority|iis apppool|font driver host|window manager)\\|^(system|local service|network service)$",
    re.IGNORECASE,
)
IPV4 = re.compile(r"^\d{1,3}(\.\d{1,3}){3}$")


def entities(ev: Evidence) -> dict[str, Any]:
    """Who and what the evidence names, split into targets and common observables."""
    common = set(ev.common)
    if in_system_dir(ev.process.get("image")):
        common |= {i.lower() for i in ev.iocs if HASH.match(i)}
    if ev.host:
        common.add(ev.host.lower())
    indicators = [
        i for i in ev.iocs if i.lower() not in common and not internal_address(i) and not in_system_dir(i)
    ]
    files = sorted(
        {
            str(e["fields"]["TargetFilename"])
            for e in ev.around
            if e.get("fields", {}).get("TargetFilename")
            and str(e["fields"]["TargetFilename"]).lower() not in common
            and e.get("process", {}).get("guid") == ev.process.get("guid")
        }
    )
    return {
        "hosts": [ev.host] if ev.host else [],
        "users": [ev.user] if ev.user else [],
        "indicators": indicators,
        "files": files,
        "common": sorted(common),
        "process": {k: ev.process.get(k) for k in ("image", "pid", "guid") if ev.process.get(k)},
    }


def recommend(
    ents: dict[str, Any], label: str, playbooks: list[str]
) -> tuple[list[str], list[dict[str, Any]]]:
    """Recommendations and approval-gated proposed actions for a verdict."""
    if label in ("benign", "inconclusive"):
        text = (
            "Evidence contradicts the detection; resolve as benign after review"
            if label == "benign"
            else (
                "The alert's events could not be read; collect them (or widen the time range) before deciding"
            )
        )
        return [text], []
    acting = label == "malicious"
    recs: list[str] = []
    actions: list[dict[str, Any]] = []
    for host in ents.get("hosts", []):
        if acting:
            recs.append(
                f"Isolate host {host} (isolate_endpoint, needs approval) and collect a triage package"
            )
            actions.append({"action": "isolate_endpoint", "target": host, "requires_approval": True})
        else:
            recs.append(f"Review host {host}: collect its process, logon and persistence artefacts")
    for user in ents.get("users", []):
        if BUILTIN_USER.match(user):
            if user.upper().startswith("IIS APPPOOL\\"):
                recs.append(
                    f"Inspect the web root served by {user} on {', '.join(ents['hosts'])} "
                    "for web shells; recycle the app pool"
                )
            continue
        if acting:
            recs.append(f"Disable user {user} and reset its credentials (disable_user, needs approval)")
            actions.append({"action": "disable_user", "target": user, "requires_approval": True})
        else:
            recs.append(f"Confirm with user {user} whether the activity was expected")
    for path in ents.get("files", []):
        recs.append(f"Quarantine file {path} (quarantine_file, needs approval)")
        if acting:
            actions.append({"action": "quarantine_file", "target": path, "requires_approval": True})
    for value in ents.get("indicators", []):
        kind = "block_ip" if IPV4.match(value) else "block_indicator"
        recs.append(f"Block indicator {value} ({kind}, needs approval)")
        if acting:
            actions.append({"action": kind, "target": value, "requires_approval": True})
    for name in playbooks:
        recs.append(f"Run playbook {name} (needs human approval)")
        actions.append({"action": "execute_playbook", "playbook": name, "requires_approval": True})
    return recs, actions
